"""The garbage collector around the start: resting while the first screen fills, resumed with full
collections kept off key presses once the day is on screen, and everything restored when the app ends."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from tests.ui.support import filled_store, make_app, settle
from tests.ui.test_login import desk_login
from workstation import app as app_module
from workstation.app import GC_NO_AUTOMATIC_FULL, TresenApp

SIZE = (160, 50)


async def test_the_collector_resumes_once_the_day_is_on_screen(tmp_path: Path) -> None:
    threshold = gc.get_threshold()
    assert gc.isenabled()
    app = make_app(filled_store(tmp_path / "tresen.sqlite3"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause()  # freeze_heap runs after the refresh that shows the day
        assert gc.isenabled()
        assert gc.get_threshold()[2] == GC_NO_AUTOMATIC_FULL
        assert gc.get_freeze_count() > 0
    assert gc.isenabled()
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == 0


async def test_the_collector_rests_at_most_a_few_seconds_without_a_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "GC_START_PAUSE_SECONDS", 0.3)
    app = TresenApp(login=desk_login(filled_store(tmp_path / "tresen.sqlite3")))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not gc.isenabled()  # the login screen is filling
        await pilot.pause(0.5)
        assert gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
