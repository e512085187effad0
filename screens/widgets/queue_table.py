"""Tables of the counter screen that follow their read model by targeted updates.

A full rebuild of a few thousand rows costs hundreds of milliseconds; a key press changes a handful
of rows, so the tables diff the new rows against what they show and touch only the difference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from rich.text import Text
from textual import events
from textual.widgets import DataTable

Row = TypeVar("Row")
Cells = tuple[str | Text, ...]


class DiffTable(DataTable[str | Text], Generic[Row]):
    """A DataTable keyed by domain id that applies a new list of rows as a diff."""

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
        self._shown: dict[str, Cells] = {}  # row key -> cells on screen, in screen order

    async def _on_idle(self, event: events.Idle) -> None:
        # DataTable measures new cells on idle, but cells already rendered keep their old, narrower
        # width in its render caches (Textual 8.2.8); drop the caches when a column grew.
        widths = [column.content_width for column in self.columns.values()]
        await super()._on_idle(event)
        if widths != [column.content_width for column in self.columns.values()]:
            self._clear_caches()
            self.refresh()

    def on_mount(self) -> None:
        for key, label in self._column_spec:
            self.add_column(label, key=key)

    @property
    def shown_keys(self) -> list[str]:
        return list(self._shown)

    def remove_key(self, key: str) -> None:
        """Drop one row at once (e.g. the ticket just called) before the fresh list arrives."""
        if key in self._shown:
            del self._shown[key]
            self.remove_row(key)

    def apply(self, rows: Sequence[Row]) -> None:
        wanted: dict[str, Cells] = {self._row_key(row): _as_text(self._cells(row)) for row in rows}
        for key in [key for key in self._shown if key not in wanted]:
            self.remove_key(key)
        column_keys = [key for key, _label in self._column_spec]
        appended: list[str] = []
        for key, cells in wanted.items():
            old = self._shown.get(key)
            if old is None:
                self.add_row(*cells, key=key)
                appended.append(key)
            elif old != cells:
                for column, before, after in zip(column_keys, old, cells, strict=True):
                    if before != after:
                        self.update_cell(key, column, after)
            self._shown[key] = cells
        if list(self._shown) != list(wanted):
            self._reorder(list(wanted))
        self._shown = {key: self._shown[key] for key in wanted}

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
