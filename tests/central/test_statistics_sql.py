"""The central SQL figures equal the pure functions on generated days, on SQLite and PostgreSQL.

The generated events travel the real way: as pushed operations through `sync.central.apply`, so the
rows the SQL reads are the rows the central service writes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from sync.central import apply, presence, store
from sync.central.statistics_sql import day_figures_sql, has_tickets_on
from sync.protocol import Operation, OperationKind, PushRequest
from sync.statistics import DeskPresence, Event, EventKind, day_figures, fold_events
from tests.sync.statistics_days import DAY, DESKS, SERVICES, GeneratedDay, clerk_of, days
from tests.sync.test_statistics import HAND_BUILT_DAY, HAND_BUILT_LOGINS, at

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

OFFICE = "stats-office"
_RANK = {kind: rank for rank, kind in enumerate(EventKind)}


def make_store(db_url: str) -> store.CentralStore:
    central = store.CentralStore(db_url)
    central.create_schema()
    seed_office(central)
    return central


def seed_office(central: store.CentralStore) -> None:
    """The office, its services s1–s3 and desks d1–d3 (each serving all) with clerks c1–c3."""
    with central.write() as session:
        office = store.Office(id=OFFICE, name="Bürgeramt Statistik", service_level_minutes=15)
        session.add(office)
        session.flush()  # before the rows that name it (the models have no relationship to order them)
        rows: list[Any] = [office]
        rows += [
            store.Service(id=s, office_id=OFFICE, code=s.upper(), name=f"Leistung {s}") for s in SERVICES
        ]
        rows += [
            store.Desk(
                id=d, office_id=OFFICE, number=int(d[1:]), name=f"Platz {d[1:]}", service_ids=list(SERVICES)
            )
            for d in DESKS
        ]
        rows += [store.Clerk(id=clerk_of(d), office_id=OFFICE, name=f"Sachb. {d[1:]}") for d in DESKS]
        session.add_all(rows)
        session.flush()
        store.stamp(session, OFFICE, rows)


def operations(events: Sequence[Event]) -> Iterator[tuple[OperationKind, dict[str, Any]]]:
    """The workstation operations that make the central store hold what `events` describe."""
    calls: dict[str, int] = {}
    for event in sorted(events, key=lambda e: (e.at, _RANK[e.kind], e.ticket_id)):
        t, at = event.ticket_id, event.at.isoformat()
        desk = {"desk_id": event.desk_id, "clerk_id": event.clerk_id}
        match event.kind:
            case EventKind.ISSUE:
                appointment = f"ap-{t}" if event.slot is not None else None
                yield (
                    OperationKind.TICKET_ISSUE,
                    {
                        "ticket_id": t,
                        "number": t[-4:],
                        "service_ids": list(event.service_ids),
                        "appointment_id": appointment,
                        "at": at,
                    },
                )
            case EventKind.CALL:
                calls[t] = calls.get(t, 0) + 1
                yield (
                    OperationKind.TICKET_CALL,
                    {
                        "ticket_id": t,
                        "call_id": f"call-{t}-{calls[t]}",
                        "called_at": at,
                        "recall": calls[t] > 1,
                        **desk,
                    },
                )
            case EventKind.SERVE:
                yield OperationKind.TICKET_SERVE, {"ticket_id": t, "case_id": f"case-{t}", "at": at, **desk}
            case EventKind.PARK:
                yield OperationKind.TICKET_PARK, {"ticket_id": t, "case_id": f"case-{t}", "at": at}
            case EventKind.RESUME:
                yield OperationKind.TICKET_RESUME, {"ticket_id": t, "case_id": f"case-{t}", "at": at, **desk}
            case EventKind.TRANSFER:
                yield (
                    OperationKind.TICKET_TRANSFER,
                    {
                        "ticket_id": t,
                        "new_ticket_id": event.new_ticket_id,
                        "service_ids": list(event.service_ids),
                        "at": at,
                    },
                )
            case EventKind.FINISH:
                yield (
                    OperationKind.CASE_FINISH,
                    {"ticket_id": t, "case_id": f"case-{t}", "outcomes": {}, "at": at},
                )
            case EventKind.NO_SHOW:
                yield OperationKind.TICKET_NO_SHOW, {"ticket_id": t, "at": at}


def load_day(central: store.CentralStore, events: Sequence[Event]) -> None:
    """Book the appointments, then push the day's operations; every one must apply."""
    with central.write() as session:
        booked = [
            store.Appointment(
                id=f"ap-{e.ticket_id}",
                office_id=OFFICE,
                booking_reference=f"REF-{uuid.uuid4().hex[:12]}",
                slot_start=e.slot,
                given_name="Erika",
                family_name="Muster",
                service_ids=list(e.service_ids),
            )
            for e in events
            if e.kind is EventKind.ISSUE and e.slot is not None
        ]
        session.add_all(booked)
        session.flush()
        store.stamp(session, OFFICE, booked)
    workstation = f"ws-{uuid.uuid4().hex[:8]}"
    seq = count(1)
    batch = [
        Operation(op_id=str(uuid.uuid4()), seq=next(seq), kind=kind, args=args, created_at=DAY_NOON)
        for kind, args in operations(events)
    ]
    for start in range(0, len(batch), 500):
        with central.write() as session:
            request = PushRequest(
                workstation_id=workstation, office_id=OFFICE, operations=batch[start : start + 500]
            )
            response = apply.push(session, request, DAY_NOON)
        assert [r.reason for r in response.results if r.status != "applied"] == []


