"""Clerk actions run one at a time, strictly in key-press order, off the UI thread.

A lock taken by one thread worker per action does not keep that order (threads start in any order),
so the actions go into one FIFO that a single worker thread drains. A job never raises: it reports
its own result or failure as a message.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

Job = Callable[[], None]


class CommandQueue:
    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._unfinished = 0
        self._idle = threading.Event()
        self._idle.set()

    def submit(self, job: Job) -> None:
        """Queue `job` behind every job submitted before it (called on the UI thread)."""
        with self._lock:
            self._unfinished += 1
            self._idle.clear()
        self._jobs.put(job)

    def drain(self) -> None:
        """Run jobs in order until `stop`; the body of the one command worker thread."""
        while (job := self._jobs.get()) is not None:
            try:
                job()
            finally:
                with self._lock:
                    self._unfinished -= 1
                    if self._unfinished == 0:
                        self._idle.set()

    def stop(self) -> None:
        """Let `drain` return after the jobs already queued."""
        self._jobs.put(None)

    @property
    def idle(self) -> bool:
        """No job queued or running (tests wait for this, with a deadline)."""
        return self._idle.is_set()
