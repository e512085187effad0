"""Pulling a full office day into a fresh workstation: 2,000 appointments with citizen data.

A new desk (an empty store) runs its first sync round through the real, signed sync engine against
the embedded central service: every page of the changes feed is fetched, validated and applied to the
local replica in its transaction. Beside it, in the same run and against the same server, the floor:
the same signed client fetching the same pages one after the other (HTTP, JSON, the protocol's
validation), applying nothing.

    uv run python bench/pull_day.py [--appointments 2500] [--backend sqlite|postgresql|both]

Goal (issue 9): ≤ 2 s for the day; the ratio to the floor is the figure to track on this machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.postgres import postgres_url
from sync.central.embedded import start_embedded
from sync.central.seed import BUERGERAMT_ID, generate_day
from sync.client import CentralClient
from tests.credentials import workstation_auth_at
from tests.sync.support import CLERK, DAY, DESK, seeded_central, seeded_central_db
from workstation.commands import DeskContext
from workstation.db import LocalStore
from workstation.sync_engine import SyncEngine

WORKSTATION = "ws-bench-pull"
CTX = DeskContext(WORKSTATION, BUERGERAMT_ID, DESK, CLERK)


def run(name: str, backend_url: str | None, appointments: int) -> None:
    day = generate_day(DAY, seed=7, appointments=appointments, waiting=40)
    with tempfile.TemporaryDirectory() as temp_dir:
        temp = Path(temp_dir)
        if backend_url is None:
            central_url = seeded_central_db(temp / "central.sqlite3", day)
        else:
            central_url = seeded_central(backend_url, day)
        auth = workstation_auth_at(central_url, WORKSTATION, BUERGERAMT_ID, desk_id=DESK)
        central = start_embedded(central_url)
        client = CentralClient(central.url, timeout=120.0, auth=auth)
        try:
            started = time.perf_counter()
            cursor, pages, rows = 0, 0, 0
            while True:  # the floor: the same pages, fetched and validated, not applied
                page = client.changes(BUERGERAMT_ID, WORKSTATION, cursor, limit=500)
                pages += 1
                rows += len(page.appointments) + len(page.tickets)
                cursor = page.cursor
                if not page.has_more:
                    break
            floor = time.perf_counter() - started
            store = LocalStore(temp / "desk.sqlite3")
            store.migrate()
            engine = SyncEngine(store, client, CTX)
            started = time.perf_counter()
            report = engine.sync_once()
            tresen = time.perf_counter() - started
            assert report.online, report.error_de
            assert report.error_de is None, report.error_de
            store.dispose()
        finally:
            client.close()
            central.stop()
    ours = sum(1 for a in day.appointments if a.office_id == BUERGERAMT_ID)
    print(
        f"{name}: first sync of an office day ({ours} appointments of this office, {report.pulled} rows "
        f"applied): Tresen {tresen:.2f} s · floor (fetch + validate, {pages} pages, {rows} appointments "
        f"and tickets) {floor:.2f} s · ratio {tresen / floor:.1f}×"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=2500)  # both offices: 2,000 of this one
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        run("SQLite", None, args.appointments)
    if args.backend in ("postgresql", "both"):
        with postgres_url() as url:
            if url is not None:
                run("PostgreSQL", url, args.appointments)


if __name__ == "__main__":
    main()
