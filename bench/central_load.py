"""The central service under a city's desks: N workstations long-polling, pushing and leasing, and
kiosks issuing tickets, against two `tresen central serve` processes on one PostgreSQL.

Issue 9: "the central service (PostgreSQL, two processes) with 500 simulated workstations
long-polling, pushing and leasing, plus a kiosk issuing tickets: >= 250 requests/s with p99 <=
200 ms; then 1,000."

The city: `--workstations` desks in offices of `--desks-per-office` (each office a copy of the seeded
Bürgeramt's services; the seeded day's reference data besides), each desk's workstation registered
and bound to its desk, signing every request (RFC 9421) as production does. Each workstation, as a
desk's sync loop and App do, in one asyncio task pair on its own HTTP connection:
- pulls its office once, then long-polls `GET /sync/changes` (`wait` 20 s) and follows the cursor;
- every `--action-seconds` on average (exponential, seeded) pushes one operation (a walk-in issued at
  the desk: `ticket.issue`) and renews its leases (`POST /desks/{id}/leases`, k = 2).
The offices' kiosks issue `--kiosk-per-second` tickets in all (`POST /tickets`, a kiosk token per
office), spread over the offices at random. Each push and ticket is news for the office's other
desks, so it wakes their long polls: that fan-out is most of the traffic.

Printed: requests per second answered during `--seconds`, by kind, with p50 / p99 of the requests
that do not wait (push, leases, kiosk, the first pulls) and, for the long polls, the news delay:
from the start of the office's latest write to the long poll's answer that brought it. Beside it, in
the same run and the same harness, the reference: `--reference-tasks` tasks asking `GET /health`
(no database) back to back for `--reference-seconds` — what the two processes and this client can
answer at most, so the load's rate reads as a share of it.

    uv run python bench/central_load.py [--workstations 500] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cpu_meter import CpuMeter, children_of, pids_with_arguments
from bench.lean_http import Client, HttpError, Response, Signer, json_body
from bench.postgres import postgres_server
from sync.central.credentials import TokenKind
from sync.central.seed import BUERGERAMT_ID, SeedDay, generate_day, seed_central
from sync.central.store import CentralStore
from sync.clock import OFFICE_ZONE
from sync.protocol import CLIENT_KEEP_ALIVE_SECONDS, DeskSnapshot, OfficeSnapshot, ServiceSnapshot
from tests.credentials import shared_key, token, workstation_auth
from tests.faults.central_process import CentralProcess

if TYPE_CHECKING:
    from sync.signatures import SignedRequests

LONG_POLL_SECONDS = 20.0
LEASES_WANTED = 2


@dataclass(frozen=True)
class Station:
    workstation_id: str
    office_id: str
    desk_id: str
    service_id: str
    central_url: str
    auth: SignedRequests


@dataclass
class Record:
    """What the run saw: answer times by kind, statuses, news delays, and each office's latest write."""

    waits: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    news_delays: list[float] = field(default_factory=list)
    last_write: dict[str, float] = field(default_factory=dict)
    failures: Counter[str] = field(default_factory=Counter)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per process group, measured span
    counting: bool = False

    def answered(self, kind: str, started: float, status: int) -> None:
        if self.counting:
            self.waits[kind].append((time.perf_counter() - started) * 1000)
            self.statuses[(kind, status)] += 1


def city(offices: int, desks_per_office: int) -> SeedDay:
    """The seeded day's reference data plus `offices` copies of the Bürgeramt with their desks."""
    day = datetime.now(OFFICE_ZONE).date()
    base = generate_day(day, appointments=0, waiting=0)
    model = next(office for office in base.offices if office.id == BUERGERAMT_ID)
    model_services = [service for service in base.services if service.office_id == BUERGERAMT_ID]
    new_offices: list[OfficeSnapshot] = []
    new_services: list[ServiceSnapshot] = []
    new_desks: list[DeskSnapshot] = []
    for n in range(offices):
        office_id = f"city-{n:03d}"
        new_offices.append(model.model_copy(update={"id": office_id, "name": f"Bürgeramt {n + 1}"}))
        services = [
            service.model_copy(
                update={"id": service.id.replace(BUERGERAMT_ID, office_id), "office_id": office_id}
            )
            for service in model_services
        ]
        new_services += services
        new_desks += [
            DeskSnapshot(
                id=f"{office_id}-d{d}",
                office_id=office_id,
                number=d,
                name=f"Schalter {d}",
                service_ids=[service.id for service in services],
                version=0,
            )
            for d in range(1, desks_per_office + 1)
        ]
    return SeedDay(
        day, base.offices + new_offices, base.services + new_services, base.desks + new_desks, base.clerks, []
    )


