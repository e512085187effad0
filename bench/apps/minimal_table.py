"""The cold-start reference: a minimal Textual app (header, a 150-row DataTable, footer).

Started by bench/cold_start.py in the same pseudo-terminal harness as `tresen run`; it writes to the
pipe named by its last argument once the frame with the table is out, then quits.

    python bench/apps/minimal_table.py READY_FD
"""

from __future__ import annotations

import os
import sys

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header

ROWS = 150  # as many as the counter's appointment list in the cold-start store
COLUMNS = ("Uhrzeit", "Status", "Vorgangsnr.", "Name", "Dienstleistungen")


class MinimalTableApp(App[None]):
    def __init__(self, ready_fd: int) -> None:
        super().__init__()
        self.ready_fd = ready_fd

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="table")
        yield Footer()

    def on_mount(self) -> None:
        table: DataTable[str] = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        for n in range(ROWS):
            slot = f"{8 + n // 12:02d}:{n % 12 * 5:02d}"
            table.add_row(slot, "gebucht", f"V-{n:06d}", f"Name {n}", "Ausweis")
        self.call_after_refresh(self.report_ready)  # once the frame with the table is out

    def report_ready(self) -> None:
        os.write(self.ready_fd, b"ready")
        self.exit()


if __name__ == "__main__":
    MinimalTableApp(int(sys.argv[-1])).run()
