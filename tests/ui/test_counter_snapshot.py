"""The counter screen looks as recorded: fixed clock, fixed seed, cursor blink off."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Input

from tests.ui.support import filled_store, make_app, settle

if TYPE_CHECKING:
    from pathlib import Path


async def _after_f2(pilot) -> None:  # type: ignore[no-untyped-def]
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    # The confirmation toast leaves on a wall-clock timer: keep it out of the picture
    # (tests/ui/test_counter_traps.py checks its text).
    pilot.app.clear_notifications()
    await pilot.pause()


def test_counter_screen_after_f2(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(filled_store(tmp_path / "tresen.sqlite3"))
    assert snap_compare(app, run_before=_after_f2, terminal_size=(160, 50))


def test_counter_screen_at_80_by_24(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(filled_store(tmp_path / "tresen.sqlite3"))
    assert snap_compare(app, run_before=_after_f2, terminal_size=(80, 24))
