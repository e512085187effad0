"""The database's preselection for call-next picks exactly what the pure rule picks from the whole
queue (random queues in a real local store)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from sync.ordering import OrderingRules, choose_next, is_eligible
from tests.core.conftest import DESK_1, DESK_2, KFZ, OFFICE, PA, RP, SmallOffice
from workstation import queries
from workstation.models import Appointment, Ticket, ticket_services

RULES = OrderingRules()

# waited, services, priority, slot in minutes, last called minutes ago, transfer target, number
QueuedTicket = tuple[int, tuple[str, ...], int, int | None, int | None, str | None, str]

tickets = st.lists(
    st.tuples(
        st.integers(0, 180),  # waited minutes
        st.sampled_from([(PA,), (RP,), (PA, RP), (KFZ,), (PA, KFZ)]),
        st.integers(0, 6).map(lambda p: 1 if p == 0 else 0),  # priority
        st.one_of(st.none(), st.integers(-60, 40)),  # slot in minutes
        st.one_of(st.none(), st.integers(0, 8)),  # last called minutes ago
        st.sampled_from([None, None, DESK_1, DESK_2]),  # transfer target
        st.sampled_from(["A7", "A10", "A100", "B9", "T3"]),  # numbers repeat: ties by number
    ),
    max_size=15,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(queue=tickets, limit=st.sampled_from([1, 2, 50]))
def test_preselection_and_rule_agree(office: SmallOffice, queue: list[QueuedTicket], limit: int) -> None:
    with office.store.session() as session:
        for statement in (delete(ticket_services), delete(Ticket), delete(Appointment)):
            session.execute(statement)
        session.commit()
    for index, (waited, services, priority, slot, called_ago, target, number) in enumerate(queue):
        office.add_ticket(f"t{index}", number, waited, services, priority=priority, slot_in_minutes=slot)
        with office.store.session() as session:
            ticket = session.get_one(Ticket, f"t{index}")
            ticket.target_desk_id = target
            if called_ago is not None:
                ticket.last_called_at = office.clock.now - timedelta(minutes=called_ago)
            session.commit()
    now = office.clock.now
    with office.store.session() as session:
        served = queries.desk_service_ids(session, DESK_1)
        everything = choose_next(queries.waiting_entries(session, OFFICE), served, now, RULES, desk_id=DESK_1)
        preselected = queries.call_candidates(session, OFFICE, DESK_1, served, now, RULES, limit=limit)
        chosen = choose_next(preselected, served, now, RULES, desk_id=DESK_1)
        whole = queries.waiting_entries(session, OFFICE)
        all_preselected = queries.call_candidates(session, OFFICE, DESK_1, served, now, RULES, limit=1000)
    assert chosen == everything
    # Unlimited, the preselection is exactly the eligible queue.
    eligible = {e.ticket_id for e in whole if is_eligible(e, served, now, RULES, DESK_1)}
    assert {e.ticket_id for e in all_preselected} == eligible
