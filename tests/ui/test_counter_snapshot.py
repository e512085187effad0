"""The counter screen looks as recorded: fixed clock, fixed seed, cursor blink off."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from textual.widgets import Input

from tests.ui.support import filled_store, make_app, settle

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable
    from pathlib import Path, PurePath

    from textual.app import App
    from textual.pilot import Pilot


class SnapCompare(Protocol):
    """The function the `snap_compare` fixture gives (pytest-textual-snapshot annotates it as taking
    the app alone; this is its real signature, with its own `Any`)."""

    def __call__(
        self,
        app: str | PurePath | App[Any],
        press: Iterable[str] = (),
        terminal_size: tuple[int, int] = (80, 24),
        run_before: Callable[[Pilot[Any]], Awaitable[None] | None] | None = None,
    ) -> bool: ...


async def _after_f2(pilot: Pilot[Any]) -> None:
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    # The confirmation toast leaves on a wall-clock timer: keep it out of the picture
    # (tests/ui/test_counter_traps.py checks its text).
    pilot.app.clear_notifications()
    await pilot.pause()


def test_counter_screen_after_f2(snap_compare: SnapCompare, tmp_path: Path) -> None:
    app = make_app(filled_store(tmp_path / "tresen.sqlite3"))
    assert snap_compare(app, run_before=_after_f2, terminal_size=(160, 50))


def test_counter_screen_at_80_by_24(snap_compare: SnapCompare, tmp_path: Path) -> None:
    app = make_app(filled_store(tmp_path / "tresen.sqlite3"))
    assert snap_compare(app, run_before=_after_f2, terminal_size=(80, 24))
