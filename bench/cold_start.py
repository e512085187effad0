"""Cold start to the interactive counter screen, as a clerk starts Tresen.

Each run starts a fresh Python process on `tresen run` (the configured desk and clerk, local store
only) in a pseudo-terminal of 160x50, so Textual uses its real terminal driver and writes real frames;
the pseudo-terminal answers the device-attributes query like a plain xterm. The clock runs from
spawning the process until the first frame after the counter screen shows the queue (the app then
reports on an extra pipe and quits). The store is filled once beforehand (150 appointments, a filled
queue), as the sync engine would have left it; the child imports no test scaffolding. Prints the
median, min and max in milliseconds.

    uv run python bench/cold_start.py [--runs 5]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TERMINAL_SIZE = (50, 160)  # rows, columns
CELL_PIXELS = (20, 10)  # height, width: reported by the terminal size ioctl as xterm does
# The pseudo-terminal answers like a plain xterm: primary device attributes without sixel graphics
# (textual-image's probe then also asks for kitty graphics, which xterm ignores: that wait is real).
DEVICE_ATTRIBUTES_QUERY = b"\x1b[c"
DEVICE_ATTRIBUTES_ANSWER = b"\x1b[?64;1;2;6;9;15;18;21;22c"
TIMEOUT_SECONDS = 60.0

# The child is `tresen run` itself; the only addition is the watcher that reports the ready frame.
CHILD = """
import os, sys
sys.path.insert(0, {root!r})
from workstation.app import TresenApp

ready_fd = int(sys.argv[1])
mount = TresenApp.on_mount

def report_ready(app):
    os.write(ready_fd, b"ready")
    app.exit()

def watch(app):
    screen = app.screen
    if screen.id == "counter" and screen.query_one("#queue").row_count > 0 and not app._bench_ready:
        app._bench_ready = True
        app.call_after_refresh(report_ready, app)  # once the frame with the queue is out

def on_mount(app):
    app._bench_ready = False
    mount(app)
    app.set_interval(0.002, lambda: watch(app))

TresenApp.on_mount = on_mount
from workstation.cli import main
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


def one_start(code: str, home: Path) -> float:
    """Milliseconds from spawning `tresen run` until its counter screen is ready."""
    controller, terminal = pty.openpty()
    rows, columns = TERMINAL_SIZE
    pixels = (rows * CELL_PIXELS[0], columns * CELL_PIXELS[1])
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, pixels[1], pixels[0]))
    ready_read, ready_write = os.pipe()
    env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")}
    env.update(HOME=str(home), TERM="xterm-256color", COLUMNS="", LINES="")
    t0 = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(ready_write)],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        pass_fds=(ready_write,),
        env=env,
        start_new_session=True,
    )
    os.close(terminal)
    os.close(ready_write)
    elapsed: float | None = None
    output = bytearray()
    deadline = t0 + TIMEOUT_SECONDS
    open_fds = [controller, ready_read]
    while open_fds and time.perf_counter() < deadline:
        readable, _, _ = select.select(open_fds, [], [], 0.5)
        for fd in readable:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the terminal closed with the child
                data = b""
            if not data:
                open_fds.remove(fd)
            elif fd == ready_read and elapsed is None:
                elapsed = (time.perf_counter() - t0) * 1000
            elif fd == controller:
                output += data  # drained, or the child would block on a full terminal
                if DEVICE_ATTRIBUTES_QUERY in data:
                    os.write(controller, DEVICE_ATTRIBUTES_ANSWER)
    child.wait(timeout=TIMEOUT_SECONDS)
    os.close(controller)
    os.close(ready_read)
    if elapsed is None:
        tail = output[-2000:].decode("utf-8", "replace")
        raise SystemExit(f"the counter screen never became ready (exit {child.returncode}): {tail}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.ui.support import filled_store

    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp)
        store = directory / "tresen.sqlite3"
        desk = filled_store(store)
        desk.store.dispose()  # type: ignore[attr-defined]
        config = write_config(directory, store, desk.ctx)
        code = CHILD.format(root=str(ROOT), config=str(config))
        timings = [one_start(code, directory) for _ in range(args.runs)]
    print(
        f"cold start to the counter screen: median={statistics.median(timings):.0f} ms "
        f"min={min(timings):.0f} ms max={max(timings):.0f} ms (n={len(timings)})"
    )


if __name__ == "__main__":
    main()
