"""Issue 9, fault test 6 with a real process: a desk calls a ticket from its lease and is paused
(SIGSTOP) before it can send the call; meanwhile its lease runs out and the ticket goes to another
desk, which calls it. Resumed (SIGCONT), the paused desk sends its call: the central service refuses
it by the lease's token, and the desk's clerk is told. Nobody's call went through twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sync.central.leases import LEASE_TIME
from sync.central.seed import BUERGERAMT_ID
from tests.sync.desks import Desk, accepted_calls
from tests.sync.support import CLERK, DESK, NOW, OTHER_CLERK, OTHER_DESK
from tests.sync_fixtures import BOTH_BACKENDS

if TYPE_CHECKING:
    from sync.central.embedded import EmbeddedCentral
    from tests.central.conftest import MovableClock

pytestmark = [BOTH_BACKENDS, pytest.mark.skipif(os.name != "posix", reason="SIGSTOP is POSIX")]

REPO = Path(__file__).resolve().parents[2]
ANSWER_SECONDS = 60.0  # the most one answer of the desk process may take on a loaded machine


class DeskProcess:
    def __init__(self, tmp_path: Path, served: EmbeddedCentral, central_url: str) -> None:
        argv = [str(tmp_path / "paused.sqlite3"), served.url, central_url, "ws-paused"]
        argv += [BUERGERAMT_ID, DESK, CLERK, NOW.isoformat()]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.lease_holder", *argv],
            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip

    def answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # the process answers each command with one line
        assert line, f"desk process ended ({self.process.poll()})"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.answer()

    def close(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.kill()
        self.process.wait(timeout=ANSWER_SECONDS)


def test_a_paused_desks_call_under_a_lease_that_moved_on_is_refused_and_the_desk_told(
    tmp_path: Path, served: EmbeddedCentral, central_url: str, central_time: MovableClock
) -> None:
    paused = DeskProcess(tmp_path, served, central_url)
    other = Desk(tmp_path, served, "ws-other", OTHER_DESK, OTHER_CLERK)
    try:
        started = paused.answer()
        assert started["online"]
        assert started["leased"]
        called = paused.ask("call")["called"]
        assert called in started["leased"]  # from its lease, locally: nothing sent yet
        os.kill(paused.process.pid, signal.SIGSTOP)  # paused before it could push the call
        central_time.advance(seconds=(LEASE_TIME + timedelta(minutes=1)).total_seconds())
        assert other.engine.sync_once().online  # the expired lease moved on: the other desk's now
        assert called in other.leased()
        taken = other.counter.call_next()
        assert taken is not None
        assert taken.ticket_id == called  # the rule's first ticket, called by the other desk
        assert other.engine.sync_once().rejected == 0
        os.kill(paused.process.pid, signal.SIGCONT)
        result = paused.ask("push")
    finally:
        paused.close()
        other.close()
    assert result["rejected"] == 1
    assert result["shown"] == 1  # what the paused desk's status bar shows its clerk
    [(status, reason)] = result["calls"]
    assert status == "rejected"
    assert "lease token stale" in reason
    assert accepted_calls(served)[called] == 1  # the other desk's call only