def stations(central: CentralStore, day: SeedDay, urls: list[str], count: int) -> list[Station]:
    key = shared_key()  # one key for all: a P-256 key per workstation would only cost set-up time
    made = []
    desks = [desk for desk in day.desks if desk.office_id.startswith("city-")]
    for n, desk in enumerate(desks[:count]):
        workstation_id = f"ws-load-{n:04d}"
        auth = workstation_auth(central, workstation_id, desk.office_id, desk_id=desk.id, key=key)
        url = urls[n % len(urls)]  # alternate between the processes, as a load balancer would
        made.append(Station(workstation_id, desk.office_id, desk.id, desk.service_ids[0], url, auth))
    return made


def office_address(office_id: str) -> str:
    """A loopback address per office, as each office reaches the central service from its own (NAT)
    address: the central service bounds the connections one address may hold (64)."""
    n = int(office_id.removeprefix("city-"))
    return f"127.1.{n // 250}.{n % 250 + 1}"


async def _request(
    client: Client,
    record: Record,
    kind: str,
    method: str,
    path: str,
    *,
    params: dict[str, object] | None = None,
    json: object = None,
    headers: str = "",
    timeout: float = 30.0,
) -> Response | None:
    started = time.perf_counter()
    body = json_body(json) if json is not None else b""
    try:
        response = await client.request(
            method, path, params=params, body=body, headers=headers, timeout=timeout
        )
    except HttpError as error:
        record.failures[f"{kind}: {error}"] += 1
        return None
    record.answered(kind, started, response.status_code)
    return response


async def _long_polls(station: Station, client: Client, record: Record, stop: asyncio.Event) -> None:
    cursor = 0
    while not stop.is_set():
        params: dict[str, object] = {
            "office_id": station.office_id,
            "workstation_id": station.workstation_id,
            "cursor": cursor,
            "limit": 500,
        }
        if cursor:
            params["wait"] = LONG_POLL_SECONDS
        started = time.perf_counter()
        kind = "changes, long poll" if cursor else "changes, first pull"
        response = await _request(
            client, record, kind, "GET", "/api/v1/sync/changes", params=params, timeout=LONG_POLL_SECONDS + 30
        )
        if response is None or response.status_code != 200:
            await asyncio.sleep(1.0)  # as the sync engine backs off; a failure is counted above
            continue
        page = response.json()
        assert isinstance(page, dict)
        if cursor and page["cursor"] != cursor and record.counting:
            written = record.last_write.get(station.office_id)
            if written is not None and written >= started:
                record.news_delays.append((time.perf_counter() - written) * 1000)
        cursor = page["cursor"]


async def _actions(
    station: Station, client: Client, record: Record, stop: asyncio.Event, every: float
) -> None:
    rng = random.Random(station.workstation_id)
    seq = 0
    while True:
        try:
            await asyncio.wait_for(stop.wait(), rng.expovariate(1 / every))
            return
        except TimeoutError:
            pass
        seq += 1
        now = datetime.now(UTC).isoformat()
        operation = {
            "op_id": str(uuid.uuid4()),
            "seq": seq,
            "kind": "ticket.issue",
            "args": {
                "ticket_id": f"tkt-{station.workstation_id}-{seq}",
                "number": f"W{seq}",
                "service_ids": [station.service_id],
                "at": now,
                "origin": "desk",
            },
            "created_at": now,
        }
        body = {
            "workstation_id": station.workstation_id,
            "office_id": station.office_id,
            "operations": [operation],
        }
        record.last_write[station.office_id] = time.perf_counter()
        await _request(client, record, "push, 1 operation", "POST", "/api/v1/sync/push", json=body)
        lease_body = {"workstation_id": station.workstation_id, "want": LEASES_WANTED}
        await _request(
            client, record, "leases", "POST", f"/api/v1/desks/{station.desk_id}/leases", json=lease_body
        )


