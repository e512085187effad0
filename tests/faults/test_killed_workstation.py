"""Issue 9, fault tests 1 and 7: a workstation process SIGKILLed in the middle of its writes.

Every action the clerk was told about (the writer printed it after its commit) is in the store, the
store passes SQLite's integrity check, and after a restart each of those actions reaches the central
service exactly once — also when the first upload's answer is lost on the way back."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from tests.faults.conftest import CTX, WORKSTATION
from tests.sync.support import DESK, central_operations
from workstation.models import OperationStatus, OutboxOperation, Ticket

if TYPE_CHECKING:
    from sync.central.seed import SeedDay
    from tests.faults.proxy import FaultProxy
    from workstation.db import LocalStore
    from workstation.sync_engine import SyncEngine

REPO = Path(__file__).resolve().parents[2]
# The writer could never finish: once the pipe to the test is full (64 KiB, about 1,800 ids) it blocks
# until the test reads, so however slow the machine, the kill lands in the middle of its writes.
PLANNED_WRITES = 100_000
KILL_AFTER = 300  # confirmed writes the test reads before it kills


def _write_until_killed(store_path: Path, service: str) -> list[str]:
    """Start the writer, SIGKILL it after KILL_AFTER confirmations; every id it confirmed."""
    writer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.faults.walk_in_writer",
            str(store_path),
            CTX.office_id,
            CTX.desk_id,
            CTX.clerk_id,
            CTX.workstation_id,
            service,
            str(PLANNED_WRITES),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "ready"
    confirmed = [writer.stdout.readline().strip() for _ in range(KILL_AFTER)]
    os.kill(writer.pid, signal.SIGKILL)
    confirmed += [line.strip() for line in writer.stdout if line.strip()]  # printed before it died
    assert writer.wait() == -signal.SIGKILL
    return confirmed


def test_a_killed_workstation_keeps_every_confirmed_action_and_delivers_each_once(
    engine: SyncEngine,
    proxy: FaultProxy,
    local_store: LocalStore,
    central_url: str,
    seed_day: SeedDay,
    tmp_path: Path,
) -> None:
    assert engine.sync_once().online  # reference data, as a desk has before its day starts
    service = next(d for d in seed_day.desks if d.id == DESK).service_ids[0]

    confirmed = _write_until_killed(tmp_path / "tresen.sqlite3", service)

    assert KILL_AFTER <= len(confirmed) < PLANNED_WRITES
    with sqlite3.connect(tmp_path / "tresen.sqlite3") as check:
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    with local_store.session() as session:
        stored = set(session.scalars(select(Ticket.id).where(Ticket.id.in_(confirmed))))
        outbox = list(session.scalars(select(OutboxOperation.op_id)))
    assert stored == set(confirmed)
    assert len(outbox) >= len(confirmed)  # the kill may have come after a commit, before its print

    proxy.lose_answers()  # the first upload after the restart: applied, but its answer lost
    assert not engine.push_pending().online
    proxy.healthy()
    assert engine.sync_once().online

    delivered = [(op_id, status) for _seq, op_id, status in central_operations(central_url, WORKSTATION)]
    assert sorted(op_id for op_id, _ in delivered) == sorted(outbox)  # each exactly once
    assert {status for _, status in delivered} == {"applied"}
    with local_store.session() as session:
        statuses = set(session.scalars(select(OutboxOperation.status)))
    assert statuses == {OperationStatus.APPLIED}
