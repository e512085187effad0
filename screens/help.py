"""F1: the keys of the counter and what they do, as the current keymap has them."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from workstation.i18n import _

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual.app import ComposeResult


@runtime_checkable
class ExplainsRowKeys(Protocol):
    """A screen whose tables act on keys of their own (Enter on a row): the help lists them too."""

    def row_keys(self) -> list[tuple[str, str]]: ...


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,q", "close", _("Schließen"), id="help-close")]

    def __init__(self, keys: Sequence[tuple[str, str]]) -> None:
        super().__init__(classes="dialog")
        self._keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body wide"):
            yield Label(_("Hilfe – Tastenbelegung"), classes="dialog-title")
            table: DataTable[str] = DataTable(cursor_type="none", id="help-keys")
            table.add_columns(_("Taste"), _("Aktion"))
            table.add_rows(self._keys)
            yield table
            yield Static(
                _(
                    "Strg+P öffnet die Befehlspalette: jede Aktion ist dort auch per Name erreichbar. "
                    "Esc schließt Dialoge."
                ),
                classes="hint",
            )

    def action_close(self) -> None:
        self.dismiss(None)
