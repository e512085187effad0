"""Issue 9: the central service as two processes (`tresen central serve`) on one PostgreSQL, with
desks on each: calls, leases and finishes arbitrated across the processes — no ticket is called for
two desks, every desk's work arrives once, and both processes see the same office."""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from sync.central import store as central_models
from sync.central.seed import BUERGERAMT_ID
from sync.central.store import CentralStore
from sync.kassenzeichen import DEFAULT_PREFIX
from sync.protocol import KassenzeichenRangeRequest
from tests.faults.central_process import CentralProcess
from tests.sync.desks import Desk, ServedElsewhere, accepted_calls

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sync.central.seed import SeedDay

pytestmark = pytest.mark.parametrize(
    "central_backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)

DESKS_PER_PROCESS = 2
MOST_VISITS_PER_DESK = 30  # more than the seeded day's waiting tickets can give each desk
JOIN_SECONDS = 120.0  # a bound for a stuck desk; a healthy run ends in seconds


@pytest.fixture
def two_processes(central_url: str) -> Iterator[tuple[CentralProcess, CentralProcess]]:
    first = CentralProcess(central_url).start()
    try:
        second = CentralProcess(central_url).start()
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()


def _desks(
    tmp_path: Path, central_url: str, seed_day: SeedDay, processes: tuple[CentralProcess, CentralProcess]
) -> list[Desk]:
    desks = [d for d in seed_day.desks if d.office_id == BUERGERAMT_ID]
    clerks = [c for c in seed_day.clerks if c.office_id == BUERGERAMT_ID]
    made = []
    for n, (desk, clerk) in enumerate(zip(desks, clerks, strict=False)):
        if n == DESKS_PER_PROCESS * len(processes):
            break
        central = ServedElsewhere(processes[n % len(processes)].url, central_url)
        made.append(Desk(tmp_path, central, f"ws-p{n}", desk.id, clerk.id))
    return made


def _push(desk: Desk) -> None:
    """The push after a command (as the app sends it), answered: a 503 here was the two processes'
    transactions deadlocking on PostgreSQL (docs/architecture.md, "Offline and back")."""
    report = desk.engine.push_pending()
    assert report.online, f"{desk.ctx.desk_id}: push not answered: {desk.network.server_errors}"


def _serve_until_nobody_waits(desk: Desk, errors: list[BaseException]) -> None:
    try:
        for _ in range(MOST_VISITS_PER_DESK):
            desk.engine.sync_once()
            if desk.counter.call_next() is None:
                return
            _push(desk)  # as the app does after every command
            if desk.counter.current_ticket() is None:  # the call was refused: another desk has it
                continue
            desk.serve_and_finish()
            _push(desk)
    except BaseException as error:  # noqa: BLE001  (thread boundary: asserted empty by the test)
        errors.append(error)


def test_desks_on_two_central_processes_never_serve_one_ticket_twice(
    two_processes: tuple[CentralProcess, CentralProcess], central_url: str, tmp_path: Path, seed_day: SeedDay
) -> None:
    desks = _desks(tmp_path, central_url, seed_day, two_processes)
    errors: list[BaseException] = []
    try:
        for desk in desks:
            assert desk.engine.sync_once().online
        workers = [threading.Thread(target=_serve_until_nobody_waits, args=(d, errors)) for d in desks]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(JOIN_SECONDS)
        assert not any(worker.is_alive() for worker in workers)
        assert errors == []
        for desk in desks:
            assert desk.engine.sync_once().online
            assert desk.engine.status().pending_operations == 0  # every action arrived
        finishes = Counter(_finished_tickets(desks))
        central = CentralStore(central_url)
        try:
            calls = accepted_calls(central)
            with central.read() as session:
                finished = session.scalar(
                    select(func.count())
                    .select_from(central_models.Case)
                    .where(central_models.Case.finished_at.is_not(None))
                )
        finally:
            central.dispose()
    finally:
        for desk in desks:
            desk.close()
    assert [error for desk in desks for error in desk.network.server_errors] == []  # no 503, not once
    assert calls, "no desk called anyone: the test proved nothing"
    assert all(count == 1 for count in calls.values()), calls  # never one ticket at two desks
    # A desk whose call was refused (another desk has the ticket) learns it before serving anyone.
    assert all(count == 1 for count in finishes.values()), finishes  # nobody served twice
    assert finished == sum(finishes.values())  # each finish arrived once, through either process


def _finished_tickets(desks: list[Desk]) -> list[str]:
    return [str(op.args["ticket_id"]) for desk in desks for op in desk.all_ops() if op.kind == "case.finish"]


RANGE_REQUESTS_PER_DESK = 6


def _fetch_ranges(desk: Desk, grants: list[tuple[str, int, int]], errors: list[BaseException]) -> None:
    """Ask for a range again and again, each time naming the newest one held (as the engine does)."""
    try:
        newest: int | None = None
        for _ in range(RANGE_REQUESTS_PER_DESK):
            grant = desk.client.kassenzeichen_range(
                desk.ctx.desk_id,
                KassenzeichenRangeRequest(
                    workstation_id=desk.ctx.workstation_id, newest_prefix=DEFAULT_PREFIX, newest_first=newest
                ),
            )
            grants.append((grant.prefix, grant.first, grant.last))
            newest = grant.first
    except BaseException as error:  # noqa: BLE001  (thread boundary: asserted empty by the test)
        errors.append(error)


def test_desks_on_two_central_processes_never_get_one_kassenzeichen_twice(
    two_processes: tuple[CentralProcess, CentralProcess], central_url: str, tmp_path: Path, seed_day: SeedDay
) -> None:
    desks = _desks(tmp_path, central_url, seed_day, two_processes)
    grants: list[tuple[str, int, int]] = []
    errors: list[BaseException] = []
    try:
        workers = [threading.Thread(target=_fetch_ranges, args=(d, grants, errors)) for d in desks]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(JOIN_SECONDS)
        assert not any(worker.is_alive() for worker in workers)
    finally:
        for desk in desks:
            desk.close()
    assert errors == []
    assert len(grants) == len(desks) * RANGE_REQUESTS_PER_DESK
    numbers = [(prefix, n) for prefix, first, last in grants for n in range(first, last + 1)]
    assert len(numbers) == len(set(numbers))  # no running number reserved twice, across processes
