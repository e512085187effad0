"""A desk process for the pause test (fault 6): syncs once (taking its leases), then on "call" calls
from its lease locally, and on "push" sends its outbox and says what the central service answered.

    python -m tests.faults.lease_holder STORE CENTRAL_URL DB_URL WORKSTATION OFFICE DESK CLERK NOW

Its clock stands at NOW (the tests' seeded day): what it believes about its lease is what it was told
when it took it. Answers are single JSON lines on stdout."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from sync.client import CentralClient
from tests.credentials import workstation_auth_at
from workstation.commands import DeskContext
from workstation.counter import Counter
from workstation.db import LocalStore
from workstation.models import DeskLease, OutboxOperation
from workstation.sync_engine import SyncEngine


def say(**answer: object) -> None:
    print(json.dumps(answer), flush=True)


def main(argv: list[str]) -> int:
    store_path, central_url, db_url, workstation, office, desk, clerk, now_text = argv
    now = datetime.fromisoformat(now_text)
    ctx = DeskContext(workstation, office, desk, clerk)
    store = LocalStore(Path(store_path))
    store.migrate()
    client = CentralClient(central_url, timeout=10.0, auth=workstation_auth_at(db_url, workstation, office))
    engine = SyncEngine(store, client, ctx, clock=lambda: now)
    counter = Counter(store, ctx, remote=engine, clock=lambda: now)
    report = engine.sync_once()
    with store.session() as session:
        leased = sorted(session.scalars(select(DeskLease.ticket_id)))
    say(online=report.online, leased=leased)
    for line in sys.stdin:
        command = line.strip()
        if command == "call":
            called = counter.call_next()
            say(called=called.ticket_id if called else None)
        elif command == "push":
            pushed = engine.push_pending()
            with store.session() as session:
                calls = session.scalars(select(OutboxOperation).where(OutboxOperation.kind == "ticket.call"))
                outcome = [(str(op.status), op.last_error or "") for op in calls]
            say(rejected=pushed.rejected, shown=engine.status().rejected_operations, calls=outcome)
        elif command == "quit":
            break
    client.close()
    store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
