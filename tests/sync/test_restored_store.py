"""Issue 9, fault test 12 (the restored half): a store restored from a backup while the network was
down is behind its central record. Its new actions reuse sequence numbers the central service has
given to others; instead of being rejected (lost), they are renumbered after the central record and
delivered once, and what it held that the central service applied already is answered by its id."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from sync.central import store as central_models
from sync.central.seed import BUERGERAMT_ID, SeedDay
from sync.client import CentralClient, SwitchableTransport
from sync.protocol import PushRequest
from tests.credentials import workstation_auth
from tests.sync.support import CLERK, DESK, NOW, central_operations
from tests.sync_fixtures import BOTH_BACKENDS
from workstation.commands import DeskContext
from workstation.counter import Counter
from workstation.db import LocalStore
from workstation.models import OperationStatus, OutboxOperation
from workstation.number_witness import NumberWitness
from workstation.sync_engine import SyncEngine, SyncReport, operation_of

if TYPE_CHECKING:
    from pathlib import Path

    from sync.central.embedded import EmbeddedCentral

pytestmark = BOTH_BACKENDS  # the central store matters here: SQLite and PostgreSQL

CTX = DeskContext("ws-restored", BUERGERAMT_ID, DESK, CLERK)


def _backup(path: Path, to: Path) -> None:
    with closing(sqlite3.connect(path)) as source, closing(sqlite3.connect(to)) as copy:
        source.backup(copy)


def _restore(backup: Path, path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    _backup(backup, path)


def _service(seed_day: SeedDay) -> str:
    return next(d for d in seed_day.desks if d.id == DESK).service_ids[0]


@dataclass
class Restored:
    report: SyncReport
    numbers: dict[str, str]  # ticket id -> number, as the central service holds them
    statuses: set[str]  # of the restored store's outbox
    rejected_shown: int
    repushed: list[str]  # the statuses when the whole outbox is sent again (an answer lost)


def _restore_while_offline(central: EmbeddedCentral, tmp_path: Path, seed_day: SeedDay) -> Restored:
    path, backup = tmp_path / "desk.sqlite3", tmp_path / "desk.backup"
    auth = workstation_auth(central.store, CTX.workstation_id, BUERGERAMT_ID)
    link = SwitchableTransport()
    witness = NumberWitness(tmp_path / "state" / "desk-numbers.json")  # not restored with the store
    opened: list[tuple[LocalStore, CentralClient]] = []

    def desk() -> tuple[SyncEngine, Counter]:
        store = LocalStore(path)
        store.migrate()
        client = CentralClient(central.url, timeout=15.0, transport=link, auth=auth)
        opened.append((store, client))
        counter = Counter(store, CTX, clock=lambda: NOW, numbers=witness)
        return SyncEngine(store, client, CTX, clock=lambda: NOW), counter

    def close() -> None:
        for store, client in opened:
            store.dispose()
            client.close()
        opened.clear()

    try:
        engine, counter = desk()
        assert engine.sync_once().online
        issued = [counter.issue_walk_in([_service(seed_day)], 0)]  # committed here, not yet sent
        close()
        _backup(path, backup)  # the nightly backup holds it as pending
        engine, counter = desk()
        issued.append(counter.issue_walk_in([_service(seed_day)], 0))
        assert engine.sync_once().pushed == 2  # both reach the central service (seq 1 and 2)
        close()

        _restore(backup, path)  # the disk died; last night's store comes back, while the link is down
        link.cut()
        engine, counter = desk()
        issued += [counter.issue_walk_in([_service(seed_day)], 0) for _ in range(2)]  # seq 2 and 3 here
        link.restore()
        report = engine.sync_once()
        with central.store.read() as session:
            tickets = session.scalars(
                select(central_models.Ticket).where(
                    central_models.Ticket.id.in_([i.ticket_id for i in issued])
                )
            )
            numbers = {ticket.id: ticket.number for ticket in tickets}
        store, client = opened[-1]
        with store.session() as session:
            rows = list(session.scalars(select(OutboxOperation).order_by(OutboxOperation.seq)))
            statuses = {str(row.status) for row in rows}
            again = PushRequest(
                workstation_id=CTX.workstation_id,
                office_id=BUERGERAMT_ID,
                operations=[operation_of(r) for r in rows],
            )
        repushed = [str(result.status) for result in client.push(again).results]
        return Restored(report, numbers, statuses, engine.status().rejected_operations, repushed)
    finally:
        close()
        link.close()


def test_a_store_restored_from_a_backup_loses_no_action(
    central: EmbeddedCentral, central_url: str, tmp_path: Path, seed_day: SeedDay
) -> None:
    restored = _restore_while_offline(central, tmp_path, seed_day)
    assert restored.report.online
    assert restored.report.rejected == 0
    # Each action once at the central service: the held one, the one the backup lost, both new ones.
    statuses = [status for _seq, _op, status in central_operations(central_url, CTX.workstation_id)]
    assert statuses == ["applied"] * 4
    assert len(restored.numbers) == 4
    assert restored.statuses == {OperationStatus.APPLIED}
    assert restored.rejected_shown == 0
    # The restored store holds three of the four (the one sent after the backup is gone from it).
    assert restored.repushed == ["duplicate"] * 3  # by operation id, also under the new numbers


def test_a_store_restored_from_a_backup_issues_no_number_twice(
    central: EmbeddedCentral, tmp_path: Path, seed_day: SeedDay
) -> None:
    numbers = _restore_while_offline(central, tmp_path, seed_day).numbers
    assert len(numbers) == 4
    assert len(set(numbers.values())) == len(numbers), numbers
