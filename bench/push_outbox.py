"""Pushing a long outbox after an outage: 10,000 pending operations from one desk to the central service.

The desk issued walk-in tickets while offline (each one an operation in its outbox); then the link
returns and its sync engine pushes everything, batch by batch, exactly as in production. Beside it,
in the same run and on the same database backend, the floor: the same operations read from the same
outbox, posted in the same batches to a trivial endpoint that validates them with the same protocol
model and stores each as one row with one executemany — HTTP, JSON and an insert, no business rules.

The desk signs every request, as production does (RFC 9421, `sync.signatures`): it is registered with
a key for its desk, as an enrollment leaves it, and sends no clerk session (a clerk who logged in
while the central service was away has none until the next online login). The floor stays unsigned:
the ratio includes what authentication costs.

    uv run python bench/push_outbox.py [--operations 10000] [--batch 100] [--backend sqlite|postgresql|both]

Goal (issue 9): ≤ 10 s for 10,000 operations on SQLite and PostgreSQL; the ratio to the floor is the
figure to track on this shared machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from fastapi import FastAPI
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, create_engine, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.postgres import postgres_url
from sync.central.embedded import start_embedded
from sync.central.seed import BUERGERAMT_ID, generate_day
from sync.client import CentralClient
from sync.protocol import PushRequest
from sync.serving import bind_loopback, serve_in_thread
from tests.credentials import workstation_auth_at
from tests.sync.support import CLERK, DAY, DESK, seeded_central_db
from workstation.commands import DeskContext
from workstation.counter import Counter
from workstation.db import LocalStore
from workstation.models import OutboxOperation
from workstation.sync_engine import SyncEngine, operation_of

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sync.signatures import SignedRequests

WORKSTATION = "ws-bench"
CTX = DeskContext(WORKSTATION, BUERGERAMT_ID, DESK, CLERK)


def seed_central_url(backend_url: str | None, temp: Path) -> str:
    day = generate_day(DAY, seed=7)
    if backend_url is None:
        return seeded_central_db(temp / "central.sqlite3", day)
    from sync.central.seed import seed_central
    from sync.central.store import CentralStore

    central = CentralStore(backend_url)
    central.create_schema()
    with central.write() as session:
        seed_central(session, day)
    central.dispose()
    return backend_url


def fill_outbox(
    store_path: Path, central_url: str, auth: SignedRequests, operations: int
) -> tuple[LocalStore, str]:
    store = LocalStore(store_path)
    store.migrate()
    central = start_embedded(central_url)
    try:
        engine = SyncEngine(store, CentralClient(central.url, timeout=120.0, auth=auth), CTX)
        report = engine.sync_once()  # reference data first, as a desk has before the outage
        assert report.online, report
        assert report.error_de is None, report.error_de
        assert report.pulled > 0, report
        engine.close()
    finally:
        central.stop()
    service = next(iter(_desk_services(store)))
    counter = Counter(store, CTX)
    for _ in range(operations):
        counter.issue_walk_in([service], 0)
    return store, service


def _desk_services(store: LocalStore) -> Iterator[str]:
    from workstation.models import desk_services

    with store.session() as session:
        yield from session.scalars(select(desk_services.c.service_id).where(desk_services.c.desk_id == DESK))


def tresen_push(
    store: LocalStore, central_url: str, auth: SignedRequests, batch: int, operations: int
) -> float:
    central = start_embedded(central_url)
    try:
        client = CentralClient(central.url, timeout=120.0, auth=auth)
        engine = SyncEngine(store, client, CTX, batch_size=batch)
        started = time.perf_counter()
        report = engine.push_pending()
        elapsed = time.perf_counter() - started
        client.close()
        assert report.online, report.error_de
        assert report.error_de is None, report.error_de
        assert (report.pushed, report.rejected) == (operations, 0), report
    finally:
        central.stop()
    return elapsed


def floor_app(db_url: str) -> FastAPI:
    engine = create_engine(db_url)
    metadata = MetaData()
    rows = Table(
        "floor_operations",
        metadata,
        Column("op_id", String(36), primary_key=True),
        Column("seq", Integer),
        Column("kind", String(40)),
        Column("args", JSON),
    )
    metadata.create_all(engine)
    app = FastAPI()

    @app.post("/floor")
    def store_batch(request: PushRequest) -> dict[str, int]:
        with engine.begin() as connection:
            connection.execute(
                rows.insert(),
                [
                    {"op_id": o.op_id, "seq": o.seq, "kind": o.kind, "args": o.args}
                    for o in request.operations
                ],
            )
        return {"stored": len(request.operations)}

    return app


def floor_push(store: LocalStore, db_url: str, batch: int) -> float:
    sock = bind_loopback("127.0.0.1", 0)
    server, thread = serve_in_thread(floor_app(db_url), sock, name="push-floor", lifespan="off")
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        started = time.perf_counter()
        with httpx.Client(base_url=url, timeout=120.0) as http:
            seq = 0
            while True:
                with store.session() as session:
                    outbox = session.scalars(
                        select(OutboxOperation)
                        .where(OutboxOperation.seq > seq)
                        .order_by(OutboxOperation.seq)
                        .limit(batch)
                    ).all()
                    operations = [operation_of(row) for row in outbox]
                if not operations:
                    break
                body = PushRequest(workstation_id=WORKSTATION, office_id=BUERGERAMT_ID, operations=operations)
                http.post("/floor", json=body.model_dump(mode="json")).raise_for_status()
                seq = operations[-1].seq
        return time.perf_counter() - started
    finally:
        server.should_exit = True
        thread.join()


def run(name: str, backend_url: str | None, operations: int, batch: int) -> None:
    with tempfile.TemporaryDirectory() as temp_dir:
        temp = Path(temp_dir)
        central_url = seed_central_url(backend_url, temp)
        auth = workstation_auth_at(central_url, WORKSTATION, BUERGERAMT_ID, desk_id=DESK)
        store, _service = fill_outbox(temp / "desk.sqlite3", central_url, auth, operations)
        floor_url = f"sqlite:///{temp / 'floor.sqlite3'}" if backend_url is None else backend_url
        floor = floor_push(store, floor_url, batch)
        tresen = tresen_push(store, central_url, auth, batch, operations)
        store.dispose()
    print(
        f"{name}: {operations} operations in batches of {batch}: Tresen {tresen:.2f} s "
        f"({tresen / operations * 1000:.2f} ms each) · floor {floor:.2f} s · ratio {tresen / floor:.1f}×"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        run("SQLite", None, args.operations, args.batch)
    if args.backend in ("postgresql", "both"):
        with postgres_url() as url:
            if url is not None:
                run("PostgreSQL", url, args.operations, args.batch)


if __name__ == "__main__":
    main()
