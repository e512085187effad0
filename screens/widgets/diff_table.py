"""The counter's appointment and search tables: DataTables that follow their read model by targeted
updates. A full rebuild of a few hundred rows costs far more than the handful of rows a refresh
changes, so a new list is diffed against what the table shows and only the difference is touched.

(The queue, which loses a row on every F2, is a line-API view of its own: `queue_view.py`.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from rich.text import Text
from textual.widgets import DataTable

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from textual import events
    from textual.geometry import Size


Row = TypeVar("Row")
Cells = tuple[str | Text, ...]


class DiffTable(DataTable[str | Text], Generic[Row]):
    """A DataTable keyed by domain id that applies a new list of rows as a diff.

    `cells` must depend on the row alone: a row equal to the one shown keeps its cells, so a refresh
    of a day's 5,000 appointments builds the cells of the few that changed (bench/keypress_f2.py:
    building every row's cells was ~250 ms of main thread per refresh under the profiler)."""

    def __init__(
        self,
        columns: Sequence[tuple[str, str]],
        row_key: Callable[[Row], str],
        cells: Callable[[Row], Cells],
        **kwargs: Any,
    ) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._column_spec = columns
        self._row_key = row_key
        self._cells = cells
        self._shown: dict[str, Cells] = {}  # row key -> cells on screen, in order
        self._rows: dict[str, Row] = {}  # row key -> the row those cells were made from
        self._top_row_wanted: int | None = None  # a row to scroll to once the table is that tall
        self._cursor_when_wanted = 0  # the cursor row when that scroll was asked for

    def on_mount(self) -> None:
        for key, label in self._column_spec:
            self.add_column(label, key=key)

    @property
    def shown_keys(self) -> list[str]:
        return list(self._shown)

    def apply(self, rows: Sequence[Row]) -> None:
        keyed = {self._row_key(row): row for row in rows}
        wanted = {key: self._cells_of(key, row) for key, row in keyed.items()}
        for key in [key for key in self._shown if key not in wanted]:
            del self._shown[key]
            self.remove_row(key)
        column_keys = [key for key, _label in self._column_spec]
        for key, cells in wanted.items():
            old = self._shown.get(key)
            if old is None:
                self.add_row(*cells, key=key)
            elif old is not cells and old != cells:
                for column, before, after in zip(column_keys, old, cells, strict=True):
                    if before != after:
                        self.update_cell(key, column, after, update_width=True)
            self._shown[key] = cells
        if list(self._shown) != list(wanted):
            self._reorder(list(wanted))
        self._shown = {key: self._shown[key] for key in wanted}
        self._rows = keyed

    def scroll_row_to_top(self, index: int) -> None:
        """Show row `index` as the first line, as soon as the table can scroll there.

        DataTable measures new rows when it next idles, and the layout after that decides the
        scrollbars; until both, a scroll is clamped to the top. Counting refreshes instead lost the
        race on a loaded machine, and the counter opened at the day's first slot. A layout still
        settling can clamp it too (at 80×24 the table is taller until the narrow stylesheet
        applies), so a scroll that stopped short is tried again whenever the table's size changes,
        until it lands or the clerk moves: a cursor key or the mouse wheel (their place wins).
        Scrolls by the program do not count: DataTable keeps its cursor in view by scrolling
        itself, and taking that for the clerk's scroll left the list at 09:00 once in ~40 loaded
        runs at 80×24 (stop 27)."""
        self._top_row_wanted = index
        self._cursor_when_wanted = self.cursor_row
        if self._measured(index):
            self.call_after_refresh(self._scroll_to_wanted_row)

    def watch_virtual_size(self, _size: Size) -> None:
        self._retry_wanted_row()

    def on_resize(self, _event: events.Resize) -> None:
        self._retry_wanted_row()

    def on_mouse_scroll_down(self) -> None:
        self._top_row_wanted = None  # the clerk scrolls: their place wins

    def on_mouse_scroll_up(self) -> None:
        self._top_row_wanted = None

    def _retry_wanted_row(self) -> None:
        if self._top_row_wanted is None or not self._measured(self._top_row_wanted):
            return
        if self.cursor_row != self._cursor_when_wanted:
            self._top_row_wanted = None  # the clerk moved the cursor since: their place wins
            return
        self.call_after_refresh(self._scroll_to_wanted_row)  # the layout this size asks for

    def _measured(self, index: int) -> bool:
        return self.virtual_size.height > index + self.header_height

    def _scroll_to_wanted_row(self) -> None:
        if self._top_row_wanted is None:
            return
        self.scroll_to(y=self._top_row_wanted, animate=False, immediate=True)
        if self.scroll_y == self._top_row_wanted:
            self._top_row_wanted = None

    def _cells_of(self, key: str, row: Row) -> Cells:
        shown = self._shown.get(key)
        if shown is not None and self._rows.get(key) == row:
            return shown
        return _as_text(self._cells(row))

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
