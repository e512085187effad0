"""Cold start to the interactive counter screen, as a clerk starts Tresen, beside a minimal Textual app.

Each run starts a fresh Python process on `tresen run` (the configured desk and clerk, local store
only) and one on bench/apps/minimal_table.py (header, a 150-row DataTable, footer), both in the same
pseudo-terminal harness (bench/pty_harness.py), alternating so that load on the machine hits both
alike. Tresen's clock stops at the first frame after the counter screen shows the queue; the
reference's at the first frame with its table. The store is filled once beforehand (150
appointments, a filled queue), as the sync engine would have left it; the child imports no test
scaffolding. Prints both medians (min, max) in milliseconds and Tresen's ratio to the reference.

    uv run python bench/cold_start.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.pty_harness import time_to_ready  # noqa: E402

MINIMAL_APP = ROOT / "bench" / "apps" / "minimal_table.py"

# The child is the `tresen` console script itself: it imports the script's entry point as the
# generated script does (`from tresen.cli import main`; not through importlib.metadata, which scans
# every installed distribution). The only addition is the watcher that reports the ready frame,
# patched into the App when the script's own start path imports it, so that nothing is imported
# earlier than in a clerk's start (`tresen run` pauses the collector before its imports).
CHILD = """
import importlib, importlib.util, os, sys
sys.path.insert(0, {root!r})
ready_fd = int(sys.argv[-1])

def report_ready(app):
    os.write(ready_fd, b"ready")
    app.exit()

def watch(app):
    screen = app.screen
    if screen.id == "counter" and screen.query_one("#queue").row_count > 0 and not app._bench_ready:
        app._bench_ready = True
        app.call_after_refresh(report_ready, app)  # once the frame with the queue is out

def patch(module):
    mount = module.TresenApp.on_mount

    def on_mount(app):
        app._bench_ready = False
        mount(app)
        app.set_interval(0.002, lambda: watch(app))

    module.TresenApp.on_mount = on_mount

class PatchOnImport:
    def find_spec(self, name, path, target=None):
        if name != "screens.app":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            patch(module)

        spec.loader.exec_module = exec_and_patch
        return spec

sys.meta_path.insert(0, PatchOnImport())
module_name, _, function = {entry_point!r}.partition(":")
main = getattr(importlib.import_module(module_name), function)
sys.exit(main(["--config", {config!r}, "run"]))
"""


def write_config(directory: Path, store: Path, ctx: object) -> Path:
    config = directory / "tresen.toml"
    config.write_text(
        "[workstation]\n"
        f'id = "{ctx.workstation_id}"\n'  # type: ignore[attr-defined]
        f'office_id = "{ctx.office_id}"\n'  # type: ignore[attr-defined]
        f'desk_id = "{ctx.desk_id}"\n'  # type: ignore[attr-defined]
        f'clerk_id = "{ctx.clerk_id}"\n'  # type: ignore[attr-defined]
        "[store]\n"
        f'path = "{store}"\n',
        encoding="utf-8",
    )
    return config


def console_script(name: str) -> str:
    """The entry point of console script `name` ("module:function"), from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return str(project["project"]["scripts"][name])


def summary(name: str, timings: list[float]) -> str:
    return (
        f"{name}: median={statistics.median(timings):.0f} ms "
        f"min={min(timings):.0f} ms max={max(timings):.0f} ms (n={len(timings)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from tests.ui.support import filled_store

    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp)
        store = directory / "tresen.sqlite3"
        desk = filled_store(store)
        desk.store.dispose()
        config = write_config(directory, store, desk.ctx)
        child = CHILD.format(root=str(ROOT), config=str(config), entry_point=console_script("tresen"))
        tresen = [sys.executable, "-c", child]
        reference = [sys.executable, str(MINIMAL_APP)]
        tresen_ms: list[float] = []
        reference_ms: list[float] = []
        for _ in range(args.runs):
            reference_ms.append(time_to_ready(reference, directory))
            tresen_ms.append(time_to_ready(tresen, directory))
    print(summary("cold start to the counter screen", tresen_ms))
    print(summary("minimal Textual app (header, 150-row DataTable, footer)", reference_ms))
    ratio = statistics.median(tresen_ms) / statistics.median(reference_ms)
    print(f"ratio of medians: {ratio:.2f}x")


if __name__ == "__main__":
    main()
