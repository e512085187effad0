"""The queue view on Textual's line API: cursor keys, Enter, removals, targeted redraws, and only the
lines on screen rendered however many rows it holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import App, ComposeResult

from screens.widgets.queue_view import QueueView

if TYPE_CHECKING:
    from textual.message import Message
    from textual.strip import Strip

SIZE = (60, 12)  # the view fills the screen: a header line and 11 rows


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    state: str


def items(count: int, start: int = 0) -> list[Item]:
    return [Item(f"t{n}", f"A{n:03d}", "wartet" if n % 3 else "geparkt") for n in range(start, start + count)]


class CountingView(QueueView[Item]):
    """Records which lines Textual asked for (the line API's only way to draw)."""

    def __init__(self) -> None:
        super().__init__(
            [("label", "Nummer"), ("state", "Status")],
            row_key=lambda item: item.key,
            cells=lambda item: (item.label, Text(item.state, style="green")),
            id="queue",
        )
        self.rendered: list[int] = []

    def render_line(self, y: int) -> Strip:
        self.rendered.append(y)
        return super().render_line(y)


class ViewApp(App[None]):
    CSS = "#queue { height: 1fr; }"

    def __init__(self) -> None:
        super().__init__()
        self.view = CountingView()
        self.messages: list[Message] = []

    def compose(self) -> ComposeResult:
        yield self.view

    def on_queue_view_row_chosen(self, message: QueueView.RowChosen) -> None:
        self.messages.append(message)

    def on_queue_view_highlighted(self, message: QueueView.Highlighted) -> None:
        self.messages.append(message)


def screen_text(app: ViewApp) -> list[str]:
    view = app.view
    return [view.render_line(y).text for y in range(view.size.height)]


async def test_cursor_keys_move_over_the_rows_and_scroll() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        view.apply(items(100))
        await pilot.pause()
        assert view.highlighted_key == "t0"
        await pilot.press("down", "down")
        assert view.highlighted_key == "t2"
        await pilot.press("up")
        assert view.highlighted_key == "t1"
        await pilot.press("up", "up")  # stops at the first row
        assert view.highlighted_key == "t0"
        await pilot.press("pagedown")
        assert view.highlighted_key == "t11"  # one screenful of rows below the header
        await pilot.press("end")
        await pilot.pause()
        assert view.highlighted_key == "t99"
        assert view.scroll_offset.y == 100 + 1 - SIZE[1]  # the last row is on the last line
        assert screen_text(app)[-1].split() == ["A099", "geparkt"]
        assert screen_text(app)[0].split() == ["Nummer", "Status"]  # the header stays
        await pilot.press("pageup")
        assert view.highlighted_key == "t88"
        await pilot.press("home")
        await pilot.pause()
        assert view.highlighted_key == "t0"
        assert view.scroll_offset.y == 0
        highlighted = [m.key for m in app.messages if isinstance(m, QueueView.Highlighted)]
        assert highlighted == ["t0", "t1", "t2", "t1", "t0", "t11", "t99", "t88", "t0"]


async def test_enter_posts_row_chosen_with_the_highlighted_key() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        app.view.apply(items(30))
        await pilot.pause()
        await pilot.press("down", "down", "down", "enter")
        await pilot.pause()
        chosen = [m for m in app.messages if isinstance(m, QueueView.RowChosen)]
        assert [m.key for m in chosen] == ["t3"]
        assert chosen[0].control is app.view
        assert app.view.row("t3") == Item("t3", "A003", "geparkt")


async def test_enter_on_an_empty_queue_chooses_nothing() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert app.view.highlighted_key is None
        assert not [m for m in app.messages if isinstance(m, QueueView.RowChosen)]


def key_under_cursor(view: QueueView[Any]) -> str | None:
    return view.highlighted_key


async def test_remove_key_keeps_the_cursor_on_its_row_or_the_next() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        view.apply(items(5))
        view.move_cursor(row=2)
        await pilot.pause()
        view.remove_key("t0")  # above the cursor: the cursor stays on t2
        assert view.highlighted_key == "t2"
        assert view.cursor_row == 1
        view.remove_key("t2")  # under the cursor: the next row
        assert view.highlighted_key == "t3"
        view.remove_key("t4")
        view.remove_key("t3")  # the last rows: the cursor moves up
        assert view.highlighted_key == "t1"
        view.remove_key("unknown")  # not shown: nothing happens
        view.remove_key("t1")
        assert key_under_cursor(view) is None  # through a call: mypy still holds "t1" for the attribute
        assert view.row_count == 0
        await pilot.pause()
        assert screen_text(app)[1].strip() == ""
        highlighted = [m.key for m in app.messages if isinstance(m, QueueView.Highlighted)]
        assert highlighted == ["t0", "t2", "t3", "t1", None]


async def test_remove_key_shows_the_rows_below_moved_up() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        view.apply(items(40))
        await pilot.pause()
        view.rendered.clear()
        view.remove_key("t4")
        await pilot.pause()
        # Each line on screen at most once (the shorter scroll range makes Textual repaint the view).
        assert sorted(view.rendered) == sorted(set(view.rendered))
        assert set(range(5, SIZE[1])) <= set(view.rendered) <= set(range(SIZE[1]))
        labels = [line.split()[0] for line in screen_text(app)[1:]]
        assert labels == [f"A{n:03d}" for n in [0, 1, 2, 3, *range(5, 12)]]


async def test_apply_redraws_only_the_lines_of_changed_rows() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        rows = items(40)
        view.apply(rows)
        await pilot.pause()
        view.rendered.clear()
        view.apply(rows)  # nothing changed: nothing redrawn
        await pilot.pause()
        assert view.rendered == []
        rows[3] = Item("t3", "A003", "gerufen")  # as wide as "geparkt": the columns keep their widths
        view.apply(rows)
        await pilot.pause()
        assert view.rendered == [1 + 3]
        assert screen_text(app)[4].split() == ["A003", "gerufen"]
        view.rendered.clear()
        rows[4] = Item("t4", "A004", "aufgerufen")  # wider: every line is drawn at the new widths
        view.apply(rows)
        await pilot.pause()
        assert sorted(view.rendered) == list(range(SIZE[1]))


async def test_apply_notices_a_cell_whose_only_change_is_its_style() -> None:
    colour = {"t1": "green"}
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        view._cells = lambda item: (item.label, Text(item.state, style=colour.get(item.key, "")))
        rows = items(10)
        view.apply(rows)
        await pilot.pause()
        view.rendered.clear()
        colour["t1"] = "red"
        view.apply(rows, restyle=True)  # what the cells read besides the row changed
        await pilot.pause()
        assert view.rendered == [2]
        state_segment = next(s for s in view.render_line(2) if s.text.strip() == "wartet")
        assert state_segment.style is not None
        assert state_segment.style.color is not None
        assert state_segment.style.color.name == "red"


async def test_apply_keeps_the_cursor_on_its_key_when_rows_move() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        view.apply(items(10))
        view.move_cursor(row=5)
        view.apply(items(3, start=20) + items(10))  # three new rows in front
        await pilot.pause()
        assert view.highlighted_key == "t5"
        assert view.cursor_row == 8
        assert screen_text(app)[1].split()[0] == "A020"


async def test_only_the_lines_on_screen_are_rendered() -> None:
    """2,000 rows cost what a screenful costs: one render_line per line on screen."""
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        await pilot.pause()
        view.rendered.clear()  # the first frames, of the empty view
        view.apply(items(20))
        await pilot.pause()
        few = sorted(view.rendered)
        view.rendered.clear()
        view.apply(items(2000))
        await pilot.pause()
        many = sorted(view.rendered)
        assert set(many) == set(range(SIZE[1])) == set(few)
        assert len(many) == len(few)
        view.rendered.clear()
        await pilot.press("end")  # far down: still only the screenful
        await pilot.pause()
        assert set(view.rendered) <= set(range(SIZE[1]))
        assert screen_text(app)[-1].split()[0] == "A1999"


async def test_cells_are_text_not_markup() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        app.view.apply([Item("t1", "[b]Müller[/b]", "wartet")])
        await pilot.pause()
        assert screen_text(app)[1].split()[0] == "[b]Müller[/b]"


async def test_a_click_moves_the_cursor_to_the_row_under_it() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        view.apply(items(50))
        await pilot.pause()
        view.scroll_to(y=10, animate=False)
        await pilot.pause()
        await pilot.click("#queue", offset=(2, 3))  # the third row on screen, under the header
        assert view.highlighted_key == "t12"
        await pilot.click("#queue", offset=(2, 0))  # the header: no row
        assert view.highlighted_key == "t12"
        assert not [m for m in app.messages if isinstance(m, QueueView.RowChosen)]


async def test_an_equal_row_keeps_its_cells_until_a_restyle() -> None:
    built: list[str] = []
    app = ViewApp()
    async with app.run_test(size=SIZE):
        view = app.view

        def cells(item: Item) -> tuple[str, Text]:
            built.append(item.key)
            return item.label, Text(item.state)

        view._cells = cells
        rows = items(10)
        view.apply(rows)
        built.clear()
        view.apply([*rows[:3], Item("t3", "A003", "aufgerufen"), *rows[4:]])
        assert built == ["t3"]  # only the changed row's cells are made again
        built.clear()
        view.apply(rows, restyle=True)
        assert sorted(built) == sorted(item.key for item in rows)


class ServicesView(QueueView[Item]):
    """A long services column before the one that must stay readable."""

    def __init__(self) -> None:
        super().__init__(
            [("label", "Nummer"), ("services", "Leistungen"), ("state", "Status")],
            row_key=lambda item: item.key,
            cells=lambda item: (item.label, "Personalausweis beantragen, Reisepass beantragen", item.state),
            gives_way=("services",),
            id="queue",
        )


class ServicesApp(App[None]):
    CSS = "#queue { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield ServicesView()


async def test_a_column_that_gives_way_narrows_so_the_next_one_fits() -> None:
    app = ServicesApp()
    async with app.run_test(size=(40, 8)) as pilot:
        view = app.query_one(ServicesView)
        view.apply(items(3))
        await pilot.pause()
        first = view.render_line(1).text
        assert first.rstrip().endswith("geparkt")  # the status is whole, within the 40 columns
        assert "Personalausweis" in first
        assert "…" in first  # the services are cut, visibly
        assert view.virtual_size.width <= 40
        await pilot.resize_terminal(90, 8)  # room enough: the services are whole again
        await pilot.pause()
        assert "Reisepass beantragen" in view.render_line(1).text
        assert "…" not in view.render_line(1).text


async def test_where_labels_do_not_fit_a_column_that_gives_way_narrows_below_its_label() -> None:
    app = ServicesApp()
    async with app.run_test(size=(26, 8)) as pilot:  # 80×24's queue is this tight for its columns
        view = app.query_one(ServicesView)
        view.apply(items(3))
        await pilot.pause()
        header, first = view.render_line(0).text, view.render_line(1).text
        assert first.rstrip().endswith("geparkt")  # the status is still whole
        assert header.rstrip().endswith("Status")
        assert "Leistungen" not in header  # the label itself is cut …
        assert "Leistu…" in header  # … visibly
        assert view.virtual_size.width <= 26
