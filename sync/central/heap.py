"""The garbage-collector policy of a `tresen central serve` process, in one place.

What the process has loaded when it starts serving (FastAPI, pydantic's validators, SQLAlchemy and
its mapped models, the app and its routes) lives as long as the process, yet every full collection
scanned it again: 10 full collections of 150-210 ms each in 45 s under bench/central_load.py (500
desks, two processes; gc.callbacks), each one stalling every request of the process, which is
where the p99s of 300-600 ms came from. Frozen, it is out of the collector's sight; what the
requests leave behind is still collected as before.

Only the serving process does this: an embedded central service (the demo, the tests) lives in a
process whose heap is not its own.
"""

from __future__ import annotations

import gc


def freeze_start_up_heap() -> None:
    """Before serving: collect what start-up left behind, then keep the rest out of every collection."""
    gc.collect()
    gc.freeze()
