"""F2 with the central service healthy, far away and down, beside an online-only client that waits
for the central service on every call (as ZMS does), all in the same run.

Issue 9: "online, every F2 waits for a round trip to the central service, so with the central 200 ms
away every call costs 200 ms", and: "F2 with the central service healthy, 200 ms away and down —
measured in one run beside an online-only client: Tresen's three figures within noise of each other,
the online-only client >= 200 ms". Leases are the answer (`sync.central.leases`): each sync leaves
the desk k tickets it may call locally.

The embedded central service (uvicorn) serves a seeded SQLite day (the tests' day, `generate_day`
with 200 waiting tickets). Two workstations, each registered with a key and signing every request
(RFC 9421) as production does, have their own local store, `SyncEngine` and `Counter`, set up as in
tests/sync/test_leases.py. Each `CentralClient` talks through a `Network`: an httpx transport that
sleeps `--delay-ms` before forwarding each request to the real `httpx.HTTPTransport` (a simulated
WAN, one round trip's delay per request; the connection is kept alive, so no handshake is paid
again), or, when the central service is down, refuses the connection as a stopped host does.

Tresen, desk d1, for each state of the central service in turn — healthy (no delay), far
(`--delay-ms`), down — after an untimed sync in good health has pushed the last visit and left the
desk its leases (for "down", the link is then cut and one sync round finds it so):
    F2 from the lease: `counter.call_next()` calls a leased ticket locally;
    F2 without a lease: the desk's `DeskLease` rows deleted, `counter.call_next()` asks the central
        service (one round trip; down: the local queue without asking, the last round got no answer).
  After each call the visit is served and finished and, as the App does after each clerk action,
  pushed at once (`engine.push_pending()`, not timed).
The online-only client, desk d2, far: nothing pending, no leases; F2 is `engine.call_next()`, one
  call-next round trip whose answer the clerk waits for.
The reference: `GET /api/v1/health` through d1's far link (the delay alone).

Only the core's `call_next` is timed (`time.perf_counter`), not the frame: the frame after it is the
same in every case and is measured by bench/keypress_f2.py. Prints p50 / p95 and requests per call.

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
from tests.sync.support import (
    CLERK,
    DAY,
    DESK,
    NOW,
    OTHER_CLERK,
    OTHER_DESK,
    central_clock,
    seeded_central_db,
)
from workstation.commands import DeskContext
from workstation.counter import Counter
from workstation.db import LocalStore
from workstation.models import DeskLease
from workstation.sync_engine import SyncEngine

if TYPE_CHECKING:
    from collections.abc import Callable

    from sync.central.embedded import EmbeddedCentral

WAITING = 200  # tickets in the queue at the start; each round takes seven off it
HEALTHY, FAR, DOWN = "healthy", "far", "down"
REFERENCE = "reference: GET /health, far (the delay alone)"
ONLINE_ONLY = "online-only client (ZMS-like), far"

Result = TypeVar("Result")


class Network(httpx.BaseTransport):
    """The real network to the central service: `delay` seconds away, or `down` (the connection
    refused, as by a stopped host). Logs each request with the milliseconds from forwarding it
    (after the delay) to the answer's head."""

    def __init__(self) -> None:
        self._real = httpx.HTTPTransport()
        self.delay = 0.0
        self.down = False
        self.log: list[tuple[str, float]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        what = f"{request.method} {request.url.path.removeprefix('/api/v1')}"
        if self.down:
            self.log.append((what + " (refused)", 0.0))
            raise httpx.ConnectError("connection refused", request=request)
        time.sleep(self.delay)
        started = time.perf_counter()
        response = self._real.handle_request(request)
        self.log.append((what, (time.perf_counter() - started) * 1000))
        return response

    def close(self) -> None:
        self._real.close()


@dataclass
class Timed:
    milliseconds: float
    requests: list[tuple[str, float]]  # what the timed step sent: (request, ms after the delay)


class Desk:
    """One workstation at one desk: its own store, link, engine and counter (as in the tests)."""

    def __init__(self, temp: Path, central: EmbeddedCentral, desk_id: str, clerk_id: str) -> None:
        workstation_id = f"ws-bench-{desk_id}"
        self.ctx = DeskContext(workstation_id, BUERGERAMT_ID, desk_id, clerk_id)
        self.store = LocalStore(temp / f"{desk_id}.sqlite3")
        self.store.migrate()
        self.network = Network()
        auth = workstation_auth(central.store, workstation_id, BUERGERAMT_ID)
        self.client = CentralClient(central.url, timeout=30.0, transport=self.network, auth=auth)
        self.engine = SyncEngine(self.store, self.client, self.ctx, clock=lambda: NOW)
        self.counter = Counter(self.store, self.ctx, remote=self.engine, clock=lambda: NOW)

    def link(self, state: str, delay: float) -> None:
        self.network.down = state == DOWN
        self.network.delay = delay if state == FAR else 0.0

    def sync(self, *, leases: bool = True) -> None:
        """A sync round in good health; without `leases` only push and pull (an online-only client
        asks for none, and holding them would make other desks' offline choices collide with it)."""
        self.link(HEALTHY, 0.0)
        reports = [self.engine.sync_once()] if leases else [self.engine.push_pending(), self.engine.pull()]
        for report in reports:
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
        """The visit after the call, and the push the App starts after each clerk action."""
        self.counter.citizen_arrived()
        current = self.counter.current_ticket()
        assert current is not None
        self.counter.finish({service.id: "completed" for service in current.services})
        self.engine.push_pending()  # never raises; offline it leaves the work pending

    def close(self) -> None:
        self.client.close()
        self.store.dispose()


def _tresen(state: str, leased: bool) -> str:
    return f"Tresen, central {state}, F2 {'from the lease' if leased else 'without a lease'}"


def _tresen_round(desk: Desk, state: str, delay: float) -> dict[str, Timed]:
    desk.sync()  # pushes what is pending, renews and tops up the leases
    leased = desk.leased()
    assert leased, "the central service leased nothing to the desk"
    desk.link(state, delay)
    if state == DOWN:
        assert not desk.engine.sync_once().online  # the round that finds the central service gone
    from_lease, called = desk.timed(desk.counter.call_next)
    assert called is not None, "queue ran empty"
    assert called.ticket_id in leased, (called.ticket_id, leased)
    desk.serve_and_finish()

    desk.drop_leases()
    without_lease, called = desk.timed(desk.counter.call_next)
    assert called is not None, "queue ran empty"
    asked = [what for what, _ in without_lease.requests if what.endswith("/call-next")]
    assert asked == ([] if state == DOWN else [f"POST /desks/{desk.ctx.desk_id}/call-next"]), asked
    desk.serve_and_finish()
    return {_tresen(state, True): from_lease, _tresen(state, False): without_lease}


def _online_only_call(client: Desk, delay: float) -> Timed:
    client.sync(leases=False)
    client.link(FAR, delay)
    timed, called = client.timed(lambda: client.engine.call_next(client.ctx))
    assert called is not None, "queue ran empty"
    assert [what for what, _ in timed.requests] == [f"POST /desks/{client.ctx.desk_id}/call-next"]
    client.serve_and_finish()
    return timed


def measure(desk: Desk, online_only: Desk, delay: float, calls: int, warm_up: int) -> dict[str, list[Timed]]:
    samples: dict[str, list[Timed]] = {REFERENCE: []}
    for n in range(calls + warm_up):
        desk.link(FAR, delay)
        health, _ = desk.timed(desk.client.health)
        rounds = {REFERENCE: health}
        for state in (HEALTHY, FAR, DOWN):
            rounds |= _tresen_round(desk, state, delay)
        # d1's offline work delivered before d2 asks: otherwise the central service, not knowing
        # d1's local call, may give d2 the same citizen (a real conflict, flagged; not this bench's topic)
        desk.sync()
        rounds[ONLINE_ONLY] = _online_only_call(online_only, delay)
        if n >= warm_up:
            for name, timed in rounds.items():
                samples.setdefault(name, []).append(timed)
    desk.sync()  # the last visit pushed: nothing done in the bench is left pending
    return samples


def p50_p95(values: list[float]) -> str:
    p50, p95 = percentiles(values)
    return f"{p50:7.2f} / {p95:7.2f} ms"


def report(delay_ms: float, samples: dict[str, list[Timed]]) -> None:
    calls = len(samples[REFERENCE])
    print(f"far = {delay_ms:g} ms per request; {calls} calls of each kind; p50 / p95, ratio to the reference")
    reference = percentiles([t.milliseconds for t in samples[REFERENCE]])
    for name, timings in samples.items():
        values = [t.milliseconds for t in timings]
        p50, p95 = percentiles(values)
        sent = Tally(what for t in timings for what, _ in t.requests)
        requests = f"{sum(sent.values()) / calls:g} request(s)"
        ratio = "" if name == REFERENCE else f" = {p50 / reference[0]:5.2f}x / {p95 / reference[1]:5.2f}x"
        print(f"  {name:<52} {p50_p95(values)}{ratio}  {requests}")
        for what in sent:
            answers = [ms for t in timings for w, ms in t.requests if w == what]
            print(f"      {what + ', forwarded to answer':<48} {p50_p95(answers)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=200.0, help="the far central service's delay")
    parser.add_argument("--calls", type=int, default=15, help="measured calls of each kind")
    parser.add_argument("--warm-up", type=int, default=2, help="rounds run first and not counted")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as temp_dir:
        temp = Path(temp_dir)
        central_url = seeded_central_db(temp / "central.sqlite3", generate_day(DAY, seed=7, waiting=WAITING))
        central = start_embedded(central_url, clock=central_clock)
        desk = Desk(temp, central, DESK, CLERK)
        online_only = Desk(temp, central, OTHER_DESK, OTHER_CLERK)
        try:
            desk.sync()  # the first sync: the replica and the first leases (not timed)
            online_only.sync(leases=False)
            samples = measure(desk, online_only, args.delay_ms / 1000, args.calls, args.warm_up)
        finally:
            desk.close()
            online_only.close()
            central.stop()
    report(args.delay_ms, samples)
    print(f"  (whole run {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
