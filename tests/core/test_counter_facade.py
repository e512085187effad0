"""The counter facade: read models for the screens, remote call-next with local fallback, audit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from sync.central.seed import BUERGERAMT_ID, generate_day
from tests.core.conftest import NOW, OFFICE, PA, RP, SmallOffice
from tests.seeding import seed_local_store
from tests.statements import recorded_statements
from workstation import audit
from workstation.commands import CallResult, DeskContext
from workstation.counter import Counter
from workstation.db import LocalStore
from workstation.errors import CentralUnavailable, CommandRefused
from workstation.models import AuditEvent, Base, OutboxOperation
from workstation.queries import CounterView


class Remote:
    """A RemoteCaller whose answer the test sets; records how often it was asked."""

    def __init__(self, answer: CallResult | Exception | None) -> None:
        self.answer = answer
        self.asked = 0

    def call_next(self, ctx: DeskContext) -> CallResult | None:  # noqa: ARG002  (the remote's signature)
        self.asked += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def outbox_kinds(store: LocalStore) -> list[str]:
    with store.session() as session:
        return list(session.scalars(select(OutboxOperation.kind).order_by(OutboxOperation.seq)))


def test_call_next_falls_back_to_the_local_queue_when_central_is_away(office: SmallOffice) -> None:
    office.add_ticket("t1", "A101", 20)
    remote = Remote(CentralUnavailable("Die Zentrale ist nicht erreichbar."))
    counter = Counter(office.store, office.ctx(), remote=remote, clock=office.clock)
    result = counter.call_next()
    assert remote.asked == 1
    assert result is not None
    assert result.ticket_id == "t1"
    assert outbox_kinds(office.store) == ["ticket.call"]


def test_call_next_takes_the_central_answer_and_asks_only_a_free_desk(office: SmallOffice) -> None:
    office.add_ticket("t1", "A101", 20)
    central = CallResult("t1", "A101", 1, "Ohne Termin, wartet seit 20 min", "call-1")
    remote = Remote(central)
    counter = Counter(office.store, office.ctx(), remote=remote, clock=office.clock)
    assert counter.call_next() == central
    assert outbox_kinds(office.store) == []  # the remote caller records the call itself
    remote.answer = None
    assert counter.call_next() is None  # central says nobody waits: no local guess

    office.counter().call_ticket("t1")
    with pytest.raises(CommandRefused):
        counter.call_next()
    assert remote.asked == 2


def test_the_counter_view_shows_current_queue_and_appointments(office: SmallOffice) -> None:
    office.add_ticket("walk", "A101", 12)
    office.add_ticket("urgent", "A102", 2, priority=1)
    office.add_ticket("apt", "T201", 8, (PA, RP), slot_in_minutes=-2)
    counter = office.counter()
    view = counter.view()
    assert isinstance(view, CounterView)
    assert view.current is None
    assert view.waiting_count == 3
    assert [row.number for row in view.queue] == ["A102", "T201", "A101"]
    assert view.queue[0].due_explanation == "Dringend, wartet seit 2 min"
    assert view.queue[2].due_explanation == "Ohne Termin, wartet seit 12 min"
    # slot two minutes ago (09:58 Berlin), due from five minutes before it
    assert view.queue[1].due_explanation == "Termin 09:58, fällig seit 7 min"
    assert [s.name for s in view.queue[1].services] == ["Personalausweis", "Reisepass"]
    [appointment] = view.appointments
    assert appointment.citizen_name == "Jürgen Müller-apt"
    assert appointment.status == "checked_in"

    called = counter.call_next()
    assert called is not None
    assert called.number == "A102"
    office.clock.advance(minutes=1)
    current = counter.current_ticket()
    assert current is not None
    assert (current.number, current.state, current.called_count) == (
        "A102",
        "called",
        1,
    )
    assert current.waited_minutes == 2
    assert current.case_id is None
    assert [row.number for row in counter.queue_rows()] == ["T201", "A101"]
    counter.citizen_arrived()
    counter.park()
    parked = counter.queue_rows()[-1]
    assert (parked.number, parked.state) == ("A102", "parked")


def test_the_first_queue_row_is_what_call_next_takes(seeded_store: LocalStore) -> None:
    ctx = DeskContext("ws-1", BUERGERAMT_ID, f"{BUERGERAMT_ID}-d1", f"{BUERGERAMT_ID}-c2")
    clock = iter(NOW + timedelta(seconds=i) for i in range(1000))
    counter = Counter(seeded_store, ctx, clock=lambda: next(clock))
    for _ in range(5):
        expected = counter.queue_rows()[0]
        called = counter.call_next()
        assert called is not None
        assert called.ticket_id == expected.ticket_id
        counter.citizen_arrived()
        case = counter.current_ticket()
        assert case is not None
        counter.finish({service.id: "completed" for service in case.services})


def test_reading_a_case_is_audited_without_personal_data(office: SmallOffice) -> None:
    office.add_ticket("apt", "T201", 8, (PA, RP), slot_in_minutes=-2)
    counter = office.counter()
    counter.call_next()
    opened = counter.citizen_arrived()
    case = counter.case(opened.case_id)
    assert case.citizen_name == "Jürgen Müller-apt"
    assert case.birth_date == date(1980, 5, 17)
    assert [s.name for s in case.services] == ["Personalausweis", "Reisepass"]
    assert case.services[0].required_documents == ("Altes Dokument", "Lichtbild")
    counter.check_documents(opened.case_id, PA, ["Lichtbild"])
    assert counter.case(opened.case_id).services[0].documents_checked == ("Lichtbild",)
    hits = counter.search("müller")
    assert [hit.appointment_id for hit in hits] == ["apt-apt"]

    with office.store.session() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        assert [e.action for e in events] == ["case.read", "case.read", "search"]
        assert all(e.clerk_id == "clerk-1" for e in events)
        assert events[0].case_id == opened.case_id
        stored = " ".join(str(e.detail) for e in events)
        assert "üller" not in stored
        assert "1980" not in stored
        assert events[2].detail["query"] == audit.hash_identifier("müller")
        assert audit.verify_chain(session).intact
    with pytest.raises(CommandRefused):
        counter.case("no-such-case")


def test_search_finds_tickets_references_and_names(office: SmallOffice) -> None:
    office.add_ticket("apt", "T201", 8, slot_in_minutes=-2)
    office.add_ticket("walk", "A101", 5)
    counter = office.counter()
    assert [hit.ticket_id for hit in counter.search("a101")] == ["walk"]
    assert [hit.appointment_id for hit in counter.search("REF-apt")] == ["apt-apt"]
    assert [hit.appointment_id for hit in counter.search("jürgen müller")] == ["apt-apt"]
    assert counter.search("%") == []
    assert counter.search("  ") == []


def test_transfer_targets_are_the_other_desks_and_all_services(office: SmallOffice) -> None:
    targets = office.counter().transfer_targets()
    assert [d.name for d in targets.desks] == ["Schalter 2"]
    assert [s.name for s in targets.services] == ["Personalausweis", "Reisepass", "Zulassung"]
    assert OFFICE


def test_the_counter_view_on_a_busy_day_costs_a_few_queries(tmp_path_factory: pytest.TempPathFactory) -> None:
    """5,000 appointments and 2,000 waiting tickets: F2 plus the refreshed view send a few statements
    and load a few ORM rows, however long the queue (an N+1 query would cost hundreds of each).
    Counted, not timed: bench/keypress_f2.py records the milliseconds."""
    store = LocalStore(tmp_path_factory.mktemp("busy") / "tresen.sqlite3")
    store.migrate()
    day = generate_day(NOW.date(), seed=5, appointments=5000, waiting=2000, now=NOW)
    with store.session() as session:
        seed_local_store(session, day, BUERGERAMT_ID, now=NOW)
        session.commit()
    ctx = DeskContext("ws-1", BUERGERAMT_ID, f"{BUERGERAMT_ID}-d1", f"{BUERGERAMT_ID}-c2")
    moments = iter(NOW + timedelta(seconds=i) for i in range(10_000))
    counter = Counter(store, ctx, clock=lambda: next(moments))
    view = counter.view()
    assert view.waiting_count > 1000
    assert len(view.appointments) > 3000

    loaded: list[object] = []

    def record_load(row: object, _context: object) -> None:
        loaded.append(row)

    event.listen(Base, "load", record_load, propagate=True)
    try:
        for _ in range(15):
            loaded.clear()
            with recorded_statements(store.engine, store.write_engine) as statements:
                called = counter.call_next()
                counter.current_ticket()
                rows = counter.queue_rows()
            assert called is not None
            assert len(rows) > 1000
            # Measured: 19-20 statements and 6-8 rows per round, the same with 50 tickets waiting.
            assert len(statements) <= 25, statements
            assert len(loaded) <= 15, [type(row).__name__ for row in loaded]
            counter.citizen_arrived()
            counter.finish({service_id: "completed" for service_id in _current_service_ids(counter)})
    finally:
        event.remove(Base, "load", record_load)
    store.dispose()


def _current_service_ids(counter: Counter) -> list[str]:
    current = counter.current_ticket()
    assert current is not None
    return [service.id for service in current.services]
