"""Tables of the counter screen that follow their read model by targeted updates.

A full rebuild of a few thousand rows costs hundreds of milliseconds; a key press changes a handful
of rows, so the tables diff the new rows against what they show and touch only the difference.

DataTable keys all its render caches by one counter that every change bumps, so taking the called
ticket off the queue re-renders every visible cell through Rich (most of an F2's frame). The lines
here keep a second cache keyed by what a line shows (its row's content version, zebra stripe,
cursor, width, styles) and not by its position.
"""

from __future__ import annotations

from contextlib import contextmanager
from itertools import count, islice
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.strip import Strip
from textual.widgets import DataTable

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from textual import events
    from textual.coordinate import Coordinate

Row = TypeVar("Row")
Cells = tuple[str | Text, ...]
LINE_CACHE_SIZE = 400  # both zebra stripes and the cursor of a screenful of rows, with room to scroll


class DiffTable(DataTable[str | Text], Generic[Row]):
    """A DataTable keyed by domain id that applies a new list of rows as a diff."""

    def __init__(
        self,
        columns: Sequence[tuple[str, str]],
        row_key: Callable[[Row], str],
        cells: Callable[[Row], Cells],
        *,
        window: int | None = None,
        **kwargs: Any,
    ) -> None:
        """`window`: show only the first rows of the list, this many at first and a further chunk of
        this size whenever the clerk scrolls or moves the cursor near the end (None: all rows)."""
        # Before DataTable's constructor: its reactive watchers already use them.
        self._lines_cache: LRUCache[tuple[object, ...], tuple[int, Strip]] = LRUCache(LINE_CACHE_SIZE)
        self._window_step = window
        self._window = window
        self._wanted: dict[str, Cells] = {}  # row key -> cells of every row of the list, in order
        self._shown: dict[str, Cells] = {}  # the window's rows: the first of `_wanted`, on screen
        self._changing = False
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._column_spec = columns
        self._row_key = row_key
        self._cells = cells
        self._versions: dict[str, int] = {}  # row key -> version of its cells, for the line cache
        self._next_version = count()

    async def _on_idle(self, event: events.Idle) -> None:
        # DataTable measures new cells on idle, but cells already rendered keep their old, narrower
        # width in its render caches (Textual 8.2.8); drop the caches when a column grew.
        widths = [column.content_width for column in self.columns.values()]
        await super()._on_idle(event)
        if widths != [column.content_width for column in self.columns.values()]:
            self._clear_caches()
            self.refresh()

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._lines_cache.clear()

    def notify_style_update(self) -> None:
        self._lines_cache.clear()  # a theme or focus change restyles every line
        super().notify_style_update()

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """A line as DataTable renders it, but cached by what the line shows rather than by its
        position: after a removal the rows below shift by one and find their line from the previous
        press, when they stood at the other zebra stripe. Only the row index that DataTable writes
        into the segments' metadata (read back on a click) is brought up to date."""
        header_height = self.header_height if self.show_header else 0
        if y < header_height or self.fixed_rows or self.fixed_columns or self._should_render_row_labels:
            return super()._render_line(y, x1, x2, base_style)
        try:
            row_key, line_no = self._get_offsets(y)
        except LookupError:
            return super()._render_line(y, x1, x2, base_style)
        row_index = self._row_locations.get(row_key)
        if row_index is None or row_key.value not in self._versions:
            return super()._render_line(y, x1, x2, base_style)
        key = (
            row_key,
            self._versions[row_key.value],
            line_no,
            row_index % 2,  # the zebra stripe
            self.cursor_coordinate.row == row_index,
            self.hover_coordinate.row == row_index,
            x1,
            x2,
            self.size.width,
            base_style,
            self.cursor_type,
            self.show_cursor,
            self._show_hover_cursor,
            self._pseudo_class_state,
        )
        cached = self._lines_cache.get(key)
        if cached is None:
            strip = super()._render_line(y, x1, x2, base_style)
            self._lines_cache[key] = (row_index, strip)
            return strip
        rendered_at, strip = cached
        if rendered_at == row_index:
            return strip
        return Strip(_moved_to_row(strip, row_index), strip.cell_length)

    def on_mount(self) -> None:
        for key, label in self._column_spec:
            self.add_column(label, key=key)

    @property
    def shown_keys(self) -> list[str]:
        return list(self._shown)

    def remove_key(self, key: str) -> None:
        """Drop one row at once (e.g. the ticket just called) before the fresh list arrives; the next
        row of the list moves into the window."""
        self._wanted.pop(key, None)
        if key in self._shown:
            self._drop(key)
            if self._window is not None and len(self._shown) < min(self._window, len(self._wanted)):
                following = next(islice(self._wanted, len(self._shown), None))
                with self._rows_changing():
                    self._add(following, self._wanted[following])

    def apply(self, rows: Sequence[Row]) -> None:
        self._wanted = {self._row_key(row): _as_text(self._cells(row)) for row in rows}
        self._show_window()

    def _show_window(self) -> None:
        with self._rows_changing():
            self._show_rows(dict(islice(self._wanted.items(), self._window)))

    @contextmanager
    def _rows_changing(self) -> Iterator[None]:
        """The cursor moves as rows come and go: the window does not grow meanwhile."""
        self._changing = True
        try:
            yield
        finally:
            self._changing = False

    def _show_rows(self, wanted: dict[str, Cells]) -> None:
        for key in [key for key in self._shown if key not in wanted]:
            self._drop(key)
        column_keys = [key for key, _label in self._column_spec]
        for key, cells in wanted.items():
            old = self._shown.get(key)
            if old is None:
                self._add(key, cells)
            elif old != cells:
                for column, before, after in zip(column_keys, old, cells, strict=True):
                    if before != after:
                        self.update_cell(key, column, after)
                self._versions[key] = next(self._next_version)
                self._shown[key] = cells
        if list(self._shown) != list(wanted):
            self._reorder(list(wanted))
        self._shown = {key: self._shown[key] for key in wanted}

    def _add(self, key: str, cells: Cells) -> None:
        self.add_row(*cells, key=key)
        self._shown[key] = cells
        self._versions[key] = next(self._next_version)

    def _drop(self, key: str) -> None:
        del self._shown[key]
        self._versions.pop(key, None)
        self.remove_row(key)

    # -- the window grows as the clerk looks further down ------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._grow_window(self.scroll_offset.y + self.size.height)

    def watch_cursor_coordinate(self, old_coordinate: Coordinate, new_coordinate: Coordinate) -> None:
        super().watch_cursor_coordinate(old_coordinate, new_coordinate)
        self._grow_window(new_coordinate.row + 1)

    def _grow_window(self, lowest_seen_row: int) -> None:
        """Show a further chunk once the clerk sees or reaches rows within a chunk of the end."""
        step = self._window_step
        if step is None or self._window is None or self._changing or len(self._shown) >= len(self._wanted):
            return
        if lowest_seen_row + step // 2 >= len(self._shown):
            self._window += step
            self._show_window()

    def _reorder(self, order: list[str]) -> None:
        # DataTable sorts by cell values only, so each row's cells (as text) carry its wanted place;
        # rows with identical cells are interchangeable anyway.
        position = {_plain(self._shown[key]): index for index, key in enumerate(order)}
        self.sort(key=lambda values: position.get(_plain(values), len(position)))


def _as_text(cells: Cells) -> Cells:
    """Cells as Rich `Text`: DataTable would parse plain strings as markup (slow, and a name with
    brackets would be mangled)."""
    return tuple(cell if isinstance(cell, Text) else Text(cell, no_wrap=True, end="") for cell in cells)


def _plain(cells: Sequence[object]) -> tuple[str, ...]:
    return tuple(str(cell) for cell in cells)


def _moved_to_row(strip: Strip, row_index: int) -> list[Segment]:
    """The strip's segments with the row index in their metadata set to `row_index`."""
    moved: dict[Style, Style] = {}
    segments = []
    for original in strip:
        style = original.style
        if style is not None and style._meta is not None and "row" in style.meta:
            new_style = moved.get(style)
            if new_style is None:
                new_style = moved[style] = style + Style.from_meta({**style.meta, "row": row_index})
            segments.append(Segment(original.text, new_style, original.control))
        else:
            segments.append(original)
    return segments
