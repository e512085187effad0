"""F2 online with the central service far away: `Counter.call_next()` from a lease and through the
central service, beside the network delay alone, in the same run.

Issue 9: "online, every F2 waits for a round trip to the central service, so with the central 200 ms
away every call costs 200 ms". Leases are the answer (`sync.central.leases`): each sync leaves the
desk k tickets it may call locally. This measures what a clerk's F2 costs with and without them.

The embedded central service (uvicorn) serves a seeded SQLite day (the tests' day, `generate_day`
with 200 waiting tickets); one desk workstation, registered with a key and signing every request
(RFC 9421) as production does, has its own local store, `SyncEngine` and `Counter`, set up as in
tests/sync/test_leases.py. Its `CentralClient` talks through `DelayedNetwork`, an httpx transport
that sleeps `--delay-ms` before forwarding each request to the real `httpx.HTTPTransport`: a
simulated WAN, one round trip's delay per request (the connection is kept alive, so no handshake
is paid again). Each round, interleaved, times with `time.perf_counter`:

(3) reference: `GET /api/v1/health` through the same client and transport (the delay alone, plus
    one signed request to the cheapest endpoint);
(1) F2 from the desk's lease: `engine.sync_once()` (not timed) has left the desk its leases;
    `counter.call_next()` calls one locally; the visit is then served and finished (not timed);
(2) F2 through the central service: the desk's `DeskLease` rows are deleted, so `counter.call_next()`
    goes through `SyncEngine.call_next`: a push of what is pending (the visit just finished) and the
    call-next round trip; the visit is served and finished (not timed).

Prints p50 / p95 of each, the ratios (1)/(3) and (2)/(3), how many requests each call sent, how long
each request took from forwarding (after the delay) to its answer's head, and the rest of the call.

    uv run python bench/call_next_latency.py [--delay-ms 200] [--calls 15] [--warm-up 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter as Tally
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import httpx
from sqlalchemy import delete, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.key_to_frame import percentiles
from sync.central.embedded import start_embedded
from sync.central.seed import BUERGERAMT_ID, generate_day
from sync.client import CentralClient
from tests.credentials import workstation_auth
from tests.sync.support import CLERK, DAY, DESK, NOW, central_clock, seeded_central_db
from workstation.commands import DeskContext
from workstation.counter import Counter
from workstation.db import LocalStore
from workstation.models import DeskLease
from workstation.sync_engine import SyncEngine

if TYPE_CHECKING:
    from collections.abc import Callable

    from sync.central.embedded import EmbeddedCentral

WORKSTATION = "ws-bench-f2"
WAITING = 200  # tickets in the queue at the start; each round takes two off it
LEASE = "(1) F2 from the desk's lease"
CENTRAL = "(2) F2 through the central service"
HEALTH = "(3) reference: GET /health, the delay alone"

Result = TypeVar("Result")


class DelayedNetwork(httpx.BaseTransport):
    """The real network, `delay` seconds away: sleeps before forwarding each request. Logs each request
    with the milliseconds from forwarding it (after the delay) to the answer's head."""

    def __init__(self, delay: float) -> None:
        self._real = httpx.HTTPTransport()
        self.delay = delay
        self.log: list[tuple[str, float]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        time.sleep(self.delay)
        started = time.perf_counter()
        response = self._real.handle_request(request)
        what = f"{request.method} {request.url.path.removeprefix('/api/v1')}"
        self.log.append((what, (time.perf_counter() - started) * 1000))
        return response

    def close(self) -> None:
        self._real.close()


@dataclass
class Timed:
    milliseconds: float
    requests: list[tuple[str, float]]  # what the timed step sent: (request, ms after the delay)


class Desk:
    """One workstation at desk d1: its own store, delayed link, engine and counter (as in the tests)."""

    def __init__(self, temp: Path, central: EmbeddedCentral, delay: float) -> None:
        self.ctx = DeskContext(WORKSTATION, BUERGERAMT_ID, DESK, CLERK)
        self.store = LocalStore(temp / "desk.sqlite3")
        self.store.migrate()
        self.network = DelayedNetwork(delay)
        auth = workstation_auth(central.store, WORKSTATION, BUERGERAMT_ID)
        self.client = CentralClient(central.url, timeout=30.0, transport=self.network, auth=auth)
        self.engine = SyncEngine(self.store, self.client, self.ctx, clock=lambda: NOW)
        self.counter = Counter(self.store, self.ctx, remote=self.engine, clock=lambda: NOW)

    def sync(self) -> None:
        report = self.engine.sync_once()
        assert report.online, report.error_de
        assert report.rejected == 0, report

    def leased(self) -> set[str]:
        with self.store.session() as session:
            return set(session.scalars(select(DeskLease.ticket_id)))

    def drop_leases(self) -> None:
        with self.store.write() as session:
            session.execute(delete(DeskLease))

    def timed(self, step: Callable[[], Result]) -> tuple[Timed, Result]:
        sent = len(self.network.log)
        started = time.perf_counter()
        result = step()
        elapsed = (time.perf_counter() - started) * 1000
        return Timed(elapsed, self.network.log[sent:]), result

    def serve_and_finish(self) -> None:
        self.counter.citizen_arrived()
        current = self.counter.current_ticket()
        assert current is not None
        self.counter.finish({service.id: "completed" for service in current.services})

    def close(self) -> None:
        self.client.close()
        self.store.dispose()


def measure(desk: Desk, calls: int, warm_up: int) -> dict[str, list[Timed]]:
    samples: dict[str, list[Timed]] = {HEALTH: [], LEASE: [], CENTRAL: []}
    call_next = f"POST /desks/{DESK}/call-next"
    for n in range(calls + warm_up):
        health, _ = desk.timed(desk.client.health)

        desk.sync()  # pushes the last visit, renews and tops up the leases
        leased = desk.leased()
        assert leased, "the central service leased nothing to the desk"
        from_lease, called = desk.timed(desk.counter.call_next)
        assert called is not None, "queue ran empty"
        assert called.ticket_id in leased, (called.ticket_id, leased)
        desk.serve_and_finish()

        desk.drop_leases()
        through_central, called = desk.timed(desk.counter.call_next)
        assert called is not None, "queue ran empty"
        assert [what for what, _ in through_central.requests].count(call_next) == 1, through_central
        desk.serve_and_finish()

        if n >= warm_up:
            samples[HEALTH].append(health)
            samples[LEASE].append(from_lease)
            samples[CENTRAL].append(through_central)
    return samples


def p50_p95(values: list[float]) -> str:
    p50, p95 = percentiles(values)
    return f"{p50:7.2f} / {p95:7.2f} ms"


def report(delay_ms: float, samples: dict[str, list[Timed]]) -> None:
    calls = len(samples[HEALTH])
    print(f"delay {delay_ms:g} ms per request, {calls} calls of each kind, p50 / p95:")
    reference = percentiles([t.milliseconds for t in samples[HEALTH]])
    for name, timings in samples.items():
        values = [t.milliseconds for t in timings]
        text = f"  {name:<44} {p50_p95(values)}"
        if name != HEALTH:
            p50, p95 = percentiles(values)
            text += f"  = {p50 / reference[0]:.2f}x / {p95 / reference[1]:.2f}x (3)"
        print(text)
    print("requests per call, and where each call's time went (p50 / p95):")
    for name, timings in samples.items():
        sent = Tally(what for t in timings for what, _ in t.requests)
        kinds = ", ".join(f"{what} {count / calls:g}" for what, count in sent.items())
        print(f"  {name[:3]} {sum(sent.values()) / calls:g} request(s){': ' + kinds if kinds else ''}")
        for what in sent:
            answers = [ms for t in timings for w, ms in t.requests if w == what]
            print(f"      {what + ', forwarded to answer':<56} {p50_p95(answers)}")
        if sent:
            rest = [t.milliseconds - sum(delay_ms + ms for _, ms in t.requests) for t in timings]
            print(f"      {'the rest (client, signing, local store)':<56} {p50_p95(rest)}")
            print(f"      delays: {sum(sent.values()) / calls:g} x {delay_ms:g} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=200.0, help="simulated network delay per request")
    parser.add_argument("--calls", type=int, default=15, help="measured calls of each kind")
    parser.add_argument("--warm-up", type=int, default=2, help="rounds run first and not counted")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as temp_dir:
        temp = Path(temp_dir)
        central_url = seeded_central_db(temp / "central.sqlite3", generate_day(DAY, seed=7, waiting=WAITING))
        central = start_embedded(central_url, clock=central_clock)
        desk = Desk(temp, central, args.delay_ms / 1000)
        try:
            desk.sync()  # the first sync: the replica and the first leases (not timed)
            samples = measure(desk, args.calls, args.warm_up)
        finally:
            desk.close()
            central.stop()
    report(args.delay_ms, samples)
    print(f"  (whole run {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
