"""Issue 9, fault test 11: the central service (a real process, behind the fault proxy) restored from
an older backup of its database.

A desk synced, the operator took the nightly backup, the desk did more work (walk-ins, a call and a
finish) that the central service applied, and then the central host died: the database is put back
from the backup and a new central process starts over it, where a citizen takes a number at the
kiosk before the desk reaches it again (having worked on offline, or with nothing pending: then
only the pull can tell). The desk notices the restore,
pulls everything again (so it sees the kiosk ticket, whose version its old cursor had passed) and
sends once more, from its retained outbox, what the restored central service lost: every operation
is held centrally once, in the desk's order, and the tickets are where the desk left them.

The epoch is kept in the central database (`server_meta`), so the restore brings the old one back;
the desk tells the restore by the central service acknowledging fewer of its operations than it
did before (`SyncEngine._restart_for_restored_central`), and resyncs as for a new epoch. A desk
that pushed nothing since the backup (only pulled the kiosk's tickets) is told by its pull: its
cursor lies past the restored office's head (`ChangesPage.cursor_ahead`)."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from sync.central import issuing
from sync.central.seed import BUERGERAMT_ID
from sync.central.store import CentralStore
from sync.central.store import Ticket as CentralTicket
from sync.client import CentralClient
from tests.credentials import workstation_auth_at
from tests.faults.central_process import CentralProcess
from tests.faults.conftest import CTX, WORKSTATION
from tests.faults.proxy import FaultProxy
from tests.sync.central_backup import backup_central, restore_central
from tests.sync.support import DESK, central_clock, central_operations, central_ticket, serve_and_finish
from tests.sync_fixtures import BOTH_BACKENDS
from workstation.counter import Counter
from workstation.models import OperationStatus, OutboxOperation, SyncState, Ticket, TicketState
from workstation.operation_kinds import OperationKind
from workstation.sync_engine import SyncEngine

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sync.central.seed import SeedDay
    from workstation.db import LocalStore

pytestmark = BOTH_BACKENDS  # the backup and the restore are the database's own: SQLite and PostgreSQL

WALK_INS_BEFORE = 3  # applied centrally after the backup: lost by the restore
WALK_INS_OFFLINE = 2  # done while the restored central service is unreachable
KINDS = (
    OperationKind.TICKET_ISSUE,
    OperationKind.TICKET_CALL,
    OperationKind.TICKET_SERVE,
    OperationKind.CASE_FINISH,
)


@pytest.fixture
def central_process(central_url: str) -> Iterator[CentralProcess]:
    process = CentralProcess(central_url).start()
    yield process
    process.stop()


@contextmanager
def _desk_engine(proxy: FaultProxy, central_url: str, local_store: LocalStore) -> Iterator[SyncEngine]:
    """The desk's sync engine, talking to the central service through the proxy."""
    client = CentralClient(
        proxy.url, timeout=15.0, auth=workstation_auth_at(central_url, WORKSTATION, BUERGERAMT_ID)
    )
    try:
        yield SyncEngine(local_store, client, CTX)
    finally:
        client.close()


def _outbox(local_store: LocalStore) -> list[tuple[int, str, str]]:
    with local_store.session() as session:
        rows = session.scalars(select(OutboxOperation).order_by(OutboxOperation.seq))
        return [(row.seq, row.op_id, row.kind) for row in rows]


def _local_tickets(local_store: LocalStore, ticket_ids: list[str]) -> dict[str, tuple[str, str, str | None]]:
    with local_store.session() as session:
        rows = session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))
        return {row.id: (row.number, str(row.state), row.desk_id) for row in rows}


def _central_tickets(central_url: str) -> dict[str, tuple[str, str, str | None]]:
    central = CentralStore(central_url)
    try:
        with central.read() as session:
            rows = session.scalars(select(CentralTicket).where(CentralTicket.office_id == BUERGERAMT_ID))
            return {row.id: (row.number, row.state, row.desk_id) for row in rows}
    finally:
        central.dispose()


