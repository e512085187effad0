"""Tables of the counter screen that follow their read model by targeted updates.

A full rebuild of a few thousand rows costs hundreds of milliseconds; a key press changes a handful
of rows, so the tables diff the new rows against what they show and touch only the difference.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

from rich.text import Text
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
        wanted: dict[str, Cells] = {self._row_key(row): self._cells(row) for row in rows}
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
        # DataTable sorts by cell values only; the first cell (the ticket number or slot+reference)
        # identifies a row uniquely within one list, so it carries the wanted position.
        position: dict[Hashable, int] = {self._shown[key][0]: index for index, key in enumerate(order)}
        first_column = self._column_spec[0][0]
        self.sort(first_column, key=lambda value: position.get(value, len(position)))
