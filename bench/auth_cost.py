"""The cost of authentication per request on the central service: signing, verifying, and the round trips
they are part of, beside unauthenticated and token-authenticated references in the same run.

The central service has no switch to turn authentication off (nor should it), so the cost is split
instead of subtracted. Seeds 5,000 appointments and 2,000 waiting tickets (as bench/central_call_next.py),
registers seven desk workstations and a pushing one with a logged-in clerk each (the session header a
desk sends with every request once a clerk has logged in), starts the embedded uvicorn server and,
interleaved request by request, measures in milliseconds (p50 / p95):

in this process, on requests built exactly as the client sends them:
- signing alone: `sync.signatures.sign_request` (RFC 9421, ECDSA P-256, Content-Digest of the body);
- `verify_request` alone, the public key already in memory (parse, digest, ECDSA verification);
- the central service's whole check: `Authenticator.authenticate` on the same database (key lookup,
  verification, clerk session lookup, nonce ledger, and the thread-pool hop it makes), and beside it
  the same check of a bearer token (one lookup, the same hop);

over HTTP against the embedded server, from request sent to answer parsed:
- `GET /health`, public: no credential at all (the unauthenticated floor: HTTP, one database read);
- `GET /offices/{id}` with a bearer token, and the same request signed;
- call-next, signed; a push of one operation (a walk-in), signed.

Prints each row and the share of the signed round trips that authentication (signing + the
central check, p50s added) takes, and the ratios to the references.

Runs on SQLite by default; `--backend postgresql|both` adds a throw-away PostgreSQL (the tests' helper),
where the central check's two lookups go to the server.

    uv run python bench/auth_cost.py [--requests 300] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import text
from starlette.requests import Request

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.key_to_frame import percentiles
from bench.postgres import postgres_url
from sync.central.auth import Authenticator
from sync.central.credentials import TokenKind
from sync.central.embedded import start_embedded
from sync.central.seed import BUERGERAMT_ID, generate_day, seed_central
from sync.central.store import CentralStore
from sync.signatures import ALGORITHM, load_public_key, sign_request, verify_request
from tests.credentials import clerk_auth, token

if TYPE_CHECKING:
    from http_message_signatures import HTTPMessageSigner
    from starlette.types import Message

    from sync.signatures import SignedRequests

API = "/api/v1"
DESKS = [f"{BUERGERAMT_ID}-d{n}" for n in range(1, 8)]  # desk 8 serves pickups only
CLERKS = [f"{BUERGERAMT_ID}-c{n}" for n in range(1, 9)]
SERVICE = f"{BUERGERAMT_ID}-an"
PUSHER = "ws-bench-push"
TOKEN_CHECK = "central check, bearer token (GET /offices)"
WARM_UP = 10  # the first requests warm connections and caches


@dataclass
class Desk:
    desk_id: str
    workstation_id: str
    clerk_id: str
    auth: SignedRequests
    http: httpx.Client


@dataclass
class Samples:
    rows: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, milliseconds: float) -> None:
        self.rows.setdefault(name, []).append(milliseconds)


def seed(db_url: str) -> CentralStore:
    central = CentralStore(db_url)
    central.create_schema()
    now = datetime.now(UTC)
    day = generate_day(now.date(), seed=1, appointments=5000, waiting=2000, now=now)
    with central.write() as session:
        seed_central(session, day)
    if not central.is_sqlite:
        with central.write() as session:  # planner statistics, as autovacuum gathers soon after a bulk load
            session.execute(text("ANALYZE"))
    return central


def signed_client(base_url: str, auth: SignedRequests) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=60, auth=auth)


def round_trip(http: httpx.Client, request: httpx.Request) -> tuple[float, httpx.Response]:
    """Send, read and parse, as a client does; the client's auth (if any) signs inside the timing."""
    started = time.perf_counter()
    response = http.send(request)
    response.raise_for_status()
    response.json()
    return (time.perf_counter() - started) * 1000, response


