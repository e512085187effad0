"""Issue 9: leases with fencing tokens. F2 calls a ticket leased to the desk without the network; no
other desk gets it from the central service meanwhile; two offline desks calling from their leases
never call one ticket twice; a call made under a lease that expired and moved on is refused by its
token, and the desk is told."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import delete, select

from sync.central import store as central_models
from sync.central.leases import LEASE_TIME
from tests.sync.desks import Desk, accepted_calls
from tests.sync.support import CLERK, DESK, NOW, OTHER_CLERK, OTHER_DESK
from tests.sync_fixtures import BOTH_BACKENDS
from workstation.models import DeskLease, OperationStatus
from workstation.sync_engine import LEASES_PER_DESK

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sync.central.embedded import EmbeddedCentral
    from tests.central.conftest import MovableClock


pytestmark = BOTH_BACKENDS  # the central store matters here: SQLite and PostgreSQL


@pytest.fixture
def desks(tmp_path: Path, served: EmbeddedCentral) -> Iterator[tuple[Desk, Desk]]:
    pair = (
        Desk(tmp_path, served, "ws-a", DESK, CLERK),
        Desk(tmp_path, served, "ws-b", OTHER_DESK, OTHER_CLERK),
    )
    yield pair
    for desk in pair:
        desk.close()


def test_f2_calls_a_leased_ticket_without_the_network(
    desks: tuple[Desk, Desk], served: EmbeddedCentral
) -> None:
    a, _ = desks
    assert a.engine.sync_once().online
    leased = a.leased()
    assert len(leased) == LEASES_PER_DESK
    a.link.cut()
    called = a.counter.call_next()
    assert called is not None
    assert called.ticket_id in leased
    [op] = a.call_ops()
    assert op.args["lease_token"] == leased[called.ticket_id]
    assert called.ticket_id not in a.leased()  # a lease is used once
    a.link.restore()
    report = a.engine.sync_once()
    assert (report.pushed, report.rejected) == (1, 0)
    assert accepted_calls(served)[called.ticket_id] == 1


def test_a_desk_without_a_lease_gets_the_rules_choice_even_if_leased_and_the_holder_is_told(
    desks: tuple[Desk, Desk], served: EmbeddedCentral
) -> None:
    """A leased ticket is not out of reach of an idle desk (bench/lease_order.py: idle desks beside
    waiting citizens otherwise): the central service calls it there and revokes the lease; the
    holder's call under the old token is refused and counted."""
    a, b = desks
    assert a.engine.sync_once().online
    with b.store.write() as session:  # b holds no lease: its F2 goes to the central service
        session.execute(delete(DeskLease))
    b.engine.pull()
    a.link.cut()  # a does not hear of it before its own F2
    taken = b.engine.call_next(b.ctx)
    assert taken is not None
    assert taken.ticket_id in a.leased()  # the rule's choice, leased to a
    with a.store.write() as session:  # a calls exactly that one from its (now revoked) lease
        session.execute(delete(DeskLease).where(DeskLease.ticket_id != taken.ticket_id))
    called = a.counter.call_next()
    assert called is not None
    assert called.ticket_id == taken.ticket_id
    a.link.restore()
    report = a.engine.sync_once()
    assert report.rejected == 1
    assert a.engine.status().rejected_operations == 1
    assert accepted_calls(served)[taken.ticket_id] == 1


def test_logging_out_gives_the_leases_back(desks: tuple[Desk, Desk], served: EmbeddedCentral) -> None:
    a, b = desks
    assert a.engine.sync_once().online
    held = set(a.leased())
    a.engine.release_leases()
    assert a.leased() == {}
    assert b.engine.sync_once().online
    assert set(b.leased()) == held  # the rule's first tickets, free again at once, not in 10 minutes
    with served.store.read() as session:
        still_a = session.scalars(
            select(central_models.TicketLease.ticket_id).where(
                central_models.TicketLease.desk_id == DESK,
                central_models.TicketLease.expires_at > NOW - timedelta(seconds=1),
            )
        ).all()
    assert still_a == []


