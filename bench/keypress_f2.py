"""F2 → counter screen updated, with 5,000 appointments and 2,000 waiting tickets in the local store,
beside two references measured the same way in the same run.

Every figure is the time from the F2 key event until the first frame that shows its change,
headless at 160x50, taken by one function (bench/key_to_frame.py):
- Tresen: the current-ticket panel shows the newly called ticket and that ticket has left the queue.
  The local Counter runs in a thread worker exactly as in production (no central service: the local
  ordering decides);
- (a) the frame floor: a minimal Textual app whose F2 updates one panel from a thread worker;
- (b) naive Textual: the same app also removing a row from a 100-row DataTable.
Prints p50/p95 in milliseconds of each and Tresen's ratios to (a).

    uv run python bench/keypress_f2.py [--presses 40]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.apps.f2_reference import F2ReferenceApp
from bench.key_to_frame import key_to_frame_ms, percentiles
from tests.ui.support import filled_store, make_app, settle

if TYPE_CHECKING:
    from collections.abc import Callable

SIZE = (160, 50)


async def tresen_f2(presses: int, store_dir: Path) -> list[float]:
    from screens.widgets.current_ticket import CurrentTicketPanel
    from screens.widgets.queue_view import QueueView

    started = time.perf_counter()
    desk = filled_store(store_dir / "tresen.sqlite3", appointments=5000, waiting=2000)
    print(f"store filled in {time.perf_counter() - started:.1f} s")
    app = make_app(desk)

    def arm() -> Callable[[], bool]:
        before = app.screen.query_one(CurrentTicketPanel).current

        def shows_the_call() -> bool:
            called = app.screen.query_one(CurrentTicketPanel).current
            return called is not before and (
                called is None or called.ticket_id not in app.screen.query_one("#queue", QueueView).shown_keys
            )

        return shows_the_call

    async def free_the_desk() -> None:  # serving and finishing are not measured
        await settle(pilot)  # anything the press started
        await pilot.press("f5")
        await settle(pilot)
        app.pop_screen()  # the case screen F5 opened
        await settle(pilot)
        counter = app.workplace.counter  # type: ignore[union-attr]
        served = counter.current_ticket()
        assert served is not None  # F5 opened its case
        counter.finish({service.id: "completed" for service in served.services}, "")
        await settle(pilot)

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        return await key_to_frame_ms(app, pilot, key="f2", presses=presses, arm=arm, reset=free_the_desk)


async def reference_f2(presses: int, *, with_table: bool) -> list[float]:
    app = F2ReferenceApp(with_table=with_table)

    def arm() -> Callable[[], bool]:
        expected = app.called + 1
        return lambda: app.called == expected

    async def refill() -> None:
        await app.workers.wait_for_complete()
        if with_table:
            app.add_ticket()
        await pilot.pause()

    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        return await key_to_frame_ms(app, pilot, key="f2", presses=presses, arm=arm, reset=refill)


def line(name: str, samples: list[float], floor: tuple[float, float] | None = None) -> str:
    p50, p95 = percentiles(samples)
    text = f"{name:<54} n={len(samples)} p50={p50:6.1f} ms  p95={p95:6.1f} ms  max={max(samples):6.1f} ms"
    if floor is not None:
        text += f"  ({p50 / floor[0]:.1f}x / {p95 / floor[1]:.1f}x the floor)"
    return text


async def measure(presses: int, store_dir: Path) -> dict[str, list[float]]:
    return {
        "floor": await reference_f2(presses, with_table=False),
        "naive": await reference_f2(presses, with_table=True),
        "tresen": await tresen_f2(presses, store_dir),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presses", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        results: dict[str, Any] = asyncio.run(measure(args.presses, Path(temp)))
    floor = percentiles(results["floor"])
    print(line("(a) floor: panel from a thread worker", results["floor"]))
    print(line("(b) naive: (a) + remove a row of a 100-row DataTable", results["naive"], floor))
    print(line("Tresen F2 → screen updated", results["tresen"], floor))


if __name__ == "__main__":
    main()
