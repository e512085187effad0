"""A checkbox whose state reads without colour: ✓ when ticked, empty when not (Textual's own shows
the same X for both and tells them apart by colour only)."""

from __future__ import annotations

from textual.widgets import Checkbox


class DocumentCheckbox(Checkbox):
    @property  # type: ignore[override]
    def BUTTON_INNER(self) -> str:  # noqa: N802 - Textual's name for the character inside the box
        return "✓" if self.value else " "