def test_two_offline_desks_calling_from_their_leases_never_call_one_ticket_twice(
    desks: tuple[Desk, Desk], served: EmbeddedCentral
) -> None:
    a, b = desks
    for desk in desks:
        assert desk.engine.sync_once().online
    assert not set(a.leased()) & set(b.leased())
    for desk in desks:
        desk.link.cut()
    for desk in desks:  # an outage, compressed: each desk calls and serves from its leases
        for _ in range(LEASES_PER_DESK):
            assert desk.counter.call_next() is not None
            desk.serve_and_finish()
    for desk in desks:
        desk.link.restore()
    reports = [desk.engine.sync_once() for desk in desks]
    assert [(report.online, report.rejected) for report in reports] == [(True, 0), (True, 0)]
    assert list(accepted_calls(served).values()) == [1] * 2 * LEASES_PER_DESK


def test_beyond_their_leases_two_offline_desks_conflict_at_most_once_and_are_told(
    desks: tuple[Desk, Desk], served: EmbeddedCentral
) -> None:
    for desk in desks:
        assert desk.engine.sync_once().online
        with desk.store.write() as session:  # the leases used up: F2 offline is the local choice
            session.execute(delete(DeskLease))
        desk.link.cut()
    called = [desk.counter.call_next() for desk in desks]
    assert called[0] is not None
    assert called[1] is not None
    assert called[0].ticket_id == called[1].ticket_id  # the same rule over the same queue
    for desk in desks:
        desk.link.restore()
    reports = [desk.engine.sync_once() for desk in desks]
    assert all(count == 1 for count in accepted_calls(served).values())  # never two accepted calls
    rejected = sum(report.rejected for report in reports)
    # Both chose by the same rule from the same queue; a ticket leased to the other desk or called by
    # it first is refused, kept, and counted where the clerk sees it.
    assert rejected == 1
    assert sum(desk.engine.status().rejected_operations for desk in desks) == rejected


def test_a_call_under_a_lease_that_moved_on_is_refused_by_its_token_and_the_desk_told(
    desks: tuple[Desk, Desk], served: EmbeddedCentral, central_time: MovableClock
) -> None:
    a, b = desks
    assert a.engine.sync_once().online
    assert b.engine.sync_once().online
    a.link.cut()  # desk a stops talking (paused, a dead link) while its clock stands still
    central_time.advance(seconds=(LEASE_TIME + timedelta(minutes=1)).total_seconds())
    with b.store.write() as session:  # b has used its leases up meanwhile
        session.execute(delete(DeskLease))
    with served.store.write() as session:  # ... and the central service forgot b's: b asks anew
        session.execute(
            delete(central_models.TicketLease).where(central_models.TicketLease.desk_id == OTHER_DESK)
        )
    assert b.engine.sync_once().online
    # a's leases were the first tickets by the rule; expired, they went to b, with new tokens.
    assert set(b.leased()) == set(a.leased())
    assert all(b.leased()[ticket] == token + 1 for ticket, token in a.leased().items())
    called = a.counter.call_next()  # a's own clock says its lease is still good: called locally
    assert called is not None
    a.link.restore()
    report = a.engine.sync_once()
    assert report.rejected == 1
    [op] = a.call_ops()
    assert op.status == OperationStatus.REJECTED
    assert "lease token stale" in (op.last_error or "")
    assert a.engine.status().rejected_operations == 1  # what the status bar shows the clerk
    assert accepted_calls(served).get(called.ticket_id) is None  # nobody's call went through twice


def test_leases_are_asked_for_only_when_one_is_used_or_runs_out(
    desks: tuple[Desk, Desk], served: EmbeddedCentral, central_time: MovableClock
) -> None:
    """Every answer is a write at the central service: a desk whose k leases are good asks for none."""
    a, _ = desks

    def central_expiries() -> dict[str, object]:
        with served.store.read() as session:
            rows = session.scalars(
                select(central_models.TicketLease).where(central_models.TicketLease.desk_id == DESK)
            )
            return {row.ticket_id: row.expires_at for row in rows}

    assert a.engine.sync_once().online
    granted = central_expiries()
    central_time.advance(minutes=1)
    assert a.engine.sync_once().online
    assert central_expiries() == granted  # not renewed: nothing asked
    assert a.counter.call_next() is not None  # one used: the next round tops up (and renews)
    assert a.engine.sync_once().online
    renewed = central_expiries()
    assert (
        len([t for t, end in renewed.items() if t in a.leased() and end != granted.get(t)]) == LEASES_PER_DESK
    )
