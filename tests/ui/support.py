"""A real local store filled with a generated office day (as the first pull of a fresh workstation
would fill it) and the real Counter on it, for the UI tests and the benches."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, TypeVar

from screens.app import TresenApp
from sync.central.seed import BUERGERAMT_ID, SeedDay, generate_day
from tests.sync.support import page_of
from workstation import replica

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from textual.app import App
    from textual.pilot import Pilot
    from textual.screen import Screen

    from workstation.card_reading import CardReading
    from workstation.commands import DeskContext
    from workstation.counter import Counter
    from workstation.db import LocalStore

DAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)  # 09:30 in Berlin, the queue is busy
WORKSTATION = "ws-ui-test"


@dataclass
class Desk:
    store: LocalStore
    ctx: DeskContext
    day: SeedDay


def filled_store(path: Path, *, appointments: int = 150, waiting: int = 12, seed: int = 3) -> Desk:
    """A migrated local store holding one generated Bürgeramt day; the desk serves every service."""
    from workstation.commands import DeskContext
    from workstation.db import LocalStore

    day = generate_day(DAY, seed=seed, appointments=appointments, waiting=waiting, now=NOW)
    store = LocalStore(path)
    store.migrate()
    with store.session() as session, session.begin():
        replica.apply_changes(
            session, page_of(day), workstation_id=WORKSTATION, office_id=BUERGERAMT_ID, now=NOW
        )
    desk = max((d for d in day.desks if d.office_id == BUERGERAMT_ID), key=lambda d: len(d.service_ids))
    clerk = next(c for c in day.clerks if c.office_id == BUERGERAMT_ID)
    return Desk(store, DeskContext(WORKSTATION, BUERGERAMT_ID, desk.id, clerk.id), day)


def make_counter(desk: Desk, now: datetime = NOW) -> Counter:
    """The real domain facade on the filled store, local only (no central), on a fixed clock."""
    from workstation.counter import Counter

    return Counter(desk.store, desk.ctx, remote=None, clock=lambda: now)


def make_app(desk: Desk, now: datetime = NOW, card_reading: CardReading | None = None) -> TresenApp:
    from workstation.login import Workplace

    return TresenApp(
        workplace=Workplace(make_counter(desk, now), None, "Schalter 1 · Test"),
        now=lambda: now,
        card_reading=card_reading,
    )


SETTLE_DEADLINE_SECONDS = 30.0  # generous for a loaded CI machine; the tests never rely on it
POLL_SECONDS = 0.005  # how often the condition is looked at while workers run in threads
ENDLESS_GROUPS = ("sync", "commands")  # run until the app stops

ReturnType = TypeVar("ReturnType")  # what the app under test returns when it exits (Pilot's parameter)


def current_screen(app: App[ReturnType]) -> Screen[object]:
    """`app.screen`, read afresh: mypy would keep an `isinstance` narrowing of `app.screen` across the
    key presses that change it, so tests that assert one screen after another ask this function."""
    return app.screen


def _quiet(app: App[ReturnType]) -> bool:
    """No clerk command queued or running and no finite worker left."""
    if any(worker.group not in ENDLESS_GROUPS and not worker.is_finished for worker in app.workers):
        return False
    return not isinstance(app, TresenApp) or app.commands.idle


async def settle(pilot: Pilot[ReturnType]) -> None:
    """Wait, with a deadline, until the clerk's queued commands and every finite worker finished and
    their messages reached the screens.

    Nothing is swallowed here: a failed worker or command becomes the app's German dialog, which
    the tests read; an unexpected crash is logged and fails the test (tests/ui/conftest.py)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_DEADLINE_SECONDS
    quiet_rounds = 0
    while quiet_rounds < 2:  # quiet twice in a row: what the last messages started is done too
        await pilot.pause()
        quiet_rounds = quiet_rounds + 1 if _quiet(pilot.app) else 0
        if quiet_rounds == 0:
            if loop.time() > deadline:
                raise AssertionError(f"still busy after {SETTLE_DEADLINE_SECONDS} s")
            await asyncio.sleep(POLL_SECONDS)


async def wait_until(pilot: Pilot[ReturnType], condition: Callable[[], bool], what: str) -> None:
    """Wait, with a deadline, until `condition()` holds on the UI (e.g. a sync round showed up)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_DEADLINE_SECONDS
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not within {SETTLE_DEADLINE_SECONDS} s: {what}")
        await asyncio.sleep(POLL_SECONDS)
        await pilot.pause()


def reopen_desk(path: Path, seed: int = 3) -> Desk:
    """The desk of `filled_store` on a store file it filled earlier (no regeneration)."""
    from workstation.commands import DeskContext
    from workstation.db import LocalStore

    day = generate_day(DAY, seed=seed, appointments=1, waiting=0, now=NOW)
    store = LocalStore(path)
    store.migrate()
    desk = max((d for d in day.desks if d.office_id == BUERGERAMT_ID), key=lambda d: len(d.service_ids))
    clerk = next(c for c in day.clerks if c.office_id == BUERGERAMT_ID)
    return Desk(store, DeskContext(WORKSTATION, BUERGERAMT_ID, desk.id, clerk.id), day)
