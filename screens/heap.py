"""The garbage-collector policy of the clerk's app, in one place.

Why (docs/benchmarks.md, bench/cold_start.py and bench/keypress_f2.py): Textual, SQLAlchemy and
the day's rows stay alive for the whole process, so every full collection scans them again.
- At start the collector rests until the day is on screen (at most `START_PAUSE_SECONDS`): ~100 ms
  less to the first counter frame (fab28fd). `tresen run` pauses it from its first line
  (`pause_from_process_start`): the imports before the App (Textual, SQLAlchemy, the models)
  otherwise ran ~200 young and ~20 middle collections and a full one over a heap that lives as long
  as the process, ~30-90 ms of the cold start (stop 20, gc.callbacks in bench/cold_start.py's child).
- Afterwards the start-up heap is frozen out of the collector's sight and full collections run on a
  timer, skipped while the clerk is typing: a full collection on a key press cost 100 ms and more
  of the F2 tail (2,000 waiting, 5,000 appointments).
Everything is restored when the app ends, so tests and embedding processes get their collector back.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

FULL_INTERVAL_SECONDS = 20.0  # full garbage collections run on this timer …
QUIET_SECONDS = 2.0  # … when no key was pressed for this long
NO_AUTOMATIC_FULL = 1_000_000  # gen-2 threshold that the allocator never reaches
START_PAUSE_SECONDS = 5.0  # the collector rests while the first screen fills, at most this long

Schedule = Callable[[float, Callable[[], None]], object]  # App.set_timer / App.set_interval


class _EarlyPause:
    """Whether the collector was enabled before `pause_from_process_start` stopped it."""

    was_enabled: bool | None = None


_early = _EarlyPause()


def pause_from_process_start() -> None:
    """Stop the collector until the App's policy takes over (`HeapPolicy.starting`), which resumes it
    as it was. For the entry point, before its imports; a process that never starts the App calls
    `resume_after_start_pause`."""
    if _early.was_enabled is None:
        _early.was_enabled = gc.isenabled()
    gc.disable()


def resume_after_start_pause() -> None:
    if _early.was_enabled is not None:
        if _early.was_enabled:
            gc.enable()
        _early.was_enabled = None


class HeapPolicy:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._saved_threshold: tuple[int, int, int] | None = None
        self._frozen = False
        self._was_enabled = True
        self._last_key_at = 0.0

    def starting(self, set_timer: Schedule, start_pause: float = START_PAUSE_SECONDS) -> None:
        """The app mounts: what is loaded by now lives as long as the process, out of the collector's
        sight; no collections while the first screen fills (its widgets and rows all stay)."""
        gc.freeze()
        self._frozen = True
        self._was_enabled = gc.isenabled() if _early.was_enabled is None else _early.was_enabled
        _early.was_enabled = None  # the pause is this policy's from here
        gc.disable()
        set_timer(start_pause, self._resume)

    def day_on_screen(self, set_interval: Schedule) -> None:
        """The day's rows are on screen: freeze the heap, keep full collections off key presses."""
        if self._saved_threshold is not None:
            return
        gc.collect()
        gc.freeze()
        self._saved_threshold = gc.get_threshold()
        young, middle, _old = self._saved_threshold
        gc.set_threshold(young, middle, NO_AUTOMATIC_FULL)
        set_interval(FULL_INTERVAL_SECONDS, self.collect_if_quiet)
        self._resume()

    def key_pressed(self) -> None:
        self._last_key_at = self._clock()

    def collect_if_quiet(self) -> None:
        if self._clock() - self._last_key_at > QUIET_SECONDS:
            gc.collect()

    def restore(self) -> None:
        """Leave the process as we found it."""
        if self._saved_threshold is not None:
            gc.set_threshold(*self._saved_threshold)
            self._saved_threshold = None
        if self._frozen:
            gc.unfreeze()
            self._frozen = False
        self._resume()

    def _resume(self) -> None:
        if self._was_enabled:
            gc.enable()
