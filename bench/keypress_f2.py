"""F2 → counter screen updated, with 5,000 appointments and 2,000 waiting tickets in the local store.

Measures, per key press, the time from the F2 key event until the app has rendered the frame in
which the current-ticket panel shows the newly called ticket and that ticket has left the queue
table (checked as each frame goes out: nothing polls meanwhile). The local Counter runs in a thread
worker exactly as in production (no central service: the local ordering decides). Prints p50/p95 in
milliseconds.

    uv run python bench/keypress_f2.py [--presses 40]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.ui.support import filled_store, make_app, settle

if TYPE_CHECKING:
    from rich.console import RenderableType
    from textual.screen import Screen


async def measure(presses: int, store_dir: Path) -> list[float]:
    from screens.widgets.current_ticket import CurrentTicketPanel

    started = time.perf_counter()
    desk = filled_store(store_dir / "tresen.sqlite3", appointments=5000, waiting=2000)
    print(f"store filled in {time.perf_counter() - started:.1f} s")
    app = make_app(desk)
    press: dict[str, Any] = {}  # the current press: when the key went in, when its frame went out
    frame_out = asyncio.Event()
    display = app._display

    def shows_the_call() -> bool:
        panel = app.screen.query_one(CurrentTicketPanel)
        called = panel.current
        return called is not press["before"] and (
            called is None or called.ticket_id not in app.screen.query_one("#queue").shown_keys
        )

    def timed_display(screen: Screen[object], renderable: RenderableType | None) -> None:
        display(screen, renderable)
        # The first frame handed to the (headless) terminal that shows the called ticket in the panel
        # and no longer in the queue; checked as frames go out, so the bench never polls (a polling
        # loop would compete with the worker thread for the interpreter).
        if renderable is not None and "t0" in press and "frame" not in press and shows_the_call():
            press["frame"] = time.perf_counter()
            frame_out.set()

    app._display = timed_display
    samples: list[float] = []
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        for _ in range(presses):
            press.clear()
            frame_out.clear()
            press["before"] = app.screen.query_one(CurrentTicketPanel).current
            press["t0"] = time.perf_counter()
            app.simulate_key("f2")  # the key event, as the terminal driver would post it
            await asyncio.wait_for(frame_out.wait(), timeout=10)
            samples.append((press["frame"] - press["t0"]) * 1000)
            await settle(pilot)  # anything the press started, outside the measurement
            await pilot.press("f5")  # serving and finishing are not measured: free the desk
            await settle(pilot)
            app.pop_screen()  # the case screen F5 opened
            await settle(pilot)
            counter = app.workplace.counter
            served = counter.current_ticket()
            counter.finish({service.id: "completed" for service in served.services}, "")
            await settle(pilot)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presses", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        samples = asyncio.run(measure(args.presses, Path(temp)))
    samples.sort()
    p50 = statistics.median(samples)
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    print(f"F2 → screen updated: n={len(samples)} p50={p50:.1f} ms p95={p95:.1f} ms max={samples[-1]:.1f} ms")


if __name__ == "__main__":
    main()
