"""A workstation process for the kill tests: issues walk-in tickets into a local store, one committed
command after another, and prints each ticket's id only after its commit returned.

    python -m tests.faults.walk_in_writer STORE_PATH OFFICE DESK CLERK WORKSTATION SERVICE COUNT

What it printed is what the clerk was told had happened: after a SIGKILL each of those must be in
the store (and, later, at the central service exactly once)."""

from __future__ import annotations

import sys
from pathlib import Path

from workstation.commands import DeskContext
from workstation.counter import Counter
from workstation.db import LocalStore


def main(argv: list[str]) -> int:
    store_path, office, desk, clerk, workstation, service, count = argv
    store = LocalStore(Path(store_path))
    counter = Counter(store, DeskContext(workstation, office, desk, clerk))
    print("ready", flush=True)
    for _ in range(int(count)):
        issued = counter.issue_walk_in([service], 0)
        print(issued.ticket_id, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
