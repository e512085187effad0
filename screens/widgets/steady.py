"""Text widgets that change often without moving anything else: the current-ticket panel and the
queue's title change on every F2.

`Static.update` asks for a layout of the whole screen, which arranges every widget again and
repaints those it touched (the scrollbars among them): about a third of the frame after F2 with a
full queue (bench/keypress_f2.py). When the new content is as tall as the old at the same width,
nothing else can move, so repainting the widget itself is enough.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.css.scalar import Unit
from textual.visual import VisualType, visualize
from textual.widgets import Label, Static

if TYPE_CHECKING:
    from textual.css.styles import RulesMap


class SteadyStatic(Static):
    """A Static whose `update` lays the screen out again only when its height may change."""

    _measured: tuple[int, int | None] | None = None  # (content width, box height) of what is shown

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        super().update(content, layout=layout and self._height_may_change(content))

    def _height_may_change(self, content: VisualType) -> bool:
        width = self.content_size.width
        styles = self.styles
        if not width or (styles.width is not None and styles.width.is_auto):
            self._measured = None  # not laid out yet, or as wide as its text: only a layout knows
            return True
        visual = visualize(self, content, markup=self._render_markup)
        # Textual's own layout passes the widget's styles as the rules (Widget.get_content_height).
        content_height = visual.get_height(cast("RulesMap", styles), width)
        measured = (width, self._box_height(content_height))
        unchanged = measured == self._measured and measured[1] is not None
        self._measured = measured
        return not unchanged

    def _box_height(self, content_height: int) -> int | None:
        """The height the layout would give the widget for content this tall, where that is plain
        (limits in cells, border-box sizing); None where only a layout can tell."""
        styles = self.styles
        if styles.box_sizing != "border-box":
            return None
        height = content_height + styles.gutter.height
        for limit, pick in ((styles.min_height, max), (styles.max_height, min)):
            if limit is not None:
                if limit.unit is not Unit.CELLS:
                    return None
                height = pick(height, int(limit.value))
        return height


class SteadyLabel(SteadyStatic, Label):
    """A Label (one styled line, as wide as its column) updated in place; see `SteadyStatic`."""
