"""Textual's own English strings, in the UI language: the command palette's "No matches found" and
the select menu's "Dismiss menu".

Textual offers no public hook for either (the texts are literals in its code), so these subclasses
replace exactly the two places, for the pinned Textual version (pyproject.toml pins it exactly);
tests/ui/test_language.py shows the German texts, so an upgrade that moves them fails loudly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.align import Align
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.command import CommandList, CommandPalette
from textual.widgets import Select
from textual.widgets._select import SelectCurrent, SelectOverlay
from textual.widgets.option_list import Option

from workstation.i18n import _

if TYPE_CHECKING:
    from textual.app import ComposeResult


class Palette(CommandPalette):
    """The command palette, with "Keine Treffer" when a search finds nothing."""

    def _start_no_matches_countdown(self, search_value: str) -> None:
        # Textual 8.2.8's method, with the text translated.
        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(
                        Align.center(Text(_("Keine Treffer"), style="not bold")),
                        disabled=True,
                        id=self._NO_MATCHES,
                    )
                )
                self._list_visible = True
            else:
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)


class _MenuOverlay(SelectOverlay):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss", _("Menü schließen"))]


class Choose(Select[str]):
    """A `Select` whose open menu says how to close it in the UI language."""

    def compose(self) -> ComposeResult:
        # Textual 8.2.8's Select.compose with the overlay above.
        yield SelectCurrent(self.prompt)
        yield _MenuOverlay(type_to_search=self._type_to_search).data_bind(compact=Select.compact)
