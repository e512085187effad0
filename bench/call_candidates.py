"""F2's candidates query (`workstation.queries.call_candidates`) with its statement built once,
beside the same query built afresh on every call (as it was before stop 21), in one run.

The store is the UI tests' filled desk (a busy morning's queue); both variants run on one session,
alternating, so that load on the machine hits both alike. Prints the medians in milliseconds and
their ratio.

    uv run python bench/call_candidates.py [--calls 400]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.ui.support import NOW, filled_store
from workstation import queries
from workstation.commands import office_rules


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        desk = filled_store(Path(temp) / "tresen.sqlite3")
        ctx = desk.ctx
        with desk.store.session() as session:
            rules = office_rules(session, ctx.office_id)
            served = queries.desk_service_ids(session, ctx.desk_id)
            parameters = {
                "office_id": ctx.office_id,
                "desk_id": ctx.desk_id,
                "served": sorted(served),
                "now": NOW,
                "early_limit": NOW + timedelta(minutes=rules.early_window_minutes),
                "recall_limit": NOW - timedelta(minutes=rules.recall_block_minutes),
                "limit": queries.CALL_PRESELECTION,
            }

            def built_once() -> object:
                return queries.call_candidates(session, ctx.office_id, ctx.desk_id, served, NOW, rules)

            def built_each_call() -> object:
                statement = queries.call_candidates_statement()
                rows = session.connection().execute(statement, parameters).all()
                return queries.waiting_entries_by_id(session, {row[0] for row in rows})

            assert built_once() == built_each_call()  # the same answer, or the comparison means nothing
            timings: dict[str, list[float]] = {"built once": [], "built on every call": []}
            for _ in range(args.calls):
                for name, query in (("built once", built_once), ("built on every call", built_each_call)):
                    start = time.perf_counter()
                    query()
                    timings[name].append((time.perf_counter() - start) * 1000)
        desk.store.dispose()
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"call_candidates, statement {name}: median={median:.3f} ms (n={len(values)})")
    ratio = statistics.median(timings["built once"]) / statistics.median(timings["built on every call"])
    print(f"ratio of medians: {ratio:.2f}x")


if __name__ == "__main__":
    main()
