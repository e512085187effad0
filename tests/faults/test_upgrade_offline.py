"""Issue 9, fault test 9: operations pending from an older app version, the app upgraded while the
network is down (the store migrated with them in it), then back online: all accepted, each once.

The older version is the store at its first schema revision (0001): the walk-ins are written there
by the commands that version had too (tickets and the outbox only), before any later table existed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alembic import command
from sqlalchemy import inspect, select

from sync.central.seed import BUERGERAMT_ID, SeedDay
from sync.client import CentralClient
from tests.credentials import workstation_auth
from tests.sync.support import CLERK, DESK, NOW, central_operations
from workstation.commands import DeskContext
from workstation.counter import Counter
from workstation.db import LocalStore
from workstation.migrations import SCHEMA_HEAD
from workstation.migrations.runner import alembic_config
from workstation.models import OperationStatus, OutboxOperation
from workstation.sync_engine import SyncEngine

if TYPE_CHECKING:
    from pathlib import Path

    from sync.central.embedded import EmbeddedCentral

WORKSTATION = "ws-upgraded"
OLD_REVISION = "0001"


def test_pending_operations_of_an_older_version_are_accepted_after_an_offline_upgrade(
    central: EmbeddedCentral, central_url: str, tmp_path: Path, seed_day: SeedDay
) -> None:
    store = LocalStore(tmp_path / "desk.sqlite3")
    with store.engine.begin() as connection:
        command.upgrade(alembic_config(connection), OLD_REVISION)
    assert store.schema_revision() == OLD_REVISION
    assert "desk_leases" not in inspect(store.engine).get_table_names()  # a later version's table
    auth = workstation_auth(central.store, WORKSTATION, BUERGERAMT_ID)
    client = CentralClient(central.url, timeout=15.0, auth=auth)
    # The older version pulled its office and worked offline afterwards.
    office_only = DeskContext(WORKSTATION, BUERGERAMT_ID, "", "")
    assert SyncEngine(store, client, office_only, clock=lambda: NOW).pull().online
    ctx = DeskContext(WORKSTATION, BUERGERAMT_ID, DESK, CLERK)
    service = next(d for d in seed_day.desks if d.id == DESK).service_ids[0]
    counter = Counter(store, ctx, clock=lambda: NOW)
    issued = [counter.issue_walk_in([service], 0) for _ in range(3)]

    store.migrate()  # the new version starts (offline): the schema moves on under the pending work
    assert store.schema_revision() == SCHEMA_HEAD
    report = SyncEngine(store, client, ctx, clock=lambda: NOW).sync_once()
    assert (report.online, report.pushed, report.rejected) == (True, 3, 0)
    assert [status for _seq, _op, status in central_operations(central_url, WORKSTATION)] == ["applied"] * 3
    with store.session() as session:
        assert set(session.scalars(select(OutboxOperation.status))) == {OperationStatus.APPLIED}
    assert len({ticket.number for ticket in issued}) == 3
    client.close()
    store.dispose()
