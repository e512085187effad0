"""A real local store filled with a generated office day (as the first pull of a fresh workstation
would fill it) and the real Counter on it, for the UI tests and the benches."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from textual.worker import WorkerFailed

from sync.central.seed import BUERGERAMT_ID, SeedDay, generate_day
from tests.sync.support import page_of
from workstation import replica

DAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)  # 09:30 in Berlin, the queue is busy
WORKSTATION = "ws-ui-test"


@dataclass
class Desk:
    store: object
    ctx: object
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


def make_counter(desk: Desk, now: datetime = NOW):  # type: ignore[no-untyped-def]
    """The real domain facade on the filled store, local only (no central), on a fixed clock."""
    from workstation.counter import Counter

    return Counter(desk.store, desk.ctx, remote=None, clock=lambda: now)


def make_app(desk: Desk, now: datetime = NOW):  # type: ignore[no-untyped-def]
    from workstation.app import TresenApp, Workplace

    return TresenApp(workplace=Workplace(make_counter(desk, now), None, "Schalter 1 · Test"), now=lambda: now)


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Let thread workers finish and their messages reach the screens (the sync loop never
    finishes: it runs until the app stops)."""
    for _ in range(3):
        finite = [worker for worker in pilot.app.workers if worker.group != "sync"]
        if finite:  # an empty list would mean "all workers" to Textual
            # A worker that fails is the app's to report (its StateChanged handler shows the German
            # dialog the tests look for); whether `wait_for_complete` re-raises it depends only on
            # whether the failure happened before or during the wait.
            with contextlib.suppress(WorkerFailed):
                await pilot.app.workers.wait_for_complete(finite)
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
