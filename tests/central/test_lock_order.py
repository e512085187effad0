"""Issue 9: the central store's row locks on PostgreSQL, where two central processes (or two threads
of one) write at once. Two desks' lease grants that meet each other's lease rows finish both (they
deadlocked: each held its own desk's lease rows and waited for the other's), and a transaction that
PostgreSQL aborts as a deadlock anyway is run again by `CentralStore.run_write`."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Integer, String, create_engine, event, select, text, update
from sqlalchemy.pool import NullPool

from sync.central import apply, leases, store
from sync.central.seed import BUERGERAMT_ID
from sync.central.store import CentralStore, TicketLease
from sync.protocol import CaptureAttachArgs, Operation, OperationKind, PushRequest
from tests.sync.support import DESK, NOW, OTHER_DESK, seeded_central

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

    from sync.central.seed import SeedDay
    from tests.central.postgres_server import PostgresServer

pytestmark = pytest.mark.postgres

MEETING_SECONDS = 30.0  # a bound for the two transactions to reach their meeting point


@pytest.fixture
def central(postgres_server: PostgresServer, seed_day: SeedDay) -> Iterator[CentralStore]:
    made = CentralStore(seeded_central(postgres_server.create_database(), seed_day))
    yield made
    made.dispose()


def _meet_before(central: CentralStore, is_the_statement: Callable[[str], bool], threads: set[str]) -> None:
    """Hold each of `threads` before its first statement that `is_the_statement` picks until each of
    the others got there too or waits for a lock: the interleaving in which the locks each holds by
    then meet (a transaction that keeps to the lock order waits instead of getting there)."""
    backends: dict[str, int] = {}
    arrived: set[str] = set()
    watcher = create_engine(central.db_url, poolclass=NullPool)

    def waits_for_a_lock(name: str) -> bool:
        with watcher.connect() as connection:
            query = text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid")
            waiting: str | None = connection.scalar(query, {"pid": backends.get(name, -1)})
            return waiting == "Lock"

    @event.listens_for(central.write_engine, "before_cursor_execute")
    def _hold(connection: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        name = threading.current_thread().name
        if name not in threads:
            return
        backends.setdefault(name, connection.connection.dbapi_connection.info.backend_pid)  # type: ignore[union-attr]
        if name in arrived or not is_the_statement(statement):
            return
        arrived.add(name)
        deadline = time.monotonic() + MEETING_SECONDS
        while not all(other in arrived or waits_for_a_lock(other) for other in threads - {name}):
            assert time.monotonic() < deadline, f"{name}: the others neither came nor waited"
            time.sleep(0.01)  # polling the others' state; the deadline bounds it


def _run_in_threads(work: dict[str, Callable[[], None]]) -> list[BaseException]:
    errors: list[BaseException] = []

    def run(body: Callable[[], None]) -> None:
        try:
            body()
        except BaseException as error:  # noqa: BLE001  (thread boundary: returned to the test)
            errors.append(error)

    workers = [threading.Thread(target=run, args=(body,), name=name) for name, body in work.items()]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(2 * MEETING_SECONDS)
    assert not any(worker.is_alive() for worker in workers)
    return errors


def _waiting_tickets(central: CentralStore, count: int) -> list[str]:
    with central.read() as session:
        query = select(store.Ticket.id).where(store.Ticket.state == "waiting").order_by(store.Ticket.id)
        return list(session.scalars(query.limit(count)))


def test_two_desks_granted_each_others_former_leases_at_once_both_get_them(central: CentralStore) -> None:
    """Desk 1 once held ticket x, desk 2 ticket y (their leases ran out); now x waits for desk 2 and y
    for desk 1 (sent there, and urgent). Both ask for a lease at the same moment."""
    x, y = _waiting_tickets(central, 2)
    with central.write() as session:
        for ticket_id, former, now_for in ((x, DESK, OTHER_DESK), (y, OTHER_DESK, DESK)):
            session.add(
                TicketLease(
                    ticket_id=ticket_id,
                    desk_id=former,
                    workstation_id=f"ws-{former}",
                    token=1,
                    expires_at=NOW - timedelta(hours=1),
                )
            )
            session.execute(
                update(store.Ticket)
                .where(store.Ticket.id == ticket_id)
                .values(target_desk_id=now_for, priority=1)
            )
    # Each grant pauses where it takes the lease row of its new ticket.
    _meet_before(central, _locks_one_lease_row, {DESK, OTHER_DESK})

    def grant(desk_id: str) -> Callable[[], None]:
        def body() -> None:
            with central.write() as session:
                desk = session.get(store.Desk, desk_id)
                assert desk is not None
                leases.grant(session, desk, f"ws-{desk_id}", 1, NOW)

        return body

    errors = _run_in_threads({DESK: grant(DESK), OTHER_DESK: grant(OTHER_DESK)})
    assert errors == []  # was: psycopg.errors.DeadlockDetected for one of them
    with central.read() as session:
        holders = {lease.ticket_id: lease.desk_id for lease in session.scalars(select(TicketLease))}
    assert holders == {x: OTHER_DESK, y: DESK}


def _locks_one_lease_row(statement: str) -> bool:
    return (
        "FROM ticket_leases" in statement
        and "ticket_leases.ticket_id = " in statement
        and "FOR UPDATE" in statement
    )


def test_two_pushes_naming_two_tickets_in_opposite_orders_both_apply(central: CentralStore) -> None:
    """Two workstations each push a batch about the same two tickets, one in the other's reverse
    order (here captures attached; in an office, say, a finish and a call). Each pauses before it
    locks its batch's second ticket — or waits for the other, as the lock order has it."""
    first, second = _waiting_tickets(central, 2)
    _meet_before(central, _nth_ticket_lock(2), {"ws-one", "ws-two"})

    def push(workstation_id: str, ticket_ids: tuple[str, str]) -> Callable[[], None]:
        batch = [_attach(workstation_id, seq, ticket_id) for seq, ticket_id in enumerate(ticket_ids, 1)]
        request = PushRequest(workstation_id=workstation_id, office_id=BUERGERAMT_ID, operations=batch)

        def body() -> None:
            with central.write() as session:
                results = apply.push(session, request, NOW).results
            assert [result.status for result in results] == ["applied", "applied"]

        return body

    errors = _run_in_threads(
        {"ws-one": push("ws-one", (first, second)), "ws-two": push("ws-two", (second, first))}
    )
    assert errors == []  # without the batch's tickets locked up front: DeadlockDetected