DAY_NOON = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


def load_logins(central: store.CentralStore, logins: Sequence[DeskPresence], expired: set[int]) -> None:
    """Record each login as the central service does at POST /sessions, and its logout at DELETE
    /sessions/current unless its index is in `expired` (the session ran out at `ended`)."""
    for index, login in enumerate(logins):
        digest = f"session-{uuid.uuid4().hex}"
        with central.write() as session:
            expires = login.ended if index in expired else login.started + timedelta(hours=12)
            presence.start_presence(
                session,
                session_digest=digest,
                office_id=OFFICE,
                desk_id=login.desk_id,
                clerk_id=login.clerk_id,
                workstation_id=f"ws-{index}",
                now=login.started,
                expires_at=expires,
            )
        if index not in expired:
            with central.write() as session:
                presence.end_presence(session, digest, login.ended)


def test_the_hand_built_day_from_sql(db_url: str) -> None:
    central = make_store(db_url)
    try:
        load_day(central, HAND_BUILT_DAY)
        load_logins(central, HAND_BUILT_LOGINS, expired={4})
        with central.read() as session:
            assert has_tickets_on(session, OFFICE, DAY)
            from_sql = day_figures_sql(session, OFFICE, DAY, 15, now=at(10, 45))
        pure = day_figures(
            fold_events(HAND_BUILT_DAY), DAY, target_minutes=15, presence=HAND_BUILT_LOGINS, now=at(10, 45)
        )
        assert from_sql == pure
        assert from_sql.total.waiting.total == (10 + 25 + 13 + 10) * 60  # by hand, as in tests/sync
        assert from_sql.desks["d1"].idle_seconds == (90 - 2 - 24) * 60
        assert from_sql.desks["d3"].idle_seconds == (30 + 45) * 60
    finally:
        central.dispose()


@pytest.fixture
def central_store(db_url: str) -> Iterator[store.CentralStore]:
    central = make_store(db_url)
    yield central
    central.dispose()


@settings(
    max_examples=15,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking a database test takes minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(day=days(max_tickets=30))
def test_sql_figures_equal_the_pure_functions_on_generated_days(
    central_store: store.CentralStore, day: GeneratedDay
) -> None:
    # every example writes into the same database: keep each on its own office day, cleaned first
    with central_store.write() as session:
        for model in (store.Case, store.Call, store.AppliedOperation, store.DeskPresence):
            session.query(model).delete()
        session.query(store.TicketService).delete()
        session.query(store.Ticket).filter(store.Ticket.transferred_from_id.is_not(None)).delete()
        session.query(store.Ticket).delete()
        session.query(store.Appointment).delete()
    load_day(central_store, day.events)
    logins = day.presence
    expired = {i for i, login in enumerate(day.logins) if login.ended is None}
    load_logins(central_store, logins, expired=expired)
    with central_store.read() as session:
        from_sql = day_figures_sql(session, OFFICE, DAY, 15)
    assert from_sql == day_figures(fold_events(day.events), DAY, target_minutes=15, presence=logins)
