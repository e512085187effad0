"""What 2,000 open status pages (and the call display) cost the central service of one office.

The central service runs in its own process (the embedded uvicorn server on SQLite, a seeded day with
2,000 waiting tickets, each with its status token); its CPU time and resident memory are read from
/proc. This process plays the phones:
- subscribed: 2,000 server-sent-event streams on `/q/{token}/events` plus one display stream; CPU
  while idle, then per call (call-next once a second) and the delay until each stream whose page
  changed received its event;
- polling: the same phones polling `/q/{token}` (the page without JavaScript), CPU per request, and
  what one poll per phone every 15 s would cost.
The status pages need no credential (their random token is the key); the display stream sends the
office's display token (`Authorization: Bearer`), and each call-next is signed (RFC 9421) by a
workstation registered for its desk with its clerk logged in, as in the office.

    uv run python bench/display_load.py [--phones 2000] [--calls 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cpu_meter import cpu_seconds
from sync.central import store
from sync.central.credentials import TokenKind
from sync.central.seed import BUERGERAMT_ID, generate_day, seed_central
from tests.credentials import bearer, clerk_auth

if TYPE_CHECKING:
    from sync.signatures import SignedRequests

API = "/api/v1"
DESKS = [f"{BUERGERAMT_ID}-d{n}" for n in range(1, 8)]
CLERKS = [f"{BUERGERAMT_ID}-c{n}" for n in range(1, 8)]
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SETTLE_SECONDS = 5.0
CALL_SPACING_SECONDS = 4.0


def serve(db_url: str) -> None:
    """The child: the central service on a free port; prints its URL, runs until stdin closes."""
    from sync.central.embedded import start_embedded

    started = time.monotonic()
    central = start_embedded(db_url, clock=lambda: NOW + timedelta(seconds=time.monotonic() - started))
    print(central.url, flush=True)
    sys.stdin.read()
    central.stop()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentiles(samples: list[float]) -> str:
    if not samples:
        return "n=0"
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"n={len(ordered)} p50={statistics.median(ordered):.0f} ms p95={p95:.0f} ms max={ordered[-1]:.0f} ms"
    )


async def subscribed(
    url: str,
    pid: int,
    tokens: list[str],
    calls: int,
    display_headers: dict[str, str],
    desk_auth: dict[str, SignedRequests],
) -> None:
    arrivals: dict[int, list[float]] = {}  # call index → arrival times on status pages (ms, monotonic)
    on_display: dict[int, float] = {}
    current_call = -1
    opened = 0

    async def phone(client: httpx.AsyncClient, path: str, *, display: bool = False) -> None:
        nonlocal opened
        headers = display_headers if display else None
        async with client.stream("GET", path, headers=headers) as response:
            response.raise_for_status()
            opened += 1
            async for line in response.aiter_lines():
                if line.startswith("event: state") and current_call >= 0:
                    if display:
                        on_display.setdefault(current_call, time.monotonic() * 1000)
                    else:
                        arrivals.setdefault(current_call, []).append(time.monotonic() * 1000)

    limits = httpx.Limits(max_connections=len(tokens) + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=url, limits=limits, timeout=httpx.Timeout(60, connect=60)
    ) as client:
        rss_before = rss_mib(pid)
        cpu_before = cpu_seconds(pid)
        tasks = [asyncio.create_task(phone(client, f"/q/{token}/events")) for token in tokens]
        tasks.append(asyncio.create_task(phone(client, f"/display/{BUERGERAMT_ID}/events", display=True)))
        while opened < len(tasks):
            failed = [task for task in tasks if task.done()]
            if failed:
                failed[0].result()  # a refused stream (401, 403) ends the run with its error
            await asyncio.sleep(0.1)
        cpu_opened = cpu_seconds(pid)
        print(
            f"subscribed: {len(tasks)} streams open; opening them cost {cpu_opened - cpu_before:.2f} s CPU, "
            f"RSS {rss_before:.0f} → {rss_mib(pid):.0f} MiB"
        )
        await asyncio.sleep(SETTLE_SECONDS)  # the first events of every stream are sent by now
        idle_from = cpu_seconds(pid)
        await asyncio.sleep(10)
        print(f"subscribed, idle: {(cpu_seconds(pid) - idle_from) / 10 * 100:.1f} % of one core")
        delays: list[float] = []
        display_delays: list[float] = []
        per_call_cpu: list[float] = []
        async with httpx.AsyncClient(base_url=url + API) as api:
            for n in range(calls):
                before = cpu_seconds(pid)
                current_call = n
                sent = time.monotonic() * 1000
                desk = DESKS[n % len(DESKS)]
                (
                    await api.post(
                        f"/desks/{desk}/call-next",
                        json={
                            "workstation_id": f"ws-{desk}",
                            "clerk_id": CLERKS[n % len(CLERKS)],
                            "call_id": f"l{n}",
                        },
                        auth=desk_auth[desk],
                    )
                ).raise_for_status()
                await asyncio.sleep(CALL_SPACING_SECONDS)  # every stream's event is in before the next call
                per_call_cpu.append(cpu_seconds(pid) - before)
                delays += [at - sent for at in arrivals.get(n, [])]
                if n in on_display:
                    display_delays.append(on_display[n] - sent)
        events = sum(len(v) for v in arrivals.values())
        print(
            f"subscribed, per call: {statistics.mean(per_call_cpu) * 1000:.0f} ms CPU (mean of {calls}), "
            f"{events / calls:.0f} status streams got an event; call → event {percentiles(delays)}"
        )
        print(f"subscribed, the display stream meanwhile: call → event {percentiles(display_delays)}")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def polling(url: str, pid: int, tokens: list[str]) -> None:
    async with httpx.AsyncClient(base_url=url, limits=httpx.Limits(max_connections=20)) as client:
        semaphore = asyncio.Semaphore(20)
        latencies: list[float] = []

        async def poll(token: str) -> None:
            async with semaphore:
                started = time.perf_counter()
                (await client.get(f"/q/{token}")).raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)

        before = cpu_seconds(pid)
        began = time.perf_counter()
        await asyncio.gather(*(poll(token) for token in tokens))
        elapsed = time.perf_counter() - began
        per_request = (cpu_seconds(pid) - before) / len(tokens)
        print(
            f"polling: {len(tokens)} page loads in {elapsed:.1f} s, {per_request * 1000:.1f} ms CPU each, "
            f"latency {percentiles(latencies)}; one poll per phone every 15 s = "
            f"{len(tokens) / 15 * per_request * 100:.0f} % of one core"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--phones", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    with tempfile.TemporaryDirectory() as folder:
        db_url = f"sqlite:///{Path(folder) / 'central.sqlite3'}"
        central_store = store.CentralStore(db_url)
        central_store.create_schema()
        with central_store.write() as session:
            seed_central(
                session, generate_day(NOW.date(), seed=1, appointments=300, waiting=args.phones, now=NOW)
            )
        with central_store.read() as session:
            found = list(
                session.scalars(
                    select(store.Ticket.status_token).where(
                        store.Ticket.state == "waiting", store.Ticket.status_token.is_not(None)
                    )
                )
            )
        display_headers = bearer(central_store, TokenKind.DISPLAY, BUERGERAMT_ID)
        desk_auth = {
            desk: clerk_auth(central_store, f"ws-{desk}", BUERGERAMT_ID, clerk, desk_id=desk)
            for desk, clerk in zip(DESKS, CLERKS, strict=True)
        }
        central_store.dispose()
        tokens = [t for t in found if t is not None][: args.phones]
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", db_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None
            url = child.stdout.readline().strip()
            print(
                f"{len(tokens)} waiting tickets with a status page; central service pid {child.pid} at {url}"
            )
            asyncio.run(polling(url, child.pid, tokens))
            asyncio.run(subscribed(url, child.pid, tokens, args.calls, display_headers, desk_auth))
        finally:
            assert child.stdin is not None
            child.stdin.close()
            child.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
