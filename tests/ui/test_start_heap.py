"""The garbage collector around the start (screens/heap.py): resting while the first screen fills,
resumed with full collections kept off key presses once the day is on screen, and everything
restored when the app ends."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from screens.app import TresenApp
from screens.heap import NO_AUTOMATIC_FULL, HeapPolicy, pause_from_process_start, resume_after_start_pause
from tests.ui.support import filled_store, make_app, settle, wait_until
from tests.ui.test_login import desk_login

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import pytest

SIZE = (160, 50)


async def test_the_collector_resumes_once_the_day_is_on_screen(tmp_path: Path) -> None:
    threshold = gc.get_threshold()
    assert gc.isenabled()
    app = make_app(filled_store(tmp_path / "tresen.sqlite3"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # `started` runs after the refresh that shows the day.
        await wait_until(pilot, lambda: gc.get_threshold()[2] == NO_AUTOMATIC_FULL, "the heap is frozen")
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
    assert gc.isenabled()
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == 0


async def test_without_a_day_the_collector_rests_only_until_its_timer(tmp_path: Path) -> None:
    app = TresenApp(login=desk_login(filled_store(tmp_path / "tresen.sqlite3")))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not gc.isenabled()  # the login screen is filling; no day will come
        await wait_until(pilot, gc.isenabled, "the start pause timer resumed the collector")
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_the_start_pause_ends_with_its_timer_and_restore_gives_everything_back() -> None:
    timers: list[Callable[[], None]] = []
    policy = HeapPolicy(clock=lambda: 100.0)
    policy.starting(lambda _seconds, callback: timers.append(callback))
    try:
        assert not gc.isenabled()
        timers[0]()  # the timer fires: no day came in time
        assert gc.isenabled()
    finally:
        policy.restore()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_full_collections_wait_for_a_quiet_keyboard(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    collected: list[int] = []
    policy = HeapPolicy(clock=lambda: now[0])

    def fake_collect(generation: int = 2) -> int:
        collected.append(generation)
        return 0

    monkeypatch.setattr(gc, "collect", fake_collect)
    policy.key_pressed()
    now[0] = 1.0
    policy.collect_if_quiet()
    assert collected == []  # a key 1 s ago: the clerk is typing
    now[0] = 10.0
    policy.collect_if_quiet()
    assert collected == [2]


def test_a_pause_from_the_process_start_is_resumed_by_the_policy_that_takes_it_over() -> None:
    assert gc.isenabled()
    timers: list[Callable[[], None]] = []
    policy = HeapPolicy(clock=lambda: 100.0)
    pause_from_process_start()  # `tresen run`, before its imports
    try:
        assert not gc.isenabled()
        policy.starting(lambda _seconds, callback: timers.append(callback))
        timers[0]()
        assert gc.isenabled()  # the policy knows the collector was on before the early pause
    finally:
        policy.restore()
        resume_after_start_pause()
    assert gc.isenabled()


def test_a_start_that_never_reaches_the_app_resumes_the_collector() -> None:
    pause_from_process_start()
    assert not gc.isenabled()
    resume_after_start_pause()  # e.g. the configuration was refused
    assert gc.isenabled()
    resume_after_start_pause()  # a second call changes nothing
    assert gc.isenabled()
