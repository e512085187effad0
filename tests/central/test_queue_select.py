"""The SQL pre-selection never changes the rule: over random queues, the ticket `choose_next` picks from
the pre-selected candidates is the one it picks from the whole queue, call after call.

Times come from a coarse grid so ties on (reason, time) are common and the cut at `limit` often falls
inside a group of ties, which only the natural ticket-number order can settle.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from sync.central import store
from sync.central.queue_select import preselect
from sync.ordering import OrderingRules, QueueEntry, choose_next

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.central.postgres_server import PostgresServer

T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
OFFICE, OTHER_OFFICE = "o1", "o2"
SERVICES = ("s1", "s2", "s3", "s4")
DESKS = ("d1", "d2")


@dataclass(frozen=True)
class GeneratedTicket:
    number: str
    office_id: str
    state: str
    issued_minute: int
    priority: int
    slot_minute: int | None
    last_called_minute: int | None  # minutes before now
    target_desk_id: str | None
    service_ids: tuple[str, ...]


def minutes(value: int) -> timedelta:
    return timedelta(minutes=value)


tickets_strategy = st.builds(
    GeneratedTicket,
    number=st.builds(lambda p, n: f"{p}{n}", st.sampled_from("AB"), st.integers(1, 120)),
    office_id=st.sampled_from((OFFICE,) * 7 + (OTHER_OFFICE,)),
    state=st.sampled_from(("waiting",) * 8 + ("called", "finished")),
    issued_minute=st.integers(0, 4).map(lambda n: 15 * n),
    priority=st.sampled_from((0,) * 6 + (1, 2)),
    slot_minute=st.none() | st.integers(0, 8).map(lambda n: 10 * n),
    last_called_minute=st.none() | st.none() | st.integers(0, 8),
    target_desk_id=st.sampled_from((None,) * 4 + DESKS),
    # Mostly services the usual desk serves, so most tickets are eligible and ties are frequent.
    service_ids=st.sampled_from(
        (("s1",), ("s2",), ("s1", "s2"), ("s1",), ("s3",), ("s4",), ("s2", "s4"), ())
    ),
)
desk_services_strategy = st.sampled_from((SERVICES[:3],) * 4 + (SERVICES, ("s1",), ())).map(
    lambda services: [f"{OFFICE}-{s}" for s in services]
)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def central(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[store.CentralStore]:
    """One store for all examples (each example replaces the tickets), with offices, services, desks."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('queue') / 'central.sqlite3'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database()
    central = store.CentralStore(url)
    central.create_schema()
    with central.write() as session:
        for office_id in (OFFICE, OTHER_OFFICE):
            session.add(store.Office(id=office_id, name=office_id))
        session.flush()
        for office_id in (OFFICE, OTHER_OFFICE):
            session.add_all(
                store.Service(id=f"{office_id}-{s}", office_id=office_id, code=s, name=s) for s in SERVICES
            )
        session.add_all(store.Desk(id=d, office_id=OFFICE, number=n, name=d) for n, d in enumerate(DESKS))
    yield central
    central.dispose()


def load(central: store.CentralStore, tickets: list[GeneratedTicket], now: datetime) -> list[QueueEntry]:
    """Replace the queue with `tickets`; returns this office's waiting ones as the rule sees them."""
    entries = []
    with central.write() as session:
        session.execute(delete(store.TicketService))
        session.execute(delete(store.Ticket))
        session.execute(delete(store.Appointment))
        for index, generated in enumerate(tickets):
            ticket_id = f"t{index:03d}"
            slot = None if generated.slot_minute is None else T0 + minutes(generated.slot_minute)
            if slot is not None:
                session.add(
                    store.Appointment(
                        id=f"a{index:03d}",
                        office_id=generated.office_id,
                        booking_reference=f"REF-{index:03d}",
                        slot_start=slot,
                        status="checked_in",
                        given_name="Jörg",
                        family_name="Müller",
                        service_ids=[],
                    )
                )
                session.flush()
            last_called = (
                None if generated.last_called_minute is None else now - minutes(generated.last_called_minute)
            )
            service_ids = [f"{generated.office_id}-{s}" for s in generated.service_ids]
            session.add(
                store.Ticket(
                    id=ticket_id,
                    office_id=generated.office_id,
                    number=generated.number,
                    appointment_id=None if slot is None else f"a{index:03d}",
                    issued_at=T0 + minutes(generated.issued_minute),
                    priority=generated.priority,
                    state=generated.state,
                    last_called_at=last_called,
                    target_desk_id=generated.target_desk_id if generated.office_id == OFFICE else None,
                    service_ids=service_ids,
                )
            )
            if generated.office_id == OFFICE and generated.state == "waiting":
                entries.append(
                    QueueEntry(
                        ticket_id=ticket_id,
                        number=generated.number,
                        issued_at=T0 + minutes(generated.issued_minute),
                        service_ids=frozenset(service_ids),
                        priority=generated.priority,
                        last_called_at=last_called,
                        slot_start=slot,
                        target_desk_id=generated.target_desk_id,
                    )
                )
    return entries


def walk_in(number: str, issued_minute: int, **changes: Any) -> GeneratedTicket:
    ticket = GeneratedTicket(number, OFFICE, "waiting", issued_minute, 0, None, None, None, ("s1",))
    return replace(ticket, **changes)


