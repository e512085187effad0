"""A checkbox whose state reads without colour: ✓ when ticked, empty when not (Textual's own shows
the same X for both and tells them apart by colour only)."""

from __future__ import annotations

from textual.widgets import Checkbox


class DocumentCheckbox(Checkbox):
    BUTTON_INNER = " "

    def watch_value(self) -> None:
        # Textual draws BUTTON_INNER in the box for both states; ours shows the state itself.
        self.BUTTON_INNER = "✓" if self.value else " "
        super().watch_value()  # the `-on` class and the Changed message
