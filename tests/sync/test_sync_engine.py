"""The sync engine between a real local store and a real central service (embedded uvicorn, SQLite)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import delete, func, select

from sync.central import issuing
from sync.central import store as central_store
from sync.central.embedded import EmbeddedCentral, start_embedded
from sync.central.seed import BUERGERAMT_ID, SeedDay
from sync.client import CentralClient
from tests.credentials import workstation_auth
from tests.sync.central_backup import backup_central, restore_central
from tests.sync.support import (
    CLERK,
    DESK,
    OTHER_CLERK,
    OTHER_DESK,
    FakeMonotonic,
    FaultyNetwork,
    central_clock,
    central_operations,
    central_ticket,
    serve_and_finish,
)
from tests.sync_fixtures import BOTH_BACKENDS
from workstation.commands import DeskContext
from workstation.counter import Counter
from workstation.db import LocalStore
from workstation.models import Call, DeskLease, OperationStatus, OutboxOperation, Ticket, TicketState
from workstation.sync_engine import SyncEngine

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def _ctx(workstation_id: str = "ws-a", desk_id: str = DESK, clerk_id: str = CLERK) -> DeskContext:
    return DeskContext(
        workstation_id=workstation_id, office_id=BUERGERAMT_ID, desk_id=desk_id, clerk_id=clerk_id
    )


@pytest.fixture
def network() -> Iterator[FaultyNetwork]:
    faulty = FaultyNetwork()
    yield faulty
    faulty.close()


@pytest.fixture
def engine(local_store: LocalStore, central: EmbeddedCentral, network: FaultyNetwork) -> Iterator[SyncEngine]:
    auth = workstation_auth(central.store, "ws-a", BUERGERAMT_ID)
    # Generous: no test here is about timeouts, and a busy CI machine took more than 2 s for a page.
    client = CentralClient(central.url, timeout=10.0, transport=network, auth=auth)
    yield SyncEngine(local_store, client, _ctx())
    client.close()


def _second_workstation(
    tmp_path: Path, central: EmbeddedCentral, ctx: DeskContext
) -> tuple[LocalStore, SyncEngine]:
    other_store = LocalStore(tmp_path / f"{ctx.workstation_id}.sqlite3")
    other_store.migrate()
    auth = workstation_auth(central.store, ctx.workstation_id, ctx.office_id)
    return other_store, SyncEngine(other_store, CentralClient(central.url, timeout=10.0, auth=auth), ctx)


def _outbox(store: LocalStore) -> list[tuple[int, str, str]]:
    with store.session() as session:
        rows = session.scalars(select(OutboxOperation).order_by(OutboxOperation.seq))
        return [(row.seq, row.op_id, row.status) for row in rows]


def _a_service(seed_day: SeedDay) -> str:
    return next(d for d in seed_day.desks if d.id == DESK).service_ids[0]


def test_push_and_pull_round_trip(
    engine: SyncEngine, local_store: LocalStore, central: EmbeddedCentral, tmp_path: Path, seed_day: SeedDay
) -> None:
    first = engine.sync_once()
    assert first.online
    assert first.pulled > 0
    assert first.error_de is None

    issued = Counter(local_store, _ctx()).issue_walk_in([_a_service(seed_day)], 0)
    assert engine.status().pending_operations == 1
    report = engine.sync_once()
    assert (report.online, report.pushed, report.rejected) == (True, 1, 0)
    status = engine.status()
    assert (status.online, status.pending_operations, status.last_error_de) == (True, 0, None)
    assert status.last_sync_at is not None

    other_store, other_engine = _second_workstation(tmp_path, central, _ctx("ws-b", OTHER_DESK, OTHER_CLERK))
    assert other_engine.sync_once().online
    with other_store.session() as session:
        ticket = session.get_one(Ticket, issued.ticket_id)
        assert (ticket.number, ticket.state, ticket.origin) == (issued.number, TicketState.WAITING, "desk")
    other_store.dispose()


def test_a_lost_answer_is_pushed_again_and_applied_once(
    engine: SyncEngine, local_store: LocalStore, network: FaultyNetwork, central_url: str, seed_day: SeedDay
) -> None:
    assert engine.sync_once().online
    Counter(local_store, _ctx()).issue_walk_in([_a_service(seed_day)], 0)
    network.fault, network.only = "lose-answer", "/sync/push"

    lost = engine.sync_once()
    assert network.lost == ["/api/v1/sync/push"]
    assert not lost.online
    assert lost.error_de
    assert engine.status().pending_operations == 1  # not known to be applied: kept pending

    again = engine.sync_once()
    assert again.online
    assert again.pushed == 1
    assert engine.status().pending_operations == 0
    local = _outbox(local_store)
    assert central_operations(central_url, "ws-a") == [(seq, op_id, "applied") for seq, op_id, _ in local]
    assert [status for _, _, status in local] == [OperationStatus.APPLIED]


def test_offline_work_commits_locally_and_is_pushed_once_in_order(
    engine: SyncEngine, local_store: LocalStore, central: EmbeddedCentral, central_url: str, seed_day: SeedDay
) -> None:
    assert engine.sync_once().online
    counter = Counter(local_store, _ctx(), remote=engine)
    central.stop()

    called = counter.call_next()  # falls back to the local ordering
    assert called is not None
    counter.citizen_arrived()
    counter.issue_walk_in([_a_service(seed_day)], 1)
    report = engine.sync_once()
    assert not report.online
    assert report.error_de
    assert "Zentrale" in report.error_de
    status = engine.status()
    local = _outbox(local_store)
    assert (status.online, status.pending_operations) == (False, len(local))
    assert len(local) >= 3
    assert status.last_error_de

    port = int(central.url.rsplit(":", 1)[1])
    restarted = start_embedded(central_url, port=port, clock=central_clock)
    try:
        back = engine.sync_once()
        assert back.online
        assert back.pushed == len(local)
        assert back.rejected == 0
        assert engine.sync_once().pushed == 0  # nothing twice
    finally:
        restarted.stop()
    assert central_operations(central_url, "ws-a") == [(seq, op_id, "applied") for seq, op_id, _ in local]
    assert central_ticket(central_url, called.ticket_id) == (TicketState.SERVING, DESK)


@pytest.mark.parametrize("fault", ["html", "500", "garbage"])
def test_malformed_answers_leave_the_engine_usable(
    engine: SyncEngine, local_store: LocalStore, network: FaultyNetwork, fault: str, seed_day: SeedDay
) -> None:
    assert engine.sync_once().online
    Counter(local_store, _ctx()).issue_walk_in([_a_service(seed_day)], 0)
    network.fault = fault
    reports = [engine.sync_once() for _ in range(2)]  # repeated failures: still no exception
    assert all(not report.online and report.error_de for report in reports)
    assert engine.status().last_error_de == reports[-1].error_de
    assert engine.retry_delay() > 0
    network.fault = None
    healed = engine.sync_once()
    assert healed.online
    assert healed.pushed == 1
    assert engine.status().last_error_de is None
    assert engine.retry_delay() == 0


def test_pulled_changes_do_not_overwrite_rows_with_pending_operations(
    engine: SyncEngine,
    local_store: LocalStore,
    network: FaultyNetwork,
    central: EmbeddedCentral,
    tmp_path: Path,
) -> None:
    assert engine.sync_once().online
    other_store, other_engine = _second_workstation(tmp_path, central, _ctx("ws-b", OTHER_DESK, OTHER_CLERK))
    assert other_engine.sync_once().online
    network.fault, network.only = "500", "/sync/push"  # our pushes fail, pulls work

    # The other desk calls a ticket through the central service; we call the same one locally.
    taken = other_engine.call_next(_ctx("ws-b", OTHER_DESK, OTHER_CLERK))
    assert taken is not None
    Counter(local_store, _ctx()).call_ticket(taken.ticket_id)
    assert engine.pull().online

    with local_store.session() as session:
        mine = session.get_one(Ticket, taken.ticket_id)
        assert (mine.state, mine.desk_id) == (TicketState.CALLED, DESK)  # the pending call stays visible

    network.fault = None  # our call reaches the central service, which refuses it: the other desk won
    report = engine.sync_once()
    assert (report.online, report.pushed, report.rejected) == (True, 1, 1)
    with local_store.session() as session:
        mine = session.get_one(Ticket, taken.ticket_id)
        assert (mine.state, mine.desk_id) == (TicketState.CALLED, OTHER_DESK)
    assert engine.status().pending_operations == 0
    other_store.dispose()


def test_f2_after_the_central_went_silent_calls_locally_without_asking_it(
    engine: SyncEngine, local_store: LocalStore, network: FaultyNetwork
) -> None:
    """A key press never waits for a network that gave no answer last round (a blackholed link
    would hold F2 for the client's timeout, twice); the sync loop's probe brings the desk back."""
    assert engine.sync_once().online
    with local_store.write() as session:
        session.execute(delete(DeskLease))  # without a lease F2 would ask the central service
    network.fault = "refuse"
    assert not engine.sync_once().online
    asked_before = len(network.asked)

    called = Counter(local_store, _ctx(), remote=engine).call_next()

    assert called is not None  # from the local queue
    assert network.asked[asked_before:] == []


def test_f2_on_a_link_gone_silent_since_the_last_round_waits_one_timeout_then_calls_locally(
    local_store: LocalStore, central: EmbeddedCentral, network: FaultyNetwork
) -> None:
    """The link went silent after the last round, which the sync loop has not noticed: F2 waits at
    most the client's timeout in all (it waited for the call and its retry, one timeout each), then
    calls from the local queue and names the call whose answer it may have lost."""
    clock = FakeMonotonic()
    network.clock = clock  # a silent request advances it by its read timeout instead of sleeping
    client = CentralClient(
        central.url,
        timeout=5.0,
        transport=network,
        auth=workstation_auth(central.store, "ws-a", BUERGERAMT_ID),
    )
    engine = SyncEngine(local_store, client, _ctx(), monotonic=clock)
    try:
        assert engine.sync_once().online
        with local_store.write() as session:
            session.execute(delete(DeskLease))  # without a lease F2 asks the central service
        network.fault = "silent"

        called = Counter(local_store, _ctx(), remote=engine).call_next()

        assert called is not None  # from the local queue
        assert network.waited == [(f"/api/v1/desks/{DESK}/call-next", 5.0)]
        with local_store.session() as session:
            call = session.scalars(select(OutboxOperation).where(OutboxOperation.kind == "ticket.call")).one()
        assert call.args["lost_call_id"]  # the central service settles it when the link is back
        assert not engine.status().online
    finally:
        client.close()


def test_f2_does_not_wait_beyond_its_budget_for_a_push_in_progress(
    engine: SyncEngine, local_store: LocalStore, network: FaultyNetwork
) -> None:
    """The sync loop's push holds the outbox (a long outbox, a slow link): F2 calls locally once its
    budget is over, without a lost call (none was made) and without calling the link down."""
    assert engine.sync_once().online
    with local_store.write() as session:
        session.execute(delete(DeskLease))
    engine.call_next_budget = 0.2
    asked_before = len(network.asked)
    with engine._push_lock:  # the sync loop's push in progress
        called = Counter(local_store, _ctx(), remote=engine).call_next()
    assert called is not None
    assert network.asked[asked_before:] == []
    with local_store.session() as session:
        call = session.scalars(select(OutboxOperation).where(OutboxOperation.kind == "ticket.call")).one()
    assert call.args.get("lost_call_id") is None
    assert engine.status().online


def test_online_call_next_goes_through_the_central_service(
    engine: SyncEngine, local_store: LocalStore, central_url: str
) -> None:
    """Without a lease (the leases are tests/sync/test_leases.py's), F2 asks the central service."""
    assert engine.sync_once().online
    with local_store.write() as session:
        session.execute(delete(DeskLease))
    result = Counter(local_store, _ctx(), remote=engine).call_next()
    assert result is not None
    with local_store.session() as session:
        ticket = session.get_one(Ticket, result.ticket_id)
        assert (ticket.state, ticket.desk_id, ticket.called_count) == (TicketState.CALLED, DESK, 1)
        calls = session.scalars(select(Call).where(Call.ticket_id == result.ticket_id)).all()
        assert len(calls) == 1
        outbox_calls = session.scalar(
            select(func.count()).select_from(OutboxOperation).where(OutboxOperation.kind == "ticket.call")
        )
    assert outbox_calls == 0  # the central service made the call; nothing to push for it
    assert central_ticket(central_url, result.ticket_id) == ("called", DESK)
    assert engine.sync_once().pushed == 0


@BOTH_BACKENDS
def test_a_central_restored_from_a_backup_gets_the_lost_operations_again(
    engine: SyncEngine, local_store: LocalStore, central: EmbeddedCentral, central_url: str, seed_day: SeedDay
) -> None:
    """Fault test 11: the central service restored from an older backup (a new epoch) gets what it
    lost from the workstation's retained outbox, each operation once."""
    backup = local_store.path.with_name("central.backup")
    backup_central(central_url, backup)  # ws-a's enrollment is in it; its work is not
    assert engine.sync_once().online
    counter = Counter(local_store, _ctx())
    counter.issue_walk_in([_a_service(seed_day)], 0)
    assert engine.sync_once().pushed == 1

    restarted = _restored(central, central_url, backup)
    try:
        counter.issue_walk_in([_a_service(seed_day)], 0)
        report = engine.sync_once()
        assert report.online
        assert report.pushed == 2
    finally:
        restarted.stop()
    local = _outbox(local_store)
    assert central_operations(central_url, "ws-a") == [(seq, op_id, "applied") for seq, op_id, _ in local]


def _restored(central: EmbeddedCentral, central_url: str, backup: Path) -> EmbeddedCentral:
    """The central service stopped, its database put back from `backup`, started again on its port."""
    central.stop()
    restore_central(central_url, backup)
    port = int(central.url.rsplit(":", 1)[1])
    return start_embedded(central_url, port=port, clock=central_clock)


def _kiosk_ticket(central: EmbeddedCentral, seed_day: SeedDay) -> tuple[str, int]:
    """A ticket taken at the kiosk: its id and version."""
    with central.store.write() as session:
        ticket = issuing.issue_kiosk_ticket(
            session, BUERGERAMT_ID, [_a_service(seed_day)], 0, central_clock()
        )
        return ticket.id, ticket.version


@BOTH_BACKENDS
def test_a_desk_with_nothing_pending_resyncs_when_its_cursor_lies_past_a_restored_centrals_head(
    engine: SyncEngine, local_store: LocalStore, central: EmbeddedCentral, central_url: str, seed_day: SeedDay
) -> None:
    """Fault test 11, a desk that pushed nothing since the backup: the restored central service
    acknowledges as much as before, but numbers new rows with versions the desk has pulled already.
    It says the desk's cursor lies past its head, and the desk pulls everything again."""
    assert engine.sync_once().online
    backup = local_store.path.with_name("central.backup")
    backup_central(central_url, backup)
    seen = [_kiosk_ticket(central, seed_day) for _ in range(2)]  # lost with the restore
    assert engine.sync_once().pulled == 2
    assert engine.status().central_restores == 0

    restarted = _restored(central, central_url, backup)
    try:
        after_restore, version = _kiosk_ticket(restarted, seed_day)
        assert version <= max(v for _id, v in seen)  # a version the desk has "seen"
        report = engine.sync_once()
    finally:
        restarted.stop()
    assert report.online
    assert report.pushed == 0
    with local_store.session() as session:
        ticket = session.get(Ticket, after_restore)
        assert ticket is not None
        assert (ticket.state, ticket.version) == (TicketState.WAITING, version)
    status = engine.status()
    assert (status.central_restores, status.resent_after_restores) == (1, 0)  # the clerk is told once


def test_the_engine_is_safe_to_share_between_worker_threads(
    engine: SyncEngine, local_store: LocalStore, central_url: str, seed_day: SeedDay
) -> None:
    assert engine.sync_once().online
    stop = threading.Event()
    background = threading.Thread(target=engine.run, args=(stop,), kwargs={"long_poll": 1.0, "idle": 0.05})
    background.start()
    errors: list[BaseException] = []

    def clerk_work() -> None:
        try:
            counter = Counter(local_store, _ctx())
            for _ in range(5):
                counter.issue_walk_in([_a_service(seed_day)], 0)
                engine.push_pending()
                engine.status()
        except BaseException as error:  # noqa: BLE001  (thread boundary: asserted empty below)
            errors.append(error)

    workers = [threading.Thread(target=clerk_work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    stop.set()
    background.join(timeout=30)
    assert not errors
    assert not background.is_alive()
    assert engine.sync_once().online
    local = _outbox(local_store)
    assert len(local) == 10
    assert engine.status().pending_operations == 0
    assert central_operations(central_url, "ws-a") == [(seq, op_id, "applied") for seq, op_id, _ in local]


def _lose_both_call_next_answers(network: FaultyNetwork) -> None:
    network.only, network.fault, network.answers_to_lose = "call-next", "lose-answer", 2


def _central_calls_of(central: EmbeddedCentral, ticket_id: str) -> int:
    with central.store.read() as session:
        return session.scalar(select(func.count()).where(central_store.Call.ticket_id == ticket_id)) or 0


def test_a_call_whose_answers_were_lost_and_the_local_choice_are_one_call(
    engine: SyncEngine,
    local_store: LocalStore,
    network: FaultyNetwork,
    central: EmbeddedCentral,
    central_url: str,
) -> None:
    """The central service called a ticket to the desk, both its answers were lost, and the desk's
    local queue chose the same ticket: one call, nothing refused (it used to refuse the desk's call
    as "ticket is called" and count it against the clerk)."""
    assert engine.sync_once().online
    with local_store.write() as session:
        session.execute(delete(DeskLease))
    counter = Counter(local_store, _ctx(), remote=engine)
    _lose_both_call_next_answers(network)

    called = counter.call_next()

    assert called is not None
    assert network.lost == [f"/api/v1/desks/{DESK}/call-next"] * 2
    served = serve_and_finish(counter)
    report = engine.sync_once()
    assert report.online
    assert report.rejected == 0, report
    assert central_ticket(central_url, served) == ("finished", DESK)
    assert _central_calls_of(central, served) == 1


def test_a_ticket_called_by_a_call_whose_answers_were_lost_goes_back_to_the_queue(
    engine: SyncEngine,
    local_store: LocalStore,
    network: FaultyNetwork,
    central: EmbeddedCentral,
    central_url: str,
    seed_day: SeedDay,
) -> None:
    """Issue 9: the central service called urgent A107 to desk 4 while desk 4, its answers lost, fell
    back to its local choice; A107 stayed "called" and later blocked desk 4's next F2."""
    assert engine.sync_once().online
    with local_store.write() as session:
        session.execute(delete(DeskLease))
    with central.store.write() as session:  # reception's urgent ticket, not pulled by the desk yet
        urgent = issuing.issue_kiosk_ticket(
            session, BUERGERAMT_ID, [_a_service(seed_day)], 1, central_clock()
        )
        urgent_id = urgent.id
    counter = Counter(local_store, _ctx(), remote=engine)
    _lose_both_call_next_answers(network)

    called = counter.call_next()  # the central service called the urgent ticket; the desk another

    assert called is not None
    assert called.ticket_id != urgent_id
    assert central_ticket(central_url, urgent_id) == ("called", DESK)
    serve_and_finish(counter)
    report = engine.sync_once()
    assert report.online
    assert report.rejected == 0, report
    assert central_ticket(central_url, urgent_id) == ("waiting", None)  # back in the queue
    with central.store.read() as session:
        ticket = session.get_one(central_store.Ticket, urgent_id)
        assert (ticket.called_count, ticket.last_called_at) == (0, None)  # no recall block for the citizen
    again = counter.call_next()  # through the central service: the urgent ticket, not a blocked desk
    assert again is not None
    assert again.ticket_id == urgent_id
