"""Issue 9, fault test 3: the central service (a real process) SIGKILLed while a desk uploads a long
outbox in batches, then restarted over the same database.

Whatever the kill interrupted, the central service has a gap-free prefix of the desk's operations;
after the restart the rest arrive in order, each exactly once."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from sync.central.seed import BUERGERAMT_ID
from sync.client import CentralClient
from tests.credentials import workstation_auth_at
from tests.faults.central_process import CentralProcess
from tests.faults.conftest import CTX, WORKSTATION
from tests.faults.proxy import FaultProxy
from tests.sync.support import DESK, central_operations
from tests.sync_fixtures import BOTH_BACKENDS
from workstation.counter import Counter
from workstation.models import OperationStatus, OutboxOperation
from workstation.sync_engine import SyncEngine

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sync.central.seed import SeedDay
    from workstation.db import LocalStore

pytestmark = BOTH_BACKENDS  # the central store matters here: SQLite and PostgreSQL

OPERATIONS = 300
BATCH = 20
KILL_WHEN_APPLIED = 3 * BATCH
DEADLINE_SECONDS = 60.0


@pytest.fixture
def central_process(central_url: str) -> Iterator[CentralProcess]:
    process = CentralProcess(central_url).start()
    yield process
    process.stop()


def _applied(central_url: str) -> list[tuple[int, str]]:
    return [(seq, op_id) for seq, op_id, _status in central_operations(central_url, WORKSTATION)]


def _wait_for_applied(central_url: str, at_least: int) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while len(_applied(central_url)) < at_least:
        assert time.monotonic() < deadline, "the upload did not start"
        time.sleep(0.01)  # polling another process's database; the deadline bounds the wait


def test_a_central_killed_during_an_upload_keeps_a_gap_free_prefix_and_gets_the_rest_once(
    central_process: CentralProcess, central_url: str, local_store: LocalStore, seed_day: SeedDay
) -> None:
    with FaultProxy("127.0.0.1", central_process.port) as proxy:
        client = CentralClient(
            proxy.url, timeout=15.0, auth=workstation_auth_at(central_url, WORKSTATION, BUERGERAMT_ID)
        )
        engine = SyncEngine(local_store, client, CTX, batch_size=BATCH)
        assert engine.sync_once().online
        service = next(d for d in seed_day.desks if d.id == DESK).service_ids[0]
        counter = Counter(local_store, CTX)
        for _ in range(OPERATIONS):
            counter.issue_walk_in([service], 0)
        with local_store.session() as session:
            outbox = [
                (row.seq, row.op_id)
                for row in session.scalars(select(OutboxOperation).order_by(OutboxOperation.seq))
            ]

        proxy.delay(0.1)  # a slow link: the upload takes many round trips, the kill lands inside it
        upload = threading.Thread(target=engine.push_pending)
        upload.start()
        _wait_for_applied(central_url, KILL_WHEN_APPLIED)
        central_process.kill()
        upload.join()

        prefix = _applied(central_url)
        assert KILL_WHEN_APPLIED <= len(prefix) < OPERATIONS
        assert prefix == outbox[: len(prefix)]  # no gap, nothing out of order, nothing twice

        restarted = CentralProcess(central_url).start()
        try:
            proxy.retarget("127.0.0.1", restarted.port)
            proxy.healthy()
            assert engine.sync_once().online
            assert _applied(central_url) == outbox
        finally:
            restarted.stop()
            client.close()
    with local_store.session() as session:
        assert set(session.scalars(select(OutboxOperation.status))) == {OperationStatus.APPLIED}
