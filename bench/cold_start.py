"""Cold start to the interactive counter screen: a fresh Python process imports the app, opens the
local store (150 appointments, a filled queue) and runs headless until the counter screen shows the
queue. Prints the wall-clock time in milliseconds (median of a few runs).

    uv run python bench/cold_start.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from workstation.app import TresenApp, Workplace

def main():
    from tests.ui.support import NOW, reopen_desk, make_counter
    desk = reopen_desk(Path({store!r}))
    app = TresenApp(workplace=Workplace(make_counter(desk), None, "Schalter 1"), now=lambda: NOW)

    def ready():
        screen = app.screen
        if screen.id == "counter" and screen.query_one("#queue").row_count > 0:
            print("ready", flush=True)
            app.exit()

    app.call_later(lambda: app.set_interval(0.002, ready))
    app.run(headless=True)

main()
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.ui.support import filled_store

    with tempfile.TemporaryDirectory() as temp:
        store = Path(temp) / "tresen.sqlite3"
        filled_store(store).store.dispose()  # type: ignore[attr-defined]
        code = CHILD.format(root=str(ROOT), store=str(store))
        timings: list[float] = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            elapsed = (time.perf_counter() - t0) * 1000
            if "ready" not in out.stdout:
                raise SystemExit(f"the counter screen never became ready: {out.stderr[-2000:]}")
            timings.append(elapsed)
    print(
        f"cold start to the counter screen: median={statistics.median(timings):.0f} ms "
        f"min={min(timings):.0f} ms max={max(timings):.0f} ms (n={len(timings)})"
    )


if __name__ == "__main__":
    main()