def walk_in(seq: int) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    args = {
        "ticket_id": f"{PUSHER}-t{seq}",
        "number": f"S{seq}",
        "service_ids": [SERVICE],
        "priority": 0,
        "at": now,
        "origin": "desk",
    }
    operation = {
        "op_id": str(uuid.uuid4()),
        "seq": seq,
        "kind": "ticket.issue",
        "args": args,
        "created_at": now,
    }
    return {"workstation_id": PUSHER, "office_id": BUERGERAMT_ID, "operations": [operation]}


def as_received(request: httpx.Request) -> Request:
    """The Starlette request the central service would see for `request` (uvicorn's scope)."""
    body = request.content

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": request.method,
        "scheme": request.url.scheme,
        "path": request.url.path,
        "raw_path": request.url.raw_path.partition(b"?")[0],
        "query_string": request.url.query,
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in request.headers.raw],
        "server": (request.url.host, request.url.port),
        "client": ("127.0.0.1", 50000),
    }
    return Request(scope, receive)


async def in_process(
    samples: Samples,
    name: str,
    request: httpx.Request,
    auth: SignedRequests,
    signer: HTTPMessageSigner,
    authenticator: Authenticator,
) -> None:
    """Sign `request` (built, not sent), then check it as the central service would."""
    session = auth.session() if auth.session else None
    started = time.perf_counter()
    sign_request(request, auth.key, auth.key_id, session, signer)
    samples.add(f"sign, {name} request", (time.perf_counter() - started) * 1000)
    public_key = load_public_key(auth.key.public_key_pem())
    started = time.perf_counter()
    verify_request(
        request.method, str(request.url), request.headers.multi_items(), request.content, lambda _: public_key
    )
    samples.add(f"verify_request alone, {name} request", (time.perf_counter() - started) * 1000)
    received = as_received(request)
    started = time.perf_counter()
    principal = await authenticator.authenticate(received)
    samples.add(f"central check, {name} request", (time.perf_counter() - started) * 1000)
    assert principal.workstation_id == auth.key_id, principal


async def measure(url: str, central: CentralStore, requests: int) -> Samples:
    from http_message_signatures import HTTPMessageSigner

    desks = []
    for desk_id, clerk_id in zip(DESKS, CLERKS, strict=False):
        workstation = f"ws-{desk_id}"
        auth = clerk_auth(central, workstation, BUERGERAMT_ID, clerk_id, desk_id=desk_id)
        desks.append(Desk(desk_id, workstation, clerk_id, auth, signed_client(url, auth)))
    pusher_auth = clerk_auth(central, PUSHER, BUERGERAMT_ID, CLERKS[-1])
    pusher = signed_client(url, pusher_auth)
    bearer = {"Authorization": f"Bearer {token(central, TokenKind.ADMIN)}"}
    admin = httpx.Client(base_url=url, timeout=60, headers=bearer)
    public = httpx.Client(base_url=url, timeout=60)
    signer = HTTPMessageSigner(signature_algorithm=ALGORITHM)
    authenticator = Authenticator(central)  # its own nonce ledger: the server never sees these requests
    samples = Samples()
    office = f"{API}/offices/{BUERGERAMT_ID}"
    try:
        for n in range(requests + WARM_UP):
            desk = desks[n % len(desks)]
            body = {"workstation_id": desk.workstation_id, "clerk_id": desk.clerk_id, "call_id": f"call-{n}"}
            call_next = f"{API}/desks/{desk.desk_id}/call-next"
            timings: list[tuple[str, float]] = []
            elapsed, _ = round_trip(public, public.build_request("GET", f"{API}/health"))
            timings.append(("GET /health, public (no credential)", elapsed))
            elapsed, _ = round_trip(admin, admin.build_request("GET", office))
            timings.append(("GET /offices/{id}, bearer token", elapsed))
            elapsed, _ = round_trip(desk.http, desk.http.build_request("GET", office))
            timings.append(("GET /offices/{id}, signed", elapsed))
            elapsed, answer = round_trip(desk.http, desk.http.build_request("POST", call_next, json=body))
            assert answer.json()["ticket"] is not None, "queue ran empty"
            timings.append(("call-next, signed", elapsed))
            push = pusher.build_request("POST", f"{API}/sync/push", json=walk_in(n + 1))
            elapsed, answer = round_trip(pusher, push)
            assert [r["status"] for r in answer.json()["results"]] == ["applied"], answer.text[:300]
            timings.append(("push 1 operation, signed", elapsed))
            if n < WARM_UP:
                continue
            for name, milliseconds in timings:
                samples.add(name, milliseconds)
            # The same requests once more, built but not sent: signed and checked in this process.
            probe = dict(body, call_id=f"probe-{n}")
            checks = (
                ("GET /offices", desk.http.build_request("GET", office), desk.auth),
                ("call-next", desk.http.build_request("POST", call_next, json=probe), desk.auth),
                ("push", pusher.build_request("POST", f"{API}/sync/push", json=walk_in(n + 1)), pusher_auth),
            )
            for name, request, auth in checks:
                await in_process(samples, name, request, auth, signer, authenticator)
            received = as_received(admin.build_request("GET", office))
            started = time.perf_counter()
            principal = await authenticator.authenticate(received)
            samples.add(TOKEN_CHECK, (time.perf_counter() - started) * 1000)
            assert principal.is_admin, principal
    finally:
        for client in (*(d.http for d in desks), pusher, admin, public):
            client.close()
    return samples


