"""The serving process's collector policy: the start-up heap frozen, full collections on a timer
only, and the process left as found (sync/central/heap.py)."""

from __future__ import annotations

import gc
import threading
from typing import TYPE_CHECKING

import pytest

from sync.central.heap import NO_AUTOMATIC_FULL, ServingHeap

if TYPE_CHECKING:
    from collections.abc import Iterator

DEADLINE_SECONDS = 10.0  # the most the timer may take to run; it runs in milliseconds


@pytest.fixture
def collector_as_found() -> Iterator[tuple[int, int, int]]:
    threshold = gc.get_threshold()
    yield threshold
    gc.set_threshold(*threshold)
    gc.unfreeze()


def test_serving_freezes_the_start_up_heap_and_stops_automatic_full_collections(
    collector_as_found: tuple[int, int, int],
) -> None:
    young, middle, _old = collector_as_found
    heap = ServingHeap(full_collection_seconds=3600).start()
    try:
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (young, middle, NO_AUTOMATIC_FULL)
    finally:
        heap.stop()
    assert gc.get_threshold() == collector_as_found
    assert gc.get_freeze_count() == 0


def test_full_collections_run_on_the_timer(collector_as_found: tuple[int, int, int]) -> None:
    del collector_as_found  # restored after the test
    collected = threading.Event()

    def on_collection(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            collected.set()

    heap = ServingHeap(full_collection_seconds=0.01).start()
    gc.callbacks.append(on_collection)
    try:
        assert collected.wait(DEADLINE_SECONDS), "no full collection came from the timer"
    finally:
        gc.callbacks.remove(on_collection)
        heap.stop()
    assert heap.full_collections >= 1