def _kiosk_walk_in(central_url: str, service: str) -> str:
    """A citizen takes a number at the kiosk: a ticket only the central service holds."""
    return _kiosk_walk_in_versioned(central_url, service)[0]


def _kiosk_walk_in_versioned(central_url: str, service: str) -> tuple[str, int]:
    """`_kiosk_walk_in`, with the version the ticket was given."""
    central = CentralStore(central_url)
    try:
        with central.write() as session:
            ticket = issuing.issue_kiosk_ticket(session, BUERGERAMT_ID, [service], 0, central_clock())
            return ticket.id, ticket.version
    finally:
        central.dispose()


def _cursor(local_store: LocalStore) -> int:
    with local_store.session() as session:
        return session.get_one(SyncState, WORKSTATION).cursor


def _walk_ins(counter: Counter, service: str, how_many: int) -> list[str]:
    return [counter.issue_walk_in([service], 0).ticket_id for _ in range(how_many)]


def _call_serve_finish(counter: Counter) -> str:
    assert counter.call_next() is not None
    return serve_and_finish(counter)


@pytest.mark.parametrize("work_offline", [True, False], ids=["work-offline", "nothing-pending"])
def test_a_central_restored_from_an_older_backup_gets_what_it_lost_once(
    work_offline: bool,
    central_process: CentralProcess,
    central_url: str,
    local_store: LocalStore,
    seed_day: SeedDay,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = next(d for d in seed_day.desks if d.id == DESK).service_ids[0]
    counter = Counter(local_store, CTX)  # no remote: every clerk action is an outbox operation
    backup = tmp_path / "central.backup"
    with (
        FaultProxy("127.0.0.1", central_process.port) as proxy,
        _desk_engine(proxy, central_url, local_store) as engine,
    ):
        assert engine.sync_once().online
        # The operator's nightly backup, taken while the central service runs (SQLite's online
        # backup API, pg_dump): the desk's enrollment and first pull are in it, its work is not.
        backup_central(central_url, backup)

        walk_ins = _walk_ins(counter, service, WALK_INS_BEFORE)
        finished = _call_serve_finish(counter)
        report = engine.sync_once()
        assert report.online
        lost = _outbox(local_store)
        assert report.pushed == len(lost)
        assert {kind for _seq, _op, kind in lost} == set(KINDS)
        assert [(s, o) for s, o, _st in central_operations(central_url, WORKSTATION)] == [
            (s, o) for s, o, _k in lost
        ]

        central_process.kill()  # the host dies; its disk with it
        restore_central(central_url, backup)
        assert central_operations(central_url, WORKSTATION) == []  # the restore lost the desk's work
        restored = CentralProcess(central_url).start()
        try:
            proxy.retarget("127.0.0.1", restored.port)
            proxy.refuse()  # the new central service is not reachable yet: the desk works on
            finished_later: list[str] = []
            if work_offline:  # the restore is noticed on the push (a gap), else on the pull
                walk_ins += _walk_ins(counter, service, WALK_INS_OFFLINE)
                finished_later.append(_call_serve_finish(counter))
            assert not engine.sync_once().online
            kiosk_ticket = _kiosk_walk_in(central_url, service)  # the restored service's first ticket

            proxy.healthy()
            with caplog.at_level(logging.WARNING, logger="workstation"):
                report = engine.sync_once()
            assert report.online
            outbox = _outbox(local_store)
            assert report.pushed == len(outbox)  # the lost ones again, then the new ones, once each
            held = central_operations(central_url, WORKSTATION)
            # No error and no refusal for a resync, which needs nothing from the clerk; they are
            # told once that it happened and how much was sent again (the log has the warning).
            assert report.error_de is None
            assert report.rejected == 0
            status = engine.status()
            assert (status.online, status.last_error_de, status.rejected_operations) == (True, None, 0)
            assert (status.central_restores, status.resent_after_restores) == (1, len(lost))
            assert status.pending_operations == 0
        finally:
            restored.stop()

    central = _central_tickets(central_url)
    assert "full resync" in caplog.text  # the desk noticed: a new epoch, or the same one restored
    assert _local_tickets(local_store, [kiosk_ticket]) == {kiosk_ticket: central[kiosk_ticket]}
    assert outbox[: len(lost)] == lost  # the desk kept what the restore lost, under its numbers
    assert len(outbox) == len(lost) + (WALK_INS_OFFLINE + 3 if work_offline else 0)  # + call, serve, finish
    assert held == [(seq, op_id, "applied") for seq, op_id, _kind in outbox]  # once each, in order
    assert len({op_id for _seq, op_id, _status in held}) == len(held)
    with local_store.session() as session:
        assert set(session.scalars(select(OutboxOperation.status))) == {OperationStatus.APPLIED}

    mine = [*walk_ins, finished, *finished_later]
    local = _local_tickets(local_store, mine)
    assert {ticket_id: central[ticket_id] for ticket_id in mine} == local
    assert central_ticket(central_url, finished) == (TicketState.FINISHED, DESK)
    for ticket_id in finished_later:
        assert central_ticket(central_url, ticket_id) == (TicketState.FINISHED, DESK)
    numbers = [central[ticket_id][0] for ticket_id in walk_ins]
    assert len(set(numbers)) == len(numbers)
    others = {number for ticket_id, (number, _s, _d) in central.items() if ticket_id not in walk_ins}
    assert not others & set(numbers)  # no walk-in number given to a second ticket


def test_a_desk_that_pushed_nothing_since_the_backup_gets_a_ticket_numbered_with_a_version_it_had_seen(
    central_process: CentralProcess,
    central_url: str,
    local_store: LocalStore,
    seed_day: SeedDay,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After the backup the desk only pulled (kiosk tickets): the restored central service
    acknowledges as much of its work as before, but counts versions from the backup's head again.
    Its first ticket gets a version the desk's cursor had passed; the desk, long-polling, is told
    its cursor lies past the head, pulls everything again, and has that ticket."""
    service = next(d for d in seed_day.desks if d.id == DESK).service_ids[0]
    backup = tmp_path / "central.backup"
    with (
        FaultProxy("127.0.0.1", central_process.port) as proxy,
        _desk_engine(proxy, central_url, local_store) as engine,
    ):
        assert engine.sync_once().online
        backup_central(central_url, backup)
        for _ in range(WALK_INS_BEFORE):  # lost by the restore; the desk pulled them
            _kiosk_walk_in(central_url, service)
        assert engine.sync_once().pulled == WALK_INS_BEFORE
        seen_up_to = _cursor(local_store)
        acked_before = engine.status()

        central_process.kill()
        restore_central(central_url, backup)
        restored = CentralProcess(central_url).start()
        try:
            proxy.retarget("127.0.0.1", restored.port)
            kiosk_ticket, version = _kiosk_walk_in_versioned(central_url, service)
            assert version <= seen_up_to  # a version the desk believes it has seen
            with caplog.at_level(logging.WARNING, logger="workstation"):
                report = engine.sync_once(wait=20.0)  # as the online desk's loop asks
            assert report.online
            assert (report.pushed, report.rejected, report.error_de) == (0, 0, None)
            status = engine.status()
        finally:
            restored.stop()

    assert acked_before.central_restores == 0
    central = _central_tickets(central_url)
    assert _local_tickets(local_store, [kiosk_ticket]) == {kiosk_ticket: central[kiosk_ticket]}
    assert "lies past the central's head" in caplog.text
    # The clerk is told once (the counter shows it), with nothing sent again.
    assert (status.central_restores, status.resent_after_restores, status.pending_operations) == (1, 0, 0)