async def _kiosks(
    urls: list[str],
    tokens: dict[str, tuple[str, str]],
    record: Record,
    stop: asyncio.Event,
    per_second: float,
) -> None:
    rng = random.Random(7)
    clients = [Client(url, keep_alive=CLIENT_KEEP_ALIVE_SECONDS) for url in urls]
    offices = sorted(tokens)
    pending: set[asyncio.Future[Response | None]] = set()
    try:
        while True:
            try:
                await asyncio.wait_for(stop.wait(), rng.expovariate(per_second))
                return
            except TimeoutError:
                pass
            office_id = offices[rng.randrange(len(offices))]
            kiosk_token, service_id = tokens[office_id]
            body = {"office_id": office_id, "service_ids": [service_id]}
            record.last_write[office_id] = time.perf_counter()
            headers = f"authorization: Bearer {kiosk_token}\r\n"
            client = clients[rng.randrange(len(clients))]
            # not awaited here, so a slow answer does not slow the kiosks' rate
            pending.add(
                asyncio.ensure_future(
                    _request(
                        client, record, "kiosk ticket", "POST", "/api/v1/tickets", json=body, headers=headers
                    )
                )
            )
    finally:
        await asyncio.gather(*pending)  # the last tickets' answers
        for client in clients:
            await client.aclose()


async def _reference(urls: list[str], tasks: int, seconds: float) -> tuple[float, list[float]]:
    """GET /health back to back from `tasks` tasks: the most the processes and this client answer."""
    waits: list[float] = []
    deadline = time.perf_counter() + seconds

    async def ask(url: str) -> None:
        client = Client(url, keep_alive=CLIENT_KEEP_ALIVE_SECONDS)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.request("GET", "/api/v1/health")
            if response.status_code != 200:
                raise RuntimeError(f"GET /health answered {response.status_code}")
            waits.append((time.perf_counter() - started) * 1000)
        await client.aclose()

    started = time.perf_counter()
    await asyncio.gather(*(ask(urls[n % len(urls)]) for n in range(tasks)))
    return len(waits) / (time.perf_counter() - started), waits


async def _load(
    args: argparse.Namespace,
    all_stations: list[Station],
    tokens: dict[str, tuple[str, str]],
    urls: list[str],
    meter: CpuMeter,
) -> Record:
    record = Record()
    stop = asyncio.Event()
    clients = [
        Client(
            s.central_url,
            local_address=office_address(s.office_id),
            keep_alive=CLIENT_KEEP_ALIVE_SECONDS,
            signer=Signer(s.auth.key, s.auth.key_id),
        )
        for s in all_stations
    ]
    tasks = [
        asyncio.ensure_future(_long_polls(s, c, record, stop))
        for s, c in zip(all_stations, clients, strict=True)
    ]
    tasks += [
        asyncio.ensure_future(_actions(s, c, record, stop, args.action_seconds))
        for s, c in zip(all_stations, clients, strict=True)
    ]
    await asyncio.sleep(args.warm_up)  # the first pulls and a first round of actions, not counted
    record.counting = True
    meter.start()
    kiosks = asyncio.ensure_future(_kiosks(urls, tokens, record, stop, args.kiosk_per_second))
    started = time.perf_counter()
    await asyncio.sleep(args.seconds)
    record.counting = False
    meter.stop()
    record.cpu = meter.spent
    elapsed = time.perf_counter() - started
    stop.set()
    await kiosks
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for client in clients:
        await client.aclose()
    record.waits["(elapsed)"] = [elapsed]
    return record


