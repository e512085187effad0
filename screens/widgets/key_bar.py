"""The keys of the current screen on as many lines as they need: the footer's stand-in on narrow
terminals (80 columns), where one footer line would cut off the actions at its end."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.screen import Screen
from textual.widgets import Static

if TYPE_CHECKING:
    from textual import events

NARROW_COLUMNS = 120  # below this the footer line no longer holds the counter's keys
SEPARATOR = "  "


class KeyBar(Static):
    """Shown only on screens with the class "narrow" (screens/global.tcss)."""

    def show_keys(self, keys: list[tuple[str, str]], width: int) -> None:
        """`keys`: (key as shown, label) in footer order, on lines as wide as the bar (`width` cells
        with its padding); a line breaks between two keys, never inside one ("F6" at the end of one
        line and "Parken" on the next)."""
        width -= self.styles.gutter.width  # its padding
        text = Text()
        line_width = 0
        for key, label in keys:
            entry_width = Text(f"{key} {label}").cell_len
            if line_width and line_width + len(SEPARATOR) + entry_width > width:
                text.append("\n")
                line_width = 0
            elif line_width:
                text.append(SEPARATOR)
                line_width += len(SEPARATOR)
            text.append(key, style="bold reverse")
            text.append(f" {label}")
            line_width += entry_width
        self.update(text)


def footer_keys(screen: Screen[object]) -> list[tuple[str, str]]:
    """The keys the footer would show for `screen`, as bound now (keymap applied)."""
    return [
        (screen.app.get_key_display(active.binding), active.binding.description)
        for active in screen.active_bindings.values()
        if active.binding.show and active.binding.description
    ]


class NarrowLayout:
    """For screens with a `KeyBar`: below `NARROW_COLUMNS` the screen gets the class "narrow"
    (the stylesheet then narrows columns) and the key bar replaces the footer."""

    def on_resize(self, event: events.Resize) -> None:
        assert isinstance(self, Screen)
        narrow = event.size.width < NARROW_COLUMNS
        self.set_class(narrow, "narrow")
        if narrow:
            self.query_one(KeyBar).show_keys(footer_keys(self), event.size.width)
