"""The F2 references: a minimal Textual app whose F2 updates one panel from a thread worker (the
frame floor), optionally also removing the first row of a 100-row DataTable (naive Textual).

Measured by bench/keypress_f2.py with the same function as Tresen's F2 (bench/key_to_frame.py).
"""

from __future__ import annotations

from itertools import count
from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static

TABLE_ROWS = 100
COLUMNS = ("Nummer", "Wartezeit", "Status", "Dienstleistungen", "Fälligkeit")


class F2ReferenceApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f2", "call_next", "Aufrufen")]

    def __init__(self, *, with_table: bool) -> None:
        super().__init__()
        self.with_table = with_table
        self.called = 0  # the number the panel shows, once the worker's result is applied
        self._numbers = count(1)
        self._tickets = count(1)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Kein Aufruf", id="panel")
        if self.with_table:
            yield DataTable(id="queue", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        if self.with_table:
            self.table.add_columns(*COLUMNS)
            for _ in range(TABLE_ROWS):
                self.add_ticket()

    @property
    def table(self) -> DataTable[str]:
        return self.query_one("#queue", DataTable)

    def add_ticket(self) -> None:
        """One more waiting ticket at the end (between presses: the table keeps 100 rows)."""
        n = next(self._tickets)
        cells = (f"A{n:03d}", f"{n % 40} min", "wartet", "Personalausweis", "Ohne Termin")
        self.table.add_row(*cells, key=str(n))

    def action_call_next(self) -> None:
        self.call_in_worker()

    @work(thread=True, exclusive=True)
    def call_in_worker(self) -> None:
        number = next(self._numbers)  # the "command": trivial, so the figure is the frame's cost
        self.call_from_thread(self.show_called, number)

    def show_called(self, number: int) -> None:
        self.query_one("#panel", Static).update(f"Aufgerufen: A{number:03d}")
        if self.with_table:
            self.table.remove_row(str(number))
        self.called = number
