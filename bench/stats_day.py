"""The supervisor's figures on a central store with history: 400 visits a day over 90 days.

Fills one office with `--days` days of `--visits` tickets each (cases for the served ones, some
no-shows, transfers and parks folded into the served seconds), written as rows in bulk, then
measures, as p50/p95 in milliseconds:
- the day's figures (`day_figures_sql`, five GROUP BY queries) for a day in the middle of the history;
- the live view (`live_office`) with the last day's queue still open;
- the day's figures again without the (office_id, issued_at) index, as the reference.
Goals (issue 12): day ≤ 300 ms, live ≤ 50 ms. Runs on SQLite, and on PostgreSQL when the tests'
helper can start a throw-away server.

    uv run python bench/stats_day.py [--days 90] [--visits 400] [--repeats 15] [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.postgres import postgres_url
from sync.central import store
from sync.central.statistics_api import live_office
from sync.central.statistics_sql import day_figures_sql
from sync.clock import OFFICE_ZONE

if TYPE_CHECKING:
    from collections.abc import Callable

OFFICE = "bench-office"
SERVICES = [f"s{n}" for n in range(1, 9)]
DESKS = [f"d{n}" for n in range(1, 9)]
LAST_DAY = date(2026, 3, 2)


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"n={len(ordered)} p50={statistics.median(ordered):.1f} ms p95={p95:.1f} ms max={ordered[-1]:.1f} ms"
    )


def fill(central: store.CentralStore, days: int, visits: int) -> None:
    rng = random.Random(12)
    with central.write() as session:
        session.add(store.Office(id=OFFICE, name="Bürgeramt Bench"))
        session.flush()
        session.add_all(store.Service(id=s, office_id=OFFICE, code=s, name=f"Leistung {s}") for s in SERVICES)
        session.add_all(
            store.Desk(id=d, office_id=OFFICE, number=int(d[1:]), name=f"Platz {d[1:]}", service_ids=SERVICES)
            for d in DESKS
        )
        session.add_all(store.Clerk(id="c" + d[1:], office_id=OFFICE, name=f"Sachb. {d[1:]}") for d in DESKS)
    for offset in range(days):
        day = LAST_DAY - timedelta(days=days - 1 - offset)
        tickets: list[dict[str, Any]] = []
        links: list[dict[str, Any]] = []
        cases: list[dict[str, Any]] = []
        opening = datetime.combine(day, datetime.min.time(), OFFICE_ZONE).replace(hour=8).astimezone(UTC)
        still_open = day == LAST_DAY
        for n in range(visits):
            ticket_id = f"{day:%Y%m%d}-{n:04d}"
            issued = opening + timedelta(seconds=rng.randint(0, 9 * 3600))
            called = issued + timedelta(seconds=rng.randint(0, 2400))
            desk = rng.choice(DESKS)
            service = rng.choice(SERVICES)
            fate = rng.random()
            waiting = still_open and fate < 0.1
            state = "waiting" if waiting else "no_show" if fate < 0.15 else "finished"
            tickets.append(
                {
                    "id": ticket_id,
                    "office_id": OFFICE,
                    "number": f"A{n:03d}",
                    "issued_at": issued,
                    "state": state,
                    "called_count": 0 if waiting else 1,
                    "first_called_at": None if waiting else called,
                    "last_called_at": None if waiting else called,
                    "desk_id": None if waiting else desk,
                    "clerk_id": None if waiting else "c" + desk[1:],
                    "origin": "kiosk",
                    "service_ids": [service],
                    "priority": 0,
                    "version": 0,
                }
            )
            links.append({"ticket_id": ticket_id, "service_id": service})
            if state == "finished":
                served = rng.randint(120, 1500)
                show_up = called + timedelta(seconds=rng.randint(20, 120))
                cases.append(
                    {
                        "id": f"case-{ticket_id}",
                        "office_id": OFFICE,
                        "ticket_id": ticket_id,
                        "desk_id": desk,
                        "clerk_id": "c" + desk[1:],
                        "opened_at": show_up,
                        "serving_since": None,
                        "served_seconds": float(served),
                        "finished_at": show_up + timedelta(seconds=served + rng.choice((0, 0, 0, 600))),
                        "service_ids": [service],
                        "outcomes": {},
                        "notes": "",
                        "needs_review": False,
                    }
                )
        with central.write() as session:
            session.execute(insert(store.Ticket.__table__), tickets)  # type: ignore[arg-type]
            session.execute(insert(store.TicketService.__table__), links)  # type: ignore[arg-type]
            session.execute(insert(store.Case.__table__), cases)  # type: ignore[arg-type]


def measure(repeats: int, action: Callable[[], Any]) -> list[float]:
    action()  # warm caches and plans
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def run(name: str, db_url: str, days: int, visits: int, repeats: int) -> None:
    print(f"{name}: {days} days × {visits} visits")
    central = store.CentralStore(db_url)
    central.create_schema()
    started = time.perf_counter()
    fill(central, days, visits)
    print(f"  filled in {time.perf_counter() - started:.1f} s")
    middle = LAST_DAY - timedelta(days=days // 2)
    now = datetime.combine(LAST_DAY, datetime.min.time(), OFFICE_ZONE).replace(hour=17)

    def day() -> None:
        with central.read() as session:
            assert day_figures_sql(session, OFFICE, middle, 15).has_data

    def live() -> None:
        with central.read() as session:
            office = session.get(store.Office, OFFICE)
            assert office is not None
            live_office(session, office, now)

    try:
        if not central.is_sqlite:
            with central.write() as session:
                session.execute(text("ANALYZE"))
        print(f"  day's figures:           {percentiles(measure(repeats, day))}")
        print(f"  live view:               {percentiles(measure(repeats, live))}")
        with central.write() as session:
            session.execute(text(f"DROP INDEX {store.ISSUED_INDEX}"))
        print(f"  day's figures, no index: {percentiles(measure(repeats, day))}")
    finally:
        central.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--visits", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as temp:
            run("SQLite", f"sqlite:///{Path(temp) / 'central.sqlite3'}", args.days, args.visits, args.repeats)
    if args.backend in ("postgresql", "both"):
        with postgres_url() as url:
            if url is not None:
                run("PostgreSQL", url, args.days, args.visits, args.repeats)


if __name__ == "__main__":
    main()
