"""The counter's queue as a view on Textual's line API: only the lines on screen are rendered.

A DataTable renders through Rich and keys its caches by one counter that every change bumps, so
taking the called ticket off a 2,000-row queue re-renders every visible cell (most of an F2's frame,
see docs/benchmarks.md). This view keeps the rows, renders a line only when Textual asks for it
(`render_line`, for the lines on screen), and caches each row's cells as a `Strip` keyed by the row,
so a removal re-renders nothing but the few visible lines that moved, from cached strips. Public
Textual API only (`ScrollView`, `Strip`, `virtual_size`, component classes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from textual import events

Row = TypeVar("Row")
Cells = tuple[str | Text, ...]
CELL_PADDING = 1  # blank cells either side of a cell's text, as DataTable draws them
NARROWEST = 4  # a column that gives way keeps at least this: three characters and "…"
HEADER_LINES = 1


class QueueView(ScrollView, Generic[Row], can_focus=True):
    """Rows keyed by domain id, a header line, a row cursor, zebra stripes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", show=False),
        Binding("down", "cursor_down", show=False),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
        Binding("home", "first", show=False),
        Binding("end", "last", show=False),
        Binding("enter", "choose", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "queue-view--header",
        "queue-view--cursor",
        "queue-view--even-row",
        "queue-view--odd-row",
    }

    # DataTable's looks, so the screen keeps its appearance.
    DEFAULT_CSS = """
    QueueView {
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .queue-view--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .queue-view--header { background-tint: $foreground 5%; }
        }
        &:dark > .queue-view--even-row { background: $surface-darken-1 40%; }
        & > .queue-view--header { text-style: bold; background: $panel; color: $foreground; }
        & > .queue-view--even-row { background: $surface-lighten-1 50%; }
        & > .queue-view--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    class Highlighted(Message):
        """The cursor is on another row (`key` None: the queue is empty)."""

        def __init__(self, view: QueueView[object], key: str | None) -> None:
            super().__init__()
            self.view = view
            self.key = key

        @property
        def control(self) -> QueueView[object]:
            return self.view

    class RowChosen(Message):
        """Enter on a row."""

        def __init__(self, view: QueueView[object], key: str) -> None:
            super().__init__()
            self.view = view
            self.key = key

        @property
        def control(self) -> QueueView[object]:
            return self.view

    def __init__(
        self,
        columns: Sequence[tuple[str, str]],
        row_key: Callable[[Row], str],
        cells: Callable[[Row], Cells],
        *,
        gives_way: Sequence[str] = (),
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`columns`: (key, label) pairs; `cells(row)`: one cell per column, `str` or Rich `Text`.
        `gives_way`: the keys of the columns that narrow, in this order, so that the line fits the
        view's width: each down to its label's width (its texts cut with "…"), then, if that is not
        enough, down to `NARROWEST` (its label cut too), before the next one narrows."""
        super().__init__(name=name, id=id, classes=classes)
        self._labels = tuple(Text(label, no_wrap=True, end="") for _key, label in columns)
        keys = [key for key, _label in columns]
        self._narrowing = tuple(keys.index(key) for key in gives_way)
        self._row_key = row_key
        self._cells = cells
        self._keys: list[str] = []  # row keys in display order
        self._rows: dict[str, tuple[Row, tuple[Text, ...]]] = {}
        self._widths: tuple[int, ...] = tuple(label.cell_len for label in self._labels)
        self._strips: dict[str, Strip] = {}  # row key -> its cells, rendered at the current widths
        self._header: Strip | None = None
        self._styles: dict[str, Style] = {}
        self._cursor = 0
        self._announced: str | None = None
        self._set_virtual_size()

    # -- what the screen reads --------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def shown_keys(self) -> list[str]:
        return list(self._keys)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def highlighted_key(self) -> str | None:
        return self._keys[self._cursor] if self._keys else None

    def row(self, key: str) -> Row:
        """The row as last applied (KeyError if it is not shown)."""
        return self._rows[key][0]

    def get_row_index(self, key: str) -> int:
        return self._keys.index(key)

    # -- changing the rows --------------------------------------------------------------------------

    def apply(self, rows: Sequence[Row], *, restyle: bool = False) -> None:
        """Show `rows` in this order; lines whose row is unchanged and did not move are not redrawn.

        A row equal to the one shown keeps its cells (2,000 waiting tickets: building them all was
        most of a refresh); `restyle` builds every row's cells anew, for when what `cells` reads
        besides the row changed (the office's service level colours the waiting times)."""
        before = self._keys
        highlighted = self.highlighted_key
        old_rows = {} if restyle else self._rows
        new_rows: dict[str, tuple[Row, tuple[Text, ...]]] = {}
        for row in rows:
            key = self._row_key(row)
            shown = old_rows.get(key)
            new_rows[key] = (
                shown if shown is not None and shown[0] == row else (row, _as_text(self._cells(row)))
            )
        changed = [
            key
            for key, entry in new_rows.items()
            if key in self._rows
            and entry is not self._rows[key]
            and _looks(self._rows[key][1]) != _looks(entry[1])
        ]
        for key in [*changed, *(key for key in self._rows if key not in new_rows)]:
            self._strips.pop(key, None)
        self._rows = new_rows
        self._keys = list(new_rows)
        self._remeasure()
        if highlighted is not None and highlighted in new_rows:
            self._cursor = self._keys.index(highlighted)
        self._clamp_cursor()
        if self._keys == before and self._header is not None:
            for key in changed:
                self.refresh_line(HEADER_LINES + self._keys.index(key))
        else:
            self.refresh()
        self._set_virtual_size()
        self._announce()

    def remove_key(self, key: str) -> None:
        """Drop one row at once (e.g. the ticket just called); the cursor stays on its row, or moves
        to the next one if it was on the removed row."""
        if key not in self._rows:
            return
        index = self._keys.index(key)
        del self._keys[index]
        del self._rows[key]
        self._strips.pop(key, None)
        if index < self._cursor:
            self._cursor -= 1
        self._clamp_cursor()
        # The lines from the removed row down move up by one; those above it stay as they are.
        top = max(index, round(self.scroll_offset.y))
        self.refresh_lines(HEADER_LINES + top, self.size.height)
        self._set_virtual_size()
        self._announce()

    # -- the cursor --------------------------------------------------------------------------------

    def move_cursor(self, row: int) -> None:
        self._move_to(row)

    def action_cursor_up(self) -> None:
        self._move_to(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self._move_to(self._cursor + 1)

    def action_page_up(self) -> None:
        self._move_to(self._cursor - self._page_rows)

    def action_page_down(self) -> None:
        self._move_to(self._cursor + self._page_rows)

    def action_first(self) -> None:
        self._move_to(0)

    def action_last(self) -> None:
        self._move_to(len(self._keys) - 1)

    def action_choose(self) -> None:
        key = self.highlighted_key
        if key is not None:
            self.post_message(self.RowChosen(self, key))  # type: ignore[arg-type]

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y >= HEADER_LINES:
            self._move_to(round(self.scroll_offset.y) + offset.y - HEADER_LINES)

    @property
    def _page_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - HEADER_LINES)

    def _move_to(self, row: int) -> None:
        old = self._cursor
        self._cursor = row
        self._clamp_cursor()
        if self._cursor != old:
            self.refresh_line(HEADER_LINES + old)
            self.refresh_line(HEADER_LINES + self._cursor)
        self._scroll_cursor_into_view()
        self._announce()

    def _clamp_cursor(self) -> None:
        self._cursor = max(0, min(self._cursor, len(self._keys) - 1))

    def _scroll_cursor_into_view(self) -> None:
        top = round(self.scroll_offset.y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= top + self._page_rows:
            self.scroll_to(y=self._cursor - self._page_rows + 1, animate=False)

    def _announce(self) -> None:
        key = self.highlighted_key
        if key != self._announced:
            self._announced = key
            self.post_message(self.Highlighted(self, key))  # type: ignore[arg-type]

    # -- rendering ----------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()  # a theme or focus change restyles every line; the cells stay
        self._header = None

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self._base_style()
        if y < HEADER_LINES:
            if self._header is None:
                self._header = self._render_cells(self._labels)
            strip = self._header.apply_style(base + self._style("queue-view--header"))
            return strip.crop_extend(scroll_x, scroll_x + width, base + self._style("queue-view--header"))
        index = scroll_y + y - HEADER_LINES
        if index >= len(self._keys):
            return Strip.blank(width, base)
        key = self._keys[index]
        cached = self._strips.get(key)
        if cached is None:
            cached = self._strips[key] = self._render_cells(self._rows[key][1])
        strip = cached
        stripe = base + self._style("queue-view--even-row" if index % 2 == 0 else "queue-view--odd-row")
        line = strip.apply_style(stripe).crop_extend(scroll_x, scroll_x + width, stripe)
        if index == self._cursor:
            cursor = self._style("queue-view--cursor")  # over the cells' own colours, as DataTable
            line = Strip(Segment.apply_style(line, post_style=cursor), line.cell_length)
        return line

    def _base_style(self) -> Style:
        """The widget's own style, once per style update: `rich_style` walks every ancestor, and a
        line is rendered ~27 times a frame (half the cost of an F2's queue lines when not cached)."""
        style = self._styles.get("")
        if style is None:
            style = self._styles[""] = self.rich_style
        return style

    def _style(self, component: str) -> Style:
        style = self._styles.get(component)
        if style is None:
            style = self._styles[component] = self.get_component_rich_style(component)
        return style

    def _render_cells(self, cells: Sequence[Text]) -> Strip:
        console = self.app.console
        padding = Segment(" " * CELL_PADDING)
        segments: list[Segment] = []
        for cell, width in zip(cells, self._widths, strict=True):
            fitted = cell.copy()
            fitted.truncate(width, overflow="ellipsis", pad=True)
            segments.append(padding)
            # Rich's Text.render leaves a Text's own style to the console (it applies it only with spans).
            segments.extend(
                Segment.apply_style(
                    fitted.render(console), console.get_style(fitted.style, default=Style.null())
                )
            )
            segments.append(padding)
        return Strip(segments, self._line_width).simplify()  # fewer, longer segments to write

    @property
    def _line_width(self) -> int:
        return sum(self._widths) + 2 * CELL_PADDING * len(self._widths)

    def on_resize(self) -> None:
        if self._remeasure():
            self.refresh()
            self._set_virtual_size()

    def _remeasure(self) -> bool:
        """Measure the columns again; True if their widths changed (the cached lines are dropped)."""
        widths = self._measure()
        if widths == self._widths:
            return False
        self._widths = widths
        self._strips.clear()
        self._header = None
        return True

    def _measure(self) -> tuple[int, ...]:
        widths = [label.cell_len for label in self._labels]
        for _row, cells in self._rows.values():
            for column, cell in enumerate(cells):
                widths[column] = max(widths[column], cell.cell_len)
        view_width = self.scrollable_content_region.width
        if view_width <= 0:
            return tuple(widths)
        # Each in turn down to its label, then, where that is not enough (80 columns), further with
        # its label cut too, before the next gives way: the one after it matters more (the due time).
        for column in self._narrowing:
            for floor in (self._labels[column].cell_len, NARROWEST):
                overflow = sum(widths) + 2 * CELL_PADDING * len(widths) - view_width
                if overflow <= 0:
                    return tuple(widths)
                widths[column] = max(min(floor, widths[column]), widths[column] - overflow)
        return tuple(widths)

    def _set_virtual_size(self) -> None:
        size = Size(self._line_width, HEADER_LINES + len(self._keys))
        if self._only_rows_changed(size):
            # A row more or less moves nothing on the screen but this view's own scrollbar thumb;
            # setting `virtual_size` would lay the whole screen out again (a third of F2's frame).
            self.set_reactive(QueueView.virtual_size, size)
            if self.show_vertical_scrollbar:
                self.vertical_scrollbar.window_virtual_size = size.height
            self.scroll_y = self.validate_scroll_y(self.scroll_y)
        else:
            self.virtual_size = size

    def _only_rows_changed(self, size: Size) -> bool:
        """Only the height changed, and the vertical scrollbar stays as it is (shown, or not)."""
        if (
            size.width != self.virtual_size.width
            or not self.container_size
            or self.styles.overflow_y != "auto"
            or self.show_horizontal_scrollbar
        ):
            return False
        return self.show_vertical_scrollbar == (size.height > self.container_size.height)


def _as_text(cells: Cells) -> tuple[Text, ...]:
    """Cells as Rich `Text`, plain strings never parsed as markup (a name with brackets stays)."""
    return tuple(cell if isinstance(cell, Text) else Text(cell, no_wrap=True, end="") for cell in cells)


def _looks(cells: Sequence[Text]) -> list[tuple[str, object, object]]:
    """What a row's cells show: `Text` equality ignores the base style (a waiting time turning red)."""
    return [(cell.plain, cell.style, cell.spans) for cell in cells]