# Exact boundaries, which random times reach only now and then; each with the cut at one candidate.
BOUNDARY_CASES: dict[str, tuple[list[GeneratedTicket], str]] = {
    "due at slot minus the early window": ([walk_in("A1", 0), walk_in("A2", 10, slot_minute=40)], "A2"),
    "checked in at this very minute": ([walk_in("A1", 0), walk_in("A2", 30, slot_minute=30)], "A2"),
    "recall block ends now": ([walk_in("A1", 5, last_called_minute=5), walk_in("A2", 10)], "A1"),
    "urgent appointment by arrival": (
        [walk_in("A1", 20, priority=1), walk_in("A2", 10, priority=1, slot_minute=60)],
        "A2",
    ),
    "ties cut by natural number order": ([walk_in("A10", 0), walk_in("A9", 0), walk_in("A100", 0)], "A9"),
}


@pytest.mark.parametrize("case", BOUNDARY_CASES)
def test_boundaries_of_the_rule(central: store.CentralStore, case: str) -> None:
    now, rules = T0 + minutes(30), OrderingRules(recall_block_minutes=5, early_window_minutes=10)
    tickets, expected_number = BOUNDARY_CASES[case]
    queue = load(central, tickets, now)
    with central.read() as session:
        candidates = preselect(session, OFFICE, "d1", [f"{OFFICE}-s1"], now, rules, limit=1)
    expected = choose_next(queue, [f"{OFFICE}-s1"], now, rules, desk_id="d1")
    assert expected is not None
    assert expected.number == expected_number
    assert choose_next(candidates.entries, [f"{OFFICE}-s1"], now, rules, desk_id="d1") == expected


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tickets=st.lists(tickets_strategy, min_size=10, max_size=40),
    now_minute=st.integers(0, 18).map(lambda n: 5 * n),  # on the grid: exact boundaries
    desk_id=st.sampled_from(DESKS),
    desk_services=st.lists(st.sampled_from(SERVICES), unique=True).map(
        lambda s: [f"{OFFICE}-{x}" for x in s]
    ),
    limit=st.integers(1, 3),
    rules=st.builds(
        OrderingRules,
        recall_block_minutes=st.integers(0, 6),
        early_window_minutes=st.sampled_from((0, 5, 10)),
    ),
)
def test_preselection_picks_what_the_rule_picks_over_the_whole_queue(
    central: store.CentralStore,
    tickets: list[GeneratedTicket],
    now_minute: int,
    desk_id: str,
    desk_services: list[str],
    limit: int,
    rules: OrderingRules,
) -> None:
    now = T0 + minutes(now_minute)
    queue = load(central, tickets, now)
    taken: list[str] = []
    with central.read() as session:
        while True:  # call after call until the queue is empty: the tickets taken are excluded
            remaining = [entry for entry in queue if entry.ticket_id not in taken]
            expected = choose_next(remaining, desk_services, now, rules, desk_id=desk_id)
            candidates = preselect(
                session, OFFICE, desk_id, desk_services, now, rules, exclude=taken, limit=limit
            )
            got = choose_next(candidates.entries, desk_services, now, rules, desk_id=desk_id)
            assert got == expected
            # Every candidate is eligible, and "complete" means nothing eligible was left out.
            assert all(
                choose_next([e], desk_services, now, rules, desk_id=desk_id) for e in candidates.entries
            )
            if candidates.complete:
                eligible = {
                    e.ticket_id
                    for e in remaining
                    if choose_next([e], desk_services, now, rules, desk_id=desk_id)
                }
                assert {e.ticket_id for e in candidates.entries} == eligible
            if expected is None:
                break
            taken.append(expected.ticket_id)


def test_service_links_follow_the_ticket_services(tmp_path: Path) -> None:
    central = store.CentralStore(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    central.create_schema()
    with central.write() as session:
        session.add(store.Office(id=OFFICE, name=OFFICE))
        session.flush()
        session.add(
            store.Ticket(id="t1", office_id=OFFICE, number="A1", issued_at=T0, service_ids=["x", "y", "x"])
        )
    with central.write() as session:
        ticket = session.get(store.Ticket, "t1")
        assert ticket is not None
        assert sorted(link.service_id for link in ticket.service_links) == ["x", "y"]
        ticket.service_ids = ["y", "z"]
    with central.read() as session:
        links = session.query(store.TicketService.service_id).filter_by(ticket_id="t1").all()
        assert sorted(link.service_id for link in links) == ["y", "z"]
    central.dispose()


def test_tickets_stored_before_the_links_existed_get_them_on_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    central = store.CentralStore(url)
    central.create_schema()
    with central.write() as session:
        session.add(store.Office(id=OFFICE, name=OFFICE))
        session.flush()
        session.add(store.Ticket(id="t1", office_id=OFFICE, number="A1", issued_at=T0, service_ids=["x"]))
    with central.write() as session:
        session.execute(delete(store.TicketService))  # as an older version of the service left it
    central.dispose()
    restarted = store.CentralStore(url)
    restarted.create_schema()
    with restarted.read() as session:
        assert session.query(store.TicketService.service_id).filter_by(ticket_id="t1").all() == [("x",)]
    restarted.dispose()


def test_a_desk_without_services_gets_nothing(central: store.CentralStore) -> None:
    now = T0 + minutes(30)
    load(central, [GeneratedTicket("A1", OFFICE, "waiting", 0, 0, None, None, None, ("s1",))], now)
    with central.read() as session:
        assert preselect(session, OFFICE, "d1", [], now, OrderingRules()).entries == []
        assert [
            e.number for e in preselect(session, OFFICE, "d1", ["o1-s1"], now, OrderingRules()).entries
        ] == ["A1"]
