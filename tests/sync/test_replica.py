"""Applying pulled pages to the real local store (SQLite with foreign keys on)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from sync.central.seed import BUERGERAMT_ID, SeedDay, generate_day
from sync.protocol import ChangesPage, TicketSnapshot
from tests.statements import recorded_statements
from tests.sync.support import DAY, NOW, page_of
from workstation import replica
from workstation.models import (
    Appointment,
    Desk,
    OperationStatus,
    OutboxOperation,
    Service,
    SyncState,
    Ticket,
    TicketState,
)

if TYPE_CHECKING:
    from sync.protocol import ChangesPage, TicketSnapshot
    from workstation.db import LocalStore

WS = "ws-test"


def _apply(store: LocalStore, page: ChangesPage) -> replica.ApplyReport:
    with store.session() as session:
        report = replica.apply_changes(session, page, workstation_id=WS, office_id=BUERGERAMT_ID, now=NOW)
        session.commit()
    return report


def _pending_op(store: LocalStore, seq: int, ticket_id: str, status: OperationStatus) -> None:
    """What a local command leaves in the outbox (the commands' own tests cover writing it)."""
    with store.session() as session:
        session.add(
            OutboxOperation(
                seq=seq,
                op_id=f"0190f0a0-0000-7000-8000-{seq:012d}",
                workstation_id=WS,
                kind="ticket.park",
                args={"ticket_id": ticket_id, "case_id": "case-1", "at": NOW.isoformat()},
                base_version=1,
                created_at=NOW,
                status=status,
            )
        )
        session.commit()


def _set_state(store: LocalStore, ticket_id: str, state: TicketState) -> None:
    with store.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        ticket.state = state
        session.commit()


def _state(store: LocalStore, ticket_id: str) -> str:
    with store.session() as session:
        return session.get_one(Ticket, ticket_id).state


def _moved(snapshot: TicketSnapshot, state: str, version: int) -> TicketSnapshot:
    return snapshot.model_copy(update={"state": state, "version": version})


def test_first_page_builds_the_replica_and_the_sync_position(
    local_store: LocalStore, seed_day: SeedDay
) -> None:
    page = page_of(seed_day)
    report = _apply(local_store, page)
    with local_store.session() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == len(page.appointments)
        assert session.scalar(select(func.count()).select_from(Ticket)) == len(page.tickets)
        desk = session.get_one(Desk, page.desks[0].id)
        assert sorted(s.id for s in desk.services) == sorted(page.desks[0].service_ids)
        ticket = session.get_one(Ticket, page.tickets[0].id)
        assert sorted(s.id for s in ticket.services) == sorted(page.tickets[0].service_ids)
        assert ticket.issued_at == page.tickets[0].issued_at
        state = session.get_one(SyncState, WS)
        assert (state.cursor, state.epoch, state.acked_seq) == (1000, "epoch-1", 0)
        assert state.last_pull_at == NOW
    total = sum(len(rows) for rows in (page.offices, page.services, page.desks, page.clerks))
    assert report.applied == total + len(page.appointments) + len(page.tickets)
    assert report.kept_local == 0


def test_changes_update_rows_and_service_lists(local_store: LocalStore, seed_day: SeedDay) -> None:
    page = page_of(seed_day)
    _apply(local_store, page)
    ticket = page.tickets[0]
    other_service = next(s.id for s in page.services if s.id not in ticket.service_ids)
    changed = ticket.model_copy(
        update={
            "state": "called",
            "called_count": 1,
            "version": 2000,
            "service_ids": [other_service],
            "last_called_at": NOW,
        }
    )
    _apply(
        local_store,
        page_of(
            seed_day,
            cursor=2000,
            offices=[],
            services=[],
            desks=[],
            clerks=[],
            appointments=[],
            tickets=[changed],
        ),
    )
    with local_store.session() as session:
        row = session.get_one(Ticket, ticket.id)
        assert (row.state, row.called_count, row.last_called_at) == ("called", 1, NOW)
        assert [s.id for s in row.services] == [other_service]
        assert session.get_one(SyncState, WS).cursor == 2000


def test_rows_with_pending_operations_keep_their_local_state(
    local_store: LocalStore, seed_day: SeedDay
) -> None:
    page = page_of(seed_day)
    _apply(local_store, page)
    parked, acknowledged, untouched = page.tickets[0], page.tickets[1], page.tickets[2]
    _set_state(local_store, parked.id, TicketState.PARKED)
    _set_state(local_store, acknowledged.id, TicketState.PARKED)
    _pending_op(local_store, 1, acknowledged.id, OperationStatus.PENDING)  # central has seq 1 already
    _pending_op(local_store, 2, parked.id, OperationStatus.PENDING)  # central has not seen seq 2

    later = [_moved(t, "called", 3000 + i) for i, t in enumerate((parked, acknowledged, untouched))]
    report = _apply(local_store, page_of(seed_day, acked_seq=1, tickets=later, appointments=[]))

    assert _state(local_store, parked.id) == TicketState.PARKED  # kept: its operation is still pending
    assert _state(local_store, acknowledged.id) == "called"  # the page already includes seq 1's effect
    assert _state(local_store, untouched.id) == "called"
    assert report.kept_local == 1


def test_an_older_snapshot_never_overwrites_a_newer_row(local_store: LocalStore, seed_day: SeedDay) -> None:
    page = page_of(seed_day)
    _apply(local_store, page)
    ticket = page.tickets[0]
    _apply(local_store, page_of(seed_day, tickets=[_moved(ticket, "called", 5000)], appointments=[]))
    _apply(local_store, page_of(seed_day, tickets=[_moved(ticket, "waiting", 4000)], appointments=[]))
    assert _state(local_store, ticket.id) == "called"


def test_a_transfer_and_its_origin_in_one_page(local_store: LocalStore, seed_day: SeedDay) -> None:
    page = page_of(seed_day)
    _apply(local_store, page)
    origin = page.tickets[0]
    new_origin = origin.model_copy(update={"id": "t-new-origin", "version": 6000, "state": "transferred"})
    successor = origin.model_copy(
        update={"id": "t-successor", "version": 6001, "transferred_from_id": "t-new-origin"}
    )
    # the successor comes first in the page; foreign keys are on, so the order of inserts matters
    _apply(local_store, page_of(seed_day, tickets=[successor, new_origin], appointments=[]))
    with local_store.session() as session:
        assert session.get_one(Ticket, "t-successor").transferred_from_id == "t-new-origin"
        assert session.get_one(Ticket, "t-successor").issued_at == origin.issued_at


def test_new_epoch_resends_what_the_restored_central_lost(local_store: LocalStore, seed_day: SeedDay) -> None:
    _apply(local_store, page_of(seed_day))
    ticket_id = seed_day.tickets[0].id
    for seq in (1, 2, 3):
        _pending_op(local_store, seq, ticket_id, OperationStatus.APPLIED)
    with local_store.session() as session:
        resent = replica.restart_for_new_epoch(
            session, workstation_id=WS, office_id=BUERGERAMT_ID, epoch="epoch-2", central_acked_seq=1
        )
        session.commit()
    assert resent == 2
    with local_store.session() as session:
        statuses = dict(session.execute(select(OutboxOperation.seq, OutboxOperation.status)).all())
        state = session.get_one(SyncState, WS)
        assert statuses == {1: "applied", 2: "pending", 3: "pending"}
        assert (state.cursor, state.epoch, state.acked_seq) == (0, "epoch-2", 1)
        assert session.get_one(Ticket, ticket_id).version == 0  # any snapshot of the new epoch wins


def test_knows_what_a_ticket_refers_to(local_store: LocalStore, seed_day: SeedDay) -> None:
    page = page_of(seed_day)
    _apply(local_store, page)
    with local_store.session() as session:
        service_ids = [page.services[0].id]
        assert replica.knows(session, page.appointments[0].id, service_ids)
        assert not replica.knows(session, "apt-unknown", service_ids)
        assert not replica.knows(session, None, ["svc-unknown"])


def test_initial_sync_of_a_big_day_is_fast(local_store: LocalStore) -> None:
    big = generate_day(DAY, seed=1, appointments=5000, waiting=2000, now=NOW + timedelta(hours=2))
    page = page_of(big)
    with recorded_statements(local_store.engine, local_store.write_engine) as statements:
        _apply(local_store, page)
    with local_store.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == len(page.tickets)
        assert session.scalar(select(func.count()).select_from(Service)) == len(page.services)
    rows = len(page.appointments) + len(page.tickets)
    print(f"applied {rows} appointments and tickets in {len(statements)} statements")  # measured: 32
    # Fast means in bulk: rows are loaded and written many per statement, never one round trip each.
    assert len(statements) * 50 < rows, len(statements)
