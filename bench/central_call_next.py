"""The central service under a full day: call-next, a changes page and a push batch over real HTTP.

Seeds 5,000 appointments and 2,000 waiting tickets, starts the embedded uvicorn server and measures,
each as p50/p95 in milliseconds from request sent to answer parsed:
- call-next from the Bürgeramt desks in turn (each call takes one ticket off the queue);
- one page of changes (`limit` rows) from cursor 0, and the empty "anything new?" page at the head;
- a push batch of 50 operations (10 whole visits: issue, call, serve, finish; plus 10 walk-ins).
Every request is signed as a desk does it (RFC 9421, `sync.signatures`): each desk, the workstation
reading changes and each pushing workstation is registered with a key (as an enrollment leaves it)
and has its clerk logged in, so the signed session header goes along; signing happens inside the
timing, as it does in the client. Runs on SQLite, and on PostgreSQL when the tests' helper can start
a throw-away server.

    uv run python bench/central_call_next.py [--calls 200] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.postgres import postgres_url
from sync.central import store
from sync.central.embedded import start_embedded
from sync.central.seed import BUERGERAMT_ID, generate_day, seed_central
from tests.credentials import clerk_auth

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sync.signatures import SignedRequests

API = "/api/v1"
DESKS = [f"{BUERGERAMT_ID}-d{n}" for n in range(1, 8)]  # desk 8 serves pickups only
CLERKS = [f"{BUERGERAMT_ID}-c{n}" for n in range(1, 11)]
SERVICE = f"{BUERGERAMT_ID}-an"
READER = "ws-bench"  # the workstation that reads the changes
PUSH_BATCHES = 20
PUSH_CLERK = CLERKS[1]  # the clerk in the pushed visits' operations


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    p50 = statistics.median(ordered)
    return f"n={len(ordered)} p50={p50:.1f} ms p95={p95:.1f} ms max={ordered[-1]:.1f} ms"


def timed(http: httpx.Client, method: str, url: str, **request: Any) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = http.request(method, url, **request)
    response.raise_for_status()
    response.json()
    return (time.perf_counter() - started) * 1000, response


def seed(db_url: str) -> store.CentralStore:
    started = time.perf_counter()
    central = store.CentralStore(db_url)
    central.create_schema()
    now = datetime.now(UTC)
    day = generate_day(now.date(), seed=1, appointments=5000, waiting=2000, now=now)
    with central.write() as session:
        seed_central(session, day)
    if not central.is_sqlite:
        with central.write() as session:  # planner statistics, as autovacuum gathers soon after a bulk load
            session.execute(text("ANALYZE"))
    waiting = sum(1 for t in day.tickets if t.office_id == BUERGERAMT_ID)
    print(
        f"  seeded 5000 appointments, 2000 waiting ({waiting} at {BUERGERAMT_ID}) in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return central


def desk_workstation(desk: str) -> str:
    return f"ws-{desk}"


def desk_clerk(desk: str) -> str:
    return CLERKS[DESKS.index(desk)]


def push_workstation(batch: int) -> str:
    return f"ws-bench-{batch}"


def register(central: store.CentralStore) -> dict[str, SignedRequests]:
    """Each workstation's signing auth: registered with a key (bound to its desk, if it has one) and
    with its clerk logged in, as after an enrollment and a login."""
    auths = {
        desk_workstation(desk): clerk_auth(
            central, desk_workstation(desk), BUERGERAMT_ID, desk_clerk(desk), desk_id=desk
        )
        for desk in DESKS
    }
    auths[READER] = clerk_auth(central, READER, BUERGERAMT_ID, CLERKS[-1])
    for batch in range(PUSH_BATCHES):  # the pushed visits happen at the first desk
        workstation = push_workstation(batch)
        auths[workstation] = clerk_auth(central, workstation, BUERGERAMT_ID, PUSH_CLERK, desk_id=DESKS[0])
    return auths


def bench_call_next(http: httpx.Client, auths: dict[str, SignedRequests], calls: int) -> None:
    samples: list[float] = []
    for n in range(calls + 10):
        desk = DESKS[n % len(DESKS)]
        workstation = desk_workstation(desk)
        body = {"workstation_id": workstation, "clerk_id": desk_clerk(desk), "call_id": f"c{n}"}
        elapsed, response = timed(
            http, "POST", f"{API}/desks/{desk}/call-next", json=body, auth=auths[workstation]
        )
        assert response.json()["ticket"] is not None, "queue ran empty"
        if n >= 10:  # the first calls warm connections and caches
            samples.append(elapsed)
    print(f"  call-next            {percentiles(samples)}")


def bench_changes(http: httpx.Client, auth: SignedRequests, limit: int, repeats: int = 15) -> None:
    first: list[float] = []
    responses: list[httpx.Response] = []
    for _ in range(repeats):
        elapsed, answer = timed(
            http,
            "GET",
            f"{API}/sync/changes",
            params={"office_id": BUERGERAMT_ID, "limit": limit},
            auth=auth,
        )
        first.append(elapsed)
        responses.append(answer)
    response = responses[-1]
    head_cursor = response.json()["cursor"]
    while response.json()["has_more"]:
        head_cursor = response.json()["cursor"]
        response = http.get(
            f"{API}/sync/changes",
            params={"office_id": BUERGERAMT_ID, "cursor": head_cursor, "limit": 5000},
            auth=auth,
        ).raise_for_status()
        head_cursor = response.json()["cursor"]
    head: list[float] = []
    for _ in range(repeats * 4):
        elapsed, _response = timed(
            http,
            "GET",
            f"{API}/sync/changes",
            params={"office_id": BUERGERAMT_ID, "cursor": head_cursor, "workstation_id": READER},
            auth=auth,
        )
        head.append(elapsed)
    print(f"  changes page {limit:>5}   {percentiles(first)}")
    print(f"  changes at head      {percentiles(head)}")


def visit_operations(workstation: str, first_seq: int, count: int) -> Iterator[dict[str, Any]]:
    """`count` operations of whole desk visits (issue, call, serve, finish) from one workstation."""
    now = datetime.now(UTC).isoformat()
    desk, clerk = DESKS[0], PUSH_CLERK
    seq = first_seq
    while seq < first_seq + count:
        ticket_id = f"{workstation}-t{seq}"
        case_id = f"{workstation}-c{seq}"
        steps = [
            (
                "ticket.issue",
                {
                    "ticket_id": ticket_id,
                    "number": f"S{seq}",
                    "service_ids": [SERVICE],
                    "priority": 0,
                    "at": now,
                    "origin": "desk",
                },
            ),
            (
                "ticket.call",
                {
                    "ticket_id": ticket_id,
                    "desk_id": desk,
                    "clerk_id": clerk,
                    "call_id": f"{workstation}-call{seq}",
                    "called_at": now,
                    "recall": False,
                },
            ),
            (
                "ticket.serve",
                {
                    "ticket_id": ticket_id,
                    "case_id": case_id,
                    "desk_id": desk,
                    "clerk_id": clerk,
                    "at": now,
                    "service_ids": [SERVICE],
                },
            ),
            (
                "case.finish",
                {
                    "ticket_id": ticket_id,
                    "case_id": case_id,
                    "outcomes": {SERVICE: "completed"},
                    "notes": "",
                    "at": now,
                },
            ),
        ]
        for kind, args in steps:
            if seq >= first_seq + count:
                return
            yield {"op_id": str(uuid.uuid4()), "seq": seq, "kind": kind, "args": args, "created_at": now}
            seq += 1


def bench_push(http: httpx.Client, auths: dict[str, SignedRequests], size: int = 50) -> None:
    samples: list[float] = []
    duplicates: list[float] = []
    for batch in range(PUSH_BATCHES):
        workstation = push_workstation(batch)
        auth = auths[workstation]
        operations = list(visit_operations(workstation, 1, size))
        body = {"workstation_id": workstation, "office_id": BUERGERAMT_ID, "operations": operations}
        elapsed, response = timed(http, "POST", f"{API}/sync/push", json=body, auth=auth)
        statuses = {result["status"] for result in response.json()["results"]}
        assert statuses == {"applied"}, response.text[:500]
        samples.append(elapsed)
        # a lost answer's re-push (a new signature: a replayed one would be refused)
        elapsed, _response = timed(http, "POST", f"{API}/sync/push", json=body, auth=auth)
        duplicates.append(elapsed)
    print(f"  push {size} operations   {percentiles(samples)}")
    print(f"  re-push (duplicates) {percentiles(duplicates)}")


def run(name: str, db_url: str, calls: int) -> None:
    print(f"{name}:")
    central_store = seed(db_url)
    try:
        auths = register(central_store)
    finally:
        central_store.dispose()
    central = start_embedded(db_url)
    try:
        # One connection for all of them, as before signing: each request carries its own
        # workstation's signature (`auth=` per request), so no connection set-up is timed.
        with httpx.Client(base_url=central.url, timeout=60) as http:
            bench_call_next(http, auths, calls)
            bench_changes(http, auths[READER], limit=1000)
            bench_push(http, auths)
    finally:
        central.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as temp:
            run("SQLite", f"sqlite:///{Path(temp) / 'central.sqlite3'}", args.calls)
    if args.backend in ("postgresql", "both"):
        with postgres_url() as url:
            if url is not None:
                run("PostgreSQL", url, args.calls)


if __name__ == "__main__":
    main()