def _p(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def report(args: argparse.Namespace, record: Record, reference: tuple[float, list[float]]) -> None:
    elapsed = record.waits.pop("(elapsed)")[0]
    total = sum(len(values) for values in record.waits.values())
    rate = total / elapsed
    reference_rate, reference_waits = reference
    print(
        f"{args.workstations} workstations in offices of {args.desks_per_office}, 2 central processes on"
        f" PostgreSQL; actions every {args.action_seconds:g} s per desk, kiosks {args.kiosk_per_second:g}/s"
    )
    print(
        f"  answered: {rate:7.1f} requests/s over {elapsed:.0f} s"
        f" = {rate / reference_rate:.2f}x the reference"
    )
    print(
        f"  reference, GET /health from {args.reference_tasks} tasks: {reference_rate:7.1f} requests/s, "
        f"p50 {_p(reference_waits, 50):.1f} / p99 {_p(reference_waits, 99):.1f} ms"
    )
    for kind, values in sorted(record.waits.items()):
        statuses = ", ".join(
            f"{status} x{n}" for (k, status), n in sorted(record.statuses.items()) if k == kind
        )
        line = f"  {kind:<22} {len(values) / elapsed:7.1f}/s"
        if kind != "changes, long poll":
            line += f"   p50 {_p(values, 50):7.1f} / p99 {_p(values, 99):7.1f} ms"
        print(f"{line}   [{statuses}]")
    delays = record.news_delays
    print(
        f"  news delay (office's write started -> long poll answered): n={len(delays)}, "
        f"p50 {_p(delays, 50):.1f} / p99 {_p(delays, 99):.1f} ms"
    )
    per_request = ", ".join(f"{name} {seconds * 1000 / total:.2f} ms" for name, seconds in record.cpu.items())
    busy = sum(record.cpu.values()) / elapsed
    print(f"  CPU per answered request: {per_request} ({busy:.2f} cores busy with this bench)")
    if record.failures:
        print("  failures: " + ", ".join(f"{what} x{n}" for what, n in record.failures.most_common()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workstations", type=int, default=500)
    parser.add_argument("--desks-per-office", type=int, default=10)
    parser.add_argument(
        "--action-seconds", type=float, default=30.0, help="mean pause between a desk's pushes"
    )
    parser.add_argument("--kiosk-per-second", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=60.0, help="measured span")
    parser.add_argument("--warm-up", type=float, default=15.0, help="seconds run first and not counted")
    parser.add_argument("--reference-tasks", type=int, default=50)
    parser.add_argument("--reference-seconds", type=float, default=10.0)
    args = parser.parse_args()
    offices = -(-args.workstations // args.desks_per_office)
    with postgres_server() as server, tempfile.TemporaryDirectory() as scratch:
        if server is None:
            raise SystemExit("this bench needs PostgreSQL")
        db_url = server.create_database()
        postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
        day = city(offices, args.desks_per_office)
        central = CentralStore(db_url)
        central.create_schema()
        with central.write() as session:
            seed_central(session, day)
        logs = [Path(scratch) / f"central-{n}.log" for n in range(2)]
        processes = [CentralProcess(db_url, log_path=log).start() for log in logs]
        try:
            urls = [process.url for process in processes]
            all_stations = stations(central, day, urls, args.workstations)
            service_of = {s.office_id: s.service_id for s in all_stations}
            tokens = {
                office: (token(central, TokenKind.KIOSK, office), service)
                for office, service in service_of.items()
            }
            central.dispose()
            # What this client holds by now (modules, stations, keys) lives for the whole run: out of
            # the collector's sight, or a full collection over it stalls every simulated desk at once
            # (220-430 ms, gc.callbacks), a pause of this harness 500 separate workstations never have.
            del day
            gc.collect()
            gc.freeze()
            reference = asyncio.run(_reference(urls, args.reference_tasks, args.reference_seconds))
            meter = CpuMeter(
                {
                    "central processes": lambda: [
                        pid for p in processes for pid in pids_with_arguments("serve", str(p.port))
                    ],
                    "PostgreSQL": lambda: [postmaster, *children_of(postmaster)],
                    "this client": lambda: [os.getpid()],
                }
            )
            record = asyncio.run(_load(args, all_stations, tokens, urls, meter))
        finally:
            for process in processes:
                process.stop()
        report(args, record, reference)
        if any(status >= 500 for _kind, status in record.statuses):
            _print_server_errors(logs)


def _print_server_errors(logs: list[Path]) -> None:
    """The central processes' own account of their 5xx answers: each logged error with its traceback."""
    for log in logs:
        lines = log.read_text(errors="replace").splitlines()
        errors = [n for n, line in enumerate(lines) if line.startswith(("ERROR", "Traceback"))]
        for n in errors[:3]:
            print(f"{log.name}:", *lines[n : n + 40], sep="\n  ")


if __name__ == "__main__":
    main()
