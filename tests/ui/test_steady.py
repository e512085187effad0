"""Widgets that change on every F2 without laying the screen out again: `SteadyStatic` (the
current-ticket panel, the queue's title) and `QueueView` losing a row. A layout still happens
whenever the size may change, so nothing is ever drawn in a stale box."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from screens.widgets.steady import SteadyStatic
from tests.ui.test_queue_view import ViewApp, items

if TYPE_CHECKING:
    from screens.widgets.queue_view import QueueView

LINES = "\n".join


class RecordingSteady(SteadyStatic):
    """Records whether each refresh asked for a layout (Textual's `refresh(layout=...)`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.layouts: list[bool] = []

    def refresh(self, *args: Any, layout: bool = False, **kwargs: Any) -> Any:
        self.layouts.append(layout)
        return super().refresh(*args, layout=layout, **kwargs)


class SteadyApp(App[None]):
    CSS = """
    #steady { height: auto; min-height: 5; border: round red; }
    #wide { height: auto; width: auto; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.steady = RecordingSteady(id="steady")
        self.wide = RecordingSteady(id="wide")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield self.steady
            yield self.wide
            yield Static("below", id="below")


async def test_content_as_tall_as_before_is_drawn_without_a_layout() -> None:
    app = SteadyApp()
    async with app.run_test(size=(40, 20)) as pilot:
        steady = app.steady
        steady.update(LINES(["A101", "Meldebescheinigung"]))
        await pilot.pause()
        steady.update(LINES(["A102", "Reisepass"]))  # measured once before: same width, same box
        steady.layouts.clear()
        steady.update(LINES(["A103", "Personalausweis"]))
        await pilot.pause()
        assert True not in steady.layouts
        assert "A103" in "".join(steady.render_line(y).text for y in range(steady.size.height))


async def test_taller_content_is_laid_out_and_moves_what_is_below() -> None:
    app = SteadyApp()
    async with app.run_test(size=(40, 20)) as pilot:
        steady = app.steady
        steady.update("A101")
        await pilot.pause()
        steady.update("A102")
        await pilot.pause()
        assert steady.outer_size.height == 5  # min-height: one line and three left blank
        below = app.query_one("#below").region.y
        steady.layouts.clear()
        steady.update(LINES(f"line {n}" for n in range(6)))  # 6 lines + border: past min-height
        await pilot.pause()
        assert True in steady.layouts
        assert steady.outer_size.height == 8
        assert app.query_one("#below").region.y == below + 3


async def test_content_within_min_height_keeps_the_box_without_a_layout() -> None:
    app = SteadyApp()
    async with app.run_test(size=(40, 20)) as pilot:
        steady = app.steady
        steady.update("idle")
        await pilot.pause()
        steady.update("idle again")
        await pilot.pause()
        steady.layouts.clear()
        steady.update(LINES(["A101", "Reisepass", "3 min"]))  # 3 lines + border = min-height 5
        await pilot.pause()
        assert True not in steady.layouts
        assert steady.outer_size.height == 5


async def test_a_widget_as_wide_as_its_text_is_always_laid_out() -> None:
    app = SteadyApp()
    async with app.run_test(size=(40, 20)) as pilot:
        wide = app.wide
        wide.update("short")
        await pilot.pause()
        wide.layouts.clear()
        wide.update("a longer text")
        await pilot.pause()
        assert True in wide.layouts
        assert wide.outer_size.width == len("a longer text")


def scrollbar_shown(view: QueueView[Any]) -> bool:
    return view.show_vertical_scrollbar  # read afresh: mypy would keep an earlier assert's narrowing


async def test_a_removed_row_moves_the_scrollbar_and_keeps_the_scroll_in_range() -> None:
    app = ViewApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.view
        view.apply(items(40))
        await pilot.pause()
        view.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        bottom = view.max_scroll_y
        assert view.scroll_y == bottom
        view.remove_key("t39")
        await pilot.pause()
        assert view.virtual_size.height == 1 + 39
        assert view.vertical_scrollbar.window_virtual_size == 40
        assert view.scroll_y == view.max_scroll_y == bottom - 1
        assert view.render_line(view.size.height - 1).text.split()[0] == "A038"


async def test_the_last_row_that_needed_a_scrollbar_leaving_lays_the_view_out() -> None:
    app = ViewApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.view
        view.apply(items(10))  # a header and 10 rows in 10 lines: one line too many
        await pilot.pause()
        assert scrollbar_shown(view)
        view.remove_key("t9")
        await pilot.pause()
        assert not scrollbar_shown(view)
        assert view.render_line(0).text.rstrip().endswith("Status")  # the header as wide as the view
