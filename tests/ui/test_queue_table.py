"""The counter's DiffTable: its position-independent line cache draws exactly what DataTable draws, and
a windowed table holds the first rows of the list, refills after a removal and grows when scrolled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from screens.widgets.queue_table import DiffTable

if TYPE_CHECKING:
    from rich.segment import Segment


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    state: str


def items(count: int, start: int = 0) -> list[Item]:
    return [Item(f"t{n}", f"A{n:03d}", "wartet" if n % 3 else "geparkt") for n in range(start, start + count)]


class TableApp(App[None]):
    def __init__(self, window: int | None) -> None:
        super().__init__()
        self.table: DiffTable[Item] = DiffTable(
            [("label", "Nummer"), ("state", "Status")],
            row_key=lambda item: item.key,
            cells=lambda item: (item.label, item.state),
            window=window,
            id="table",
        )

    def compose(self) -> ComposeResult:
        yield self.table


def lines_as_drawn(table: DiffTable[Item]) -> tuple[list[list[Segment]], list[list[Segment]]]:
    """Every visible line, through the table's cache and through DataTable's own rendering."""
    width = table.size.width
    cached: list[list[Segment]] = []
    reference: list[list[Segment]] = []
    for y in range(table.size.height):
        base = table.rich_style
        cached.append(list(table._render_line(y, 0, width, base)))
        reference.append(list(DataTable._render_line(table, y, 0, width, base)))
    return cached, reference


async def test_cached_lines_are_datatables_lines_after_removals() -> None:
    app = TableApp(window=None)
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.table
        table.apply(items(40))
        await pilot.pause()
        removed = ["t0", "t3", "t1", "t2", "t10", "t4"]
        for key in removed:
            table.remove_key(key)
            await pilot.pause()
            cached, reference = lines_as_drawn(table)
            assert cached == reference  # text, colours, zebra stripe, cursor and the row in the metadata
        assert table.shown_keys == [item.key for item in items(40) if item.key not in removed]
        metas = [segment.style.meta.get("row") for segment in lines_as_drawn(table)[0][5] if segment.style]
        assert set(metas) == {4}  # line 5 = header + rows 0..4: the click lands on row 4


async def test_changed_cells_are_drawn_anew() -> None:
    app = TableApp(window=None)
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.table
        table.apply(items(10))
        await pilot.pause()
        lines_as_drawn(table)  # fill the cache
        table.apply([Item("t0", "A000", "aufgerufen"), *items(9, start=1)])
        await pilot.pause()
        cached, reference = lines_as_drawn(table)
        assert cached == reference
        assert "aufgeru" in "".join(segment.text for segment in cached[1])  # the column widens on idle


async def test_a_window_holds_the_first_rows_and_refills_after_a_removal() -> None:
    app = TableApp(window=10)
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.table
        table.apply(items(35))
        await pilot.pause()
        assert table.shown_keys == [f"t{n}" for n in range(10)]
        table.remove_key("t2")
        assert table.shown_keys == [f"t{n}" for n in (0, 1, *range(3, 11))]
        table.remove_key("t30")  # beyond the window: nothing on screen changes
        assert table.row_count == 10
        table.apply(items(35, start=100))  # a fresh list replaces the window
        await pilot.pause()
        assert table.shown_keys == [f"t{n}" for n in range(100, 110)]


async def test_a_window_grows_as_the_cursor_nears_its_end() -> None:
    app = TableApp(window=10)
    async with app.run_test(size=(60, 30)) as pilot:
        table = app.table
        table.apply(items(25))
        await pilot.pause()
        assert table.row_count == 10
        table.focus()
        for _ in range(5):  # half a step before the window's end
            await pilot.press("down")
        assert table.row_count == 20
        for _ in range(14):
            await pilot.press("down")
        assert table.row_count == 25
        assert table.shown_keys == [item.key for item in items(25)]