def line(name: str, samples: list[float], reference: tuple[str, float] | None = None) -> str:
    p50, p95 = percentiles(samples)
    text = f"  {name:<44} n={len(samples)} p50={p50:6.2f} ms  p95={p95:6.2f} ms"
    if reference is not None:
        text += f"  ({p50 / reference[1]:.2f}x {reference[0]})"
    return text


def report(samples: Samples) -> None:
    rows = samples.rows
    p50 = {name: percentiles(values)[0] for name, values in rows.items()}
    health = ("GET /health", p50["GET /health, public (no credential)"])
    token_office = ("token GET /offices", p50["GET /offices/{id}, bearer token"])
    print("in this process (no HTTP), per request:")
    for request in ("GET /offices", "call-next", "push"):
        for step in ("sign", "verify_request alone", "central check"):
            print(line(f"{step}, {request} request", rows[f"{step}, {request} request"]))
    print(line(TOKEN_CHECK, rows[TOKEN_CHECK]))
    print("round trips against the embedded server:")
    print(line("GET /health, public (no credential)", rows["GET /health, public (no credential)"]))
    print(line("GET /offices/{id}, bearer token", rows["GET /offices/{id}, bearer token"], health))
    print(line("GET /offices/{id}, signed", rows["GET /offices/{id}, signed"], token_office))
    print(line("call-next, signed", rows["call-next, signed"], health))
    print(line("push 1 operation, signed", rows["push 1 operation, signed"], health))
    print("authentication's share of the signed round trip (p50 of signing + p50 of the central check):")
    for trip, request in (
        ("GET /offices/{id}, signed", "GET /offices"),
        ("call-next, signed", "call-next"),
        ("push 1 operation, signed", "push"),
    ):
        cost = p50[f"sign, {request} request"] + p50[f"central check, {request} request"]
        print(f"  {trip:<44} {cost:5.2f} of {p50[trip]:6.2f} ms = {cost / p50[trip]:5.1%}")
    extra = p50["GET /offices/{id}, signed"] - p50["GET /offices/{id}, bearer token"]
    print(f"  signed minus bearer token, same GET:        {extra:+5.2f} ms")


def run(name: str, db_url: str, requests: int) -> None:
    started = time.perf_counter()
    central = seed(db_url)
    print(f"{name}: seeded 5000 appointments, 2000 waiting in {time.perf_counter() - started:.1f} s")
    server = start_embedded(db_url)
    try:
        samples = asyncio.run(measure(server.url, central, requests))
    finally:
        server.stop()
        central.dispose()
    report(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="measured requests of each kind")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as temp:
            run("SQLite", f"sqlite:///{Path(temp) / 'central.sqlite3'}", args.requests)
    if args.backend in ("postgresql", "both"):
        with postgres_url() as url:
            if url is not None:
                run("PostgreSQL", url, args.requests)


if __name__ == "__main__":
    main()
