"""The garbage-collector policy of a `tresen central serve` process, in one place.

A full collection stalls every request of the process, and under bench/central_load.py (500 desks,
two processes; gc.callbacks in the processes) the p99s of 300-600 ms came largely from them:
- what the process has loaded when it starts serving (FastAPI, pydantic's validators, SQLAlchemy and
  its mapped models, the app) lives as long as the process, yet every full collection scanned it
  again: 10 full collections of 150-210 ms each in 45 s. Frozen, it is out of the collector's sight;
- what stays is still dear: with 250 long polls waiting per process, a full collection over their
  ~70,000 objects took 55-70 ms of CPU each time, also three times in a row with nothing to free,
  and the automatic ones ran every 6-8 s. So full collections run on a timer, once a minute; the
  young and middle generations, where a request's garbage dies, are collected as before.

Only the serving process does this: an embedded central service (the demo, the tests) lives in a
process whose heap is not its own.
"""

from __future__ import annotations

import gc
import threading

FULL_COLLECTION_SECONDS = 60.0
NO_AUTOMATIC_FULL = 1_000_000  # gen-2 threshold that the allocator never reaches


class ServingHeap:
    """The policy, from `start` (before serving) to `stop` (after), which leaves the process as found."""

    def __init__(self, full_collection_seconds: float = FULL_COLLECTION_SECONDS) -> None:
        self._interval = full_collection_seconds
        self._stopped = threading.Event()
        self._saved_threshold: tuple[int, int, int] | None = None
        self._timer: threading.Thread | None = None
        self.full_collections = 0

    def start(self) -> ServingHeap:
        gc.collect()
        gc.freeze()
        self._saved_threshold = gc.get_threshold()
        young, middle, _old = self._saved_threshold
        gc.set_threshold(young, middle, NO_AUTOMATIC_FULL)
        self._timer = threading.Thread(target=self._collect_on_timer, name="full-gc", daemon=True)
        self._timer.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._timer is not None:
            self._timer.join()
        if self._saved_threshold is not None:
            gc.set_threshold(*self._saved_threshold)
            self._saved_threshold = None
        gc.unfreeze()

    def _collect_on_timer(self) -> None:
        while not self._stopped.wait(self._interval):
            gc.collect()
            self.full_collections += 1
