"""Back online within about 2 s of the central service answering again, not after a minute's backoff.

The engine's pauses go through a recording event and a clock of the test's own, so the test sees
every pause the engine asks for without sleeping through any of them.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest

from sync.central.seed import BUERGERAMT_ID
from sync.client import CentralClient
from tests.credentials import workstation_auth
from tests.sync.support import CLERK, DESK, FaultyNetwork
from workstation.commands import DeskContext
from workstation.sync_engine import PROBE_INTERVAL, SyncEngine, SyncReport

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sync.central.embedded import EmbeddedCentral
    from workstation.db import LocalStore


class RecordedPauses(threading.Event):
    """A pause that returns at once, advances the test's clock by what was asked, and lets the test
    act after the n-th pause (heal the network)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[float] = []
        self.now = 1000.0
        self.after_each: Callable[[int], None] = lambda _count: None

    def monotonic(self) -> float:
        return self.now

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None, "the engine never waits without a bound"
        self.asked.append(timeout)
        self.now += timeout
        self.after_each(len(self.asked))
        return self.is_set()


@pytest.fixture
def network() -> Iterator[FaultyNetwork]:
    faulty = FaultyNetwork()
    yield faulty
    faulty.close()


def _engine(
    store: LocalStore, central: EmbeddedCentral, network: FaultyNetwork, pauses: RecordedPauses
) -> SyncEngine:
    auth = workstation_auth(central.store, "ws-a", BUERGERAMT_ID)
    # Generous: no test here is about timeouts (under `-n 4` a healed probe once took over 2 s to
    # answer, and its timeout counted as one more refused probe).
    client = CentralClient(central.url, timeout=15.0, transport=network, auth=auth)
    ctx = DeskContext(workstation_id="ws-a", office_id=BUERGERAMT_ID, desk_id=DESK, clerk_id=CLERK)
    return SyncEngine(store, client, ctx, monotonic=pauses.monotonic)


def _run_until_online(engine: SyncEngine, pauses: RecordedPauses) -> tuple[list[SyncReport], list[float]]:
    """The rounds' reports until one is online, and the pauses asked for before that round."""
    stop = threading.Event()
    reports: list[SyncReport] = []
    pauses_before: list[float] = []

    def on_round(report: SyncReport) -> None:
        reports.append(report)
        if report.online or len(reports) > 50:
            pauses_before.extend(pauses.asked)
            stop.set()
            pauses.set()

    engine.run(stop, wakeup=pauses, on_round=on_round)
    return reports, pauses_before


def test_a_desk_whose_central_comes_back_syncs_at_the_next_probe_not_after_the_backoff(
    local_store: LocalStore, central: EmbeddedCentral, network: FaultyNetwork
) -> None:
    network.fault = "refuse"

    pauses = RecordedPauses()
    engine = _engine(local_store, central, network, pauses)
    for _ in range(8):  # a long outage: the backoff has grown to about a minute
        assert not engine.sync_once().online
    assert engine.retry_delay() > 30

    def heal_after_third_pause(count: int) -> None:
        if count == 3:
            network.fault = None

    pauses.after_each = heal_after_third_pause

    reports, pauses_before = _run_until_online(engine, pauses)

    assert [report.online for report in reports] == [False, True]
    assert len(pauses_before) == 3  # two probes refused, the third answered, then one round
    assert all(PROBE_INTERVAL[0] <= asked <= PROBE_INTERVAL[1] for asked in pauses_before)
    engine.close()


def test_a_central_that_answers_but_fails_is_retried_after_the_backoff_not_at_every_probe(
    local_store: LocalStore, central: EmbeddedCentral, network: FaultyNetwork
) -> None:
    network.fault, network.only = "500", "/sync/"  # health answers, sync fails: probing says nothing

    pauses = RecordedPauses()
    engine = _engine(local_store, central, network, pauses)
    for _ in range(4):
        assert not engine.sync_once().online
    backoff_floor = 0.8 * 2.0**4  # the fifth failure's backoff, less the jitter

    def heal_when_backoff_spent(_count: int) -> None:
        if sum(pauses.asked) >= backoff_floor:
            network.fault = None

    pauses.after_each = heal_when_backoff_spent
    reports, pauses_before = _run_until_online(engine, pauses)

    assert [report.online for report in reports] == [False, True]
    assert sum(pauses_before) >= backoff_floor
    engine.close()
