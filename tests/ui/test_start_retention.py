"""The first purge of personal data at start (screens/app.py): it waits until the day is on screen, so
that its thread does not compete with the first frame, and it runs without a day too (a desk left at
its login screen is purged on the start pause's timer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from screens.app import TresenApp
from tests.ui.support import NOW, filled_store, make_counter, wait_until
from tests.ui.test_login import desk_login
from workstation.login import Workplace
from workstation.retention import RetentionSchedule

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from workstation.retention import WorkerHost

SIZE = (160, 50)


@dataclass
class WatchedSchedule(RetentionSchedule):
    """The real schedule, noting what the app showed when it was attached."""

    queue_rows_at_attach: list[int] = field(default_factory=list)

    def attach(self, host: WorkerHost) -> None:
        assert isinstance(host, TresenApp)
        counter = host.screen if host.screen.id == "counter" else None
        self.queue_rows_at_attach.append(counter.query_one("#queue").row_count if counter else 0)  # type: ignore[attr-defined]
        super().attach(host)


async def test_the_first_purge_runs_once_the_day_is_on_screen(tmp_path: Path) -> None:
    desk = filled_store(tmp_path / "tresen.sqlite3")
    schedule = WatchedSchedule(desk.store, clock=lambda: NOW)
    app = TresenApp(
        workplace=Workplace(make_counter(desk), None, "Schalter 1 · Test"),
        now=lambda: NOW,
        retention=schedule,
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: schedule.last_report is not None, "the first purge ran")
    assert len(schedule.queue_rows_at_attach) == 1
    assert schedule.queue_rows_at_attach[0] > 0  # the queue was on screen before the purge started


async def test_without_a_day_the_first_purge_runs_on_the_start_pause_timer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("screens.app.START_PAUSE_SECONDS", 0.05)
    desk = filled_store(tmp_path / "tresen.sqlite3")
    schedule = WatchedSchedule(desk.store, clock=lambda: NOW)
    app = TresenApp(login=desk_login(desk), now=lambda: NOW, retention=schedule)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: schedule.last_report is not None, "the purge ran at the login screen")
        assert app.screen.id != "counter"
    assert schedule.queue_rows_at_attach == [0]
