"""Key event → first frame that shows its effect, for any Textual app under `run_test` (headless).

One measuring function for Tresen's F2 and its references, so that all of them are timed the same
way: the key goes in as the terminal driver would post it (`App.simulate_key`), and the clock stops
at the first frame handed to the (headless) terminal in which `shows_change()` holds. The condition
is checked as each frame goes out, so nothing polls meanwhile (a polling loop would compete with the
app's worker thread for the interpreter). Hooking `App._display` is the one private seam: Textual
has no public "frame written" event, and the bench only observes through it.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App
    from textual.pilot import Pilot

Arm = Callable[[], Callable[[], bool]]  # before a press: returns "does this frame show the change?"


async def key_to_frame_ms(
    app: App[Any],
    pilot: Pilot[Any],  # noqa: ARG001 - the caller's pilot: the measurement runs inside its app
    *,
    key: str,
    presses: int,
    arm: Arm,
    reset: Callable[[], Awaitable[None]],
    timeout: float = 10.0,
) -> list[float]:
    """Milliseconds per press of `key` until the first frame that shows its change.

    `arm()` runs before each press (outside the clock) and returns the condition for that press;
    `reset()` runs after each (outside the clock), e.g. to let workers finish and free the desk."""
    display = app._display
    frame_out = asyncio.Event()
    press: dict[str, Any] = {}

    def timed_display(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if renderable is not None and "t0" in press and "frame" not in press and press["shows"]():
            press["frame"] = time.perf_counter()
            frame_out.set()

    app._display = timed_display  # type: ignore[method-assign]
    samples: list[float] = []
    try:
        for _ in range(presses):
            press.clear()
            frame_out.clear()
            press["shows"] = arm()
            press["t0"] = time.perf_counter()
            app.simulate_key(key)
            await asyncio.wait_for(frame_out.wait(), timeout=timeout)
            samples.append((press["frame"] - press["t0"]) * 1000)
            await reset()
    finally:
        app._display = display  # type: ignore[method-assign]
    return samples


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 (nearest rank) in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95