def _nth_ticket_lock(n: int) -> Callable[[str], bool]:
    """Picks a thread's n-th statement that locks tickets (each thread runs one push here)."""
    seen: dict[str, int] = {}

    def picks(statement: str) -> bool:
        if "FROM tickets" not in statement or "FOR UPDATE" not in statement:
            return False
        name = threading.current_thread().name
        seen[name] = seen.get(name, 0) + 1
        return seen[name] == n

    return picks


def _attach(workstation_id: str, seq: int, ticket_id: str) -> Operation:
    args = CaptureAttachArgs(
        ticket_id=ticket_id,
        case_id=f"case-{ticket_id}",
        reference=f"{workstation_id}-{seq}",
        sha256="0" * 64,
        items=["photo"],
        source="terminal",
        at=NOW,
    )
    return Operation(
        op_id=f"{workstation_id}-{seq}",
        seq=seq,
        kind=OperationKind.CAPTURE_ATTACH,
        args=args.model_dump(mode="json"),
        created_at=NOW,
    )


def test_a_transaction_aborted_as_a_deadlock_is_run_again(central: CentralStore) -> None:
    """Two bodies that lock two rows in opposite orders (as no code of ours may): PostgreSQL aborts one
    as a deadlock, and `run_write` runs it again, so both commit and neither caller sees an error."""
    with central.write() as session:
        session.add_all([store.ServerMeta(key="first", value="0"), store.ServerMeta(key="second", value="0")])
    attempts: dict[str, int] = {"forward": 0, "backward": 0}
    meeting = threading.Barrier(2, timeout=MEETING_SECONDS)

    def body(name: str, keys: tuple[str, str]) -> Callable[[Session], None]:
        def locked_in_order(session: Session) -> None:
            attempts[name] += 1
            _bump(session, keys[0])
            if attempts[name] == 1:
                meeting.wait()  # each holds its first row
            _bump(session, keys[1])

        return locked_in_order

    errors = _run_in_threads(
        {
            "forward": lambda: central.run_write(body("forward", ("first", "second"))),
            "backward": lambda: central.run_write(body("backward", ("second", "first"))),
        }
    )
    assert errors == []
    assert sorted(attempts.values()) == [1, 2]  # one of them was aborted once and ran again
    with central.read() as session:
        values = {key: session.get(store.ServerMeta, key) for key in ("first", "second")}
    assert {key: meta.value for key, meta in values.items() if meta} == {"first": "2", "second": "2"}


def _bump(session: Session, key: str) -> None:
    session.execute(
        update(store.ServerMeta)
        .where(store.ServerMeta.key == key)
        .values(value=(store.ServerMeta.value.cast(Integer) + 1).cast(String))
    )


def test_a_write_on_a_connection_the_server_closed_is_run_again_on_a_fresh_one(central: CentralStore) -> None:
    """PostgreSQL restarted (here: every connection of the service terminated): the pool keeps no
    pre-ping, so the first statement on an old connection fails, and `run_write` runs the work again
    on a new one; the caller sees no error."""
    with central.write() as session:
        session.add(store.ServerMeta(key="counted", value="0"))
    killer = create_engine(central.db_url, poolclass=NullPool)
    with killer.connect() as connection:  # every connection the pool holds, as a restart would
        closed = connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    killer.dispose()
    assert closed
    attempts: list[int] = []

    def bump(session: Session) -> None:
        attempts.append(1)
        _bump(session, "counted")

    central.run_write(bump)

    assert len(attempts) == 2  # the first on the closed connection, the second on a new one
    with central.read() as session:
        counted = session.get(store.ServerMeta, "counted")
    assert counted is not None
    assert counted.value == "1"
