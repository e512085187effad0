"""Issue 9, fault test 12 (the copied half): a store's database file copied to another machine while
it has pending work, beside its identity file and key. Both copies work on offline (walk-ins, a call
each), then reconnect: the copy is told apart by its instance id and syncs under none of the
original's identities until it is enrolled as a workstation of its own; then it sends what it holds
under that identity. No action is lost, none applied twice, no walk-in number issued twice, and the
copy's clerk and administrator are told."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from sync.central import store as central_models
from sync.central.seed import BUERGERAMT_ID, SeedDay
from sync.client import CentralClient, SwitchableTransport
from tests.credentials import workstation_auth
from tests.sync.desks import accepted_calls
from tests.sync.support import CLERK, DESK, NOW, central_operations, serve_and_finish
from tests.sync_fixtures import BOTH_BACKENDS
from tresen.desk import open_store
from tresen.sync_cli import describe
from workstation.commands import DeskContext
from workstation.counter import Counter
from workstation.models import OperationStatus, OutboxOperation, StoreInstance
from workstation.number_witness import NumberWitness
from workstation.store_instance import InstanceRegistry, check_instance
from workstation.sync_engine import SyncEngine, SyncReport
from workstation.sync_overview import sync_overview

if TYPE_CHECKING:
    from pathlib import Path

    from sync.central.embedded import EmbeddedCentral
    from workstation.db import LocalStore

pytestmark = BOTH_BACKENDS  # the central store matters here: SQLite and PostgreSQL

ORIGINAL, COPY = "ws-original", "ws-copy"  # the copy's own identity comes from its enrollment
COPY_REFUSED = "Diese lokale Datenbank ist eine Kopie"


class Machine:
    """A workstation's machine: its state directory (instance registry, number witness) and a link
    to the central service the test can cut."""

    def __init__(self, central: EmbeddedCentral, root: Path) -> None:
        self.central = central
        self.root = root
        self.store_path = root / "data" / "tresen.sqlite3"
        self.link = SwitchableTransport()
        self.witness = NumberWitness(root / "state" / "desk-numbers.json")
        self._opened: list[tuple[LocalStore, CentralClient]] = []

    def open(self, workstation_id: str) -> tuple[LocalStore, SyncEngine, Counter]:
        """`tresen run` as the workstation enrolled beside the store: the store opened (and its
        instance checked) the way production opens it."""
        store = open_store(self.store_path, instances=self.root / "state" / "store-instances.json")
        auth = workstation_auth(self.central.store, workstation_id, BUERGERAMT_ID)
        client = CentralClient(self.central.url, timeout=10.0, transport=self.link, auth=auth)
        self._opened.append((store, client))
        ctx = DeskContext(workstation_id, BUERGERAMT_ID, DESK, CLERK)
        engine = SyncEngine(store, client, ctx, clock=lambda: NOW)
        return store, engine, Counter(store, ctx, remote=engine, clock=lambda: NOW, numbers=self.witness)

    def close(self) -> None:
        for store, client in self._opened:
            store.dispose()
            client.close()
        self._opened.clear()
        self.link.close()


@dataclass
class Outcome:
    issued: list[str]  # ticket ids, on both machines
    copied_from: str | None  # what the copy's opening found
    original_instance: str
    original_again_a_copy: bool
    copy_under_original: SyncReport  # the copy's first round, as the original's identity
    copy_status_error: str | None
    copy_told: str  # `tresen sync status` at the copy before its enrollment
    arrived_before_enrollment: int  # of the copy's new tickets, at the central service
    pending_at_enrollment: int  # what `tresen sync status` counts under the copy's new identity
    copy_report: SyncReport  # its first round under its own identity
    op_ids: set[str]  # every operation id either outbox holds
    statuses: set[str]  # of both outboxes at the end


def _copy_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copy:
        original.backup(copy)


def _service(seed_day: SeedDay) -> str:
    return next(d for d in seed_day.desks if d.id == DESK).service_ids[0]


def _copy_and_work_offline(central: EmbeddedCentral, tmp_path: Path, seed_day: SeedDay) -> Outcome:
    first, second = Machine(central, tmp_path / "first"), Machine(central, tmp_path / "second")
    service = _service(seed_day)
    try:
        store, engine, counter = first.open(ORIGINAL)
        original_instance = _instance(store)
        assert engine.sync_once().online  # reference data and the desk's leases
        issued = [counter.issue_walk_in([service], 0).ticket_id]
        assert engine.sync_once().pushed == 1  # applied before the copy: the copy sends it again
        issued.append(counter.issue_walk_in([service], 0).ticket_id)  # committed, not yet sent
        _copy_file(first.store_path, second.store_path)
        first.link.cut()
        second.link.cut()

        # The copy starts as the original's workstation, as if its identity file and key had been
        # copied along (the worst case: it could sign as the original).
        copy_store, copy_engine, copy_counter = second.open(ORIGINAL)
        copied_from = _instance_row(copy_store).copied_from
        # Both work on offline, at the same desk: two walk-ins and a call each.
        issued += [counter.issue_walk_in([service], 0).ticket_id for _ in range(2)]
        assert counter.call_next() is not None
        serve_and_finish(counter)
        copy_new = [copy_counter.issue_walk_in([service], 0).ticket_id for _ in range(2)]
        issued += copy_new
        copy_counter.call_ticket(copy_new[0])
        serve_and_finish(copy_counter)

        first.link.restore()
        second.link.restore()
        assert engine.sync_once().rejected == 0
        copy_under_original = copy_engine.sync_once()  # its identity file still names the original
        copy_status_error = copy_engine.status().last_error_de
        held = sync_overview(copy_store, ORIGINAL)
        copy_told = describe(held)
        arrived_before = _arrived(central, copy_new)

        # The administrator enrolls the copy; its next start is the new workstation, which counts
        # what the copy holds as its own (here while the link is down once more) and then sends it.
        copy_store, copy_engine, _counter = second.open(COPY)
        second.link.cut()
        assert not copy_engine.sync_once().online
        pending_at_enrollment = sync_overview(copy_store, COPY).pending
        assert pending_at_enrollment == held.pending
        second.link.restore()
        report = copy_engine.sync_once()
        assert engine.sync_once().online  # the original hears of the copy's work

        reopened = check_instance(store, InstanceRegistry(first.root / "state" / "store-instances.json"), NOW)
        op_ids: set[str] = set()
        statuses: set[str] = set()
        for each in (store, copy_store):
            with each.session() as session:
                for row in session.scalars(select(OutboxOperation)):
                    op_ids.add(row.op_id)
                    statuses.add(str(row.status))
        return Outcome(
            issued=issued,
            copied_from=copied_from,
            original_instance=original_instance,
            original_again_a_copy=reopened.copied_from is not None,
            copy_under_original=copy_under_original,
            copy_status_error=copy_status_error,
            copy_told=copy_told,
            arrived_before_enrollment=arrived_before,
            pending_at_enrollment=pending_at_enrollment,
            copy_report=report,
            op_ids=op_ids,
            statuses=statuses,
        )
    finally:
        first.close()
        second.close()


def _instance_row(store: LocalStore) -> StoreInstance:
    with store.session() as session:
        return session.scalars(select(StoreInstance)).one()


def _instance(store: LocalStore) -> str:
    return _instance_row(store).instance_id


def _arrived(central: EmbeddedCentral, ticket_ids: list[str]) -> int:
    with central.store.read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(central_models.Ticket)
                .where(central_models.Ticket.id.in_(ticket_ids))
            )
            or 0
        )


def test_a_copied_store_is_told_apart_and_syncs_only_as_a_workstation_of_its_own(
    served: EmbeddedCentral, tmp_path: Path, seed_day: SeedDay
) -> None:
    outcome = _copy_and_work_offline(served, tmp_path, seed_day)
    assert outcome.copied_from == outcome.original_instance
    assert not outcome.original_again_a_copy  # the original stays the instance of its place
    # Under the original's identity the copy sends nothing, and its clerk and administrator are told.
    assert not outcome.copy_under_original.online
    assert outcome.copy_under_original.error_de is not None
    assert outcome.copy_under_original.error_de.startswith(COPY_REFUSED)
    assert outcome.copy_status_error == outcome.copy_under_original.error_de
    assert outcome.arrived_before_enrollment == 0
    assert "Kopie der lokalen Datenbank" in outcome.copy_told
    assert f"gleicht nicht als {ORIGINAL} ab" in outcome.copy_told
    assert outcome.pending_at_enrollment > 0


def test_a_copied_store_loses_no_action_and_applies_none_twice(
    served: EmbeddedCentral, central_url: str, tmp_path: Path, seed_day: SeedDay
) -> None:
    outcome = _copy_and_work_offline(served, tmp_path, seed_day)
    assert outcome.copy_report.online
    assert outcome.copy_report.rejected == 0
    assert outcome.statuses == {OperationStatus.APPLIED}
    # Every operation either copy holds is stored at the central service once (its id is unique
    # there), applied, under one of the two identities.
    stored = central_operations(central_url, ORIGINAL) + central_operations(central_url, COPY)
    assert sorted(op_id for _seq, op_id, _status in stored) == sorted(outcome.op_ids)
    assert {status for _seq, _op, status in stored} == {"applied"}
    assert len(_central_tickets(served, outcome.issued)) == len(outcome.issued)
    assert all(count == 1 for count in accepted_calls(served).values())


def test_a_copied_store_issues_no_walk_in_number_twice(
    served: EmbeddedCentral, tmp_path: Path, seed_day: SeedDay
) -> None:
    outcome = _copy_and_work_offline(served, tmp_path, seed_day)
    numbers = _central_tickets(served, outcome.issued)
    assert len(numbers) == 6
    assert len(set(numbers.values())) == len(numbers), numbers


def _central_tickets(central: EmbeddedCentral, ticket_ids: list[str]) -> dict[str, str]:
    """Ticket id -> number, as the central service holds them."""
    with central.store.read() as session:
        tickets = session.scalars(
            select(central_models.Ticket).where(central_models.Ticket.id.in_(ticket_ids))
        )
        return {ticket.id: ticket.number for ticket in tickets}
