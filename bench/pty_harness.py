"""Start a program in a 160x50 pseudo-terminal and time it until it reports its first ready frame.

Shared by every cold-start figure so that Tresen and its reference app are started the same way:
a fresh Python process whose stdin/stdout/stderr are a pseudo-terminal, so Textual uses its real
terminal driver and writes real frames; the pseudo-terminal answers the device-attributes query like
a plain xterm. The program gets the number of an extra pipe as its last argument and writes to it
once its first ready frame is out (then it quits). The clock runs from spawning the process until
that write.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

TERMINAL_SIZE = (50, 160)  # rows, columns
CELL_PIXELS = (20, 10)  # height, width: reported by the terminal size ioctl as xterm does
# The pseudo-terminal answers like a plain xterm: primary device attributes without sixel graphics
# (textual-image's probe then also asks for kitty graphics, which xterm ignores: that wait is real).
DEVICE_ATTRIBUTES_QUERY = b"\x1b[c"
DEVICE_ATTRIBUTES_ANSWER = b"\x1b[?64;1;2;6;9;15;18;21;22c"
TIMEOUT_SECONDS = 60.0


def time_to_ready(argv: list[str], home: Path) -> float:
    """Milliseconds from spawning `argv + [ready_fd]` until the program writes to `ready_fd`."""
    controller, terminal = pty.openpty()
    rows, columns = TERMINAL_SIZE
    pixels = (rows * CELL_PIXELS[0], columns * CELL_PIXELS[1])
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, pixels[1], pixels[0]))
    ready_read, ready_write = os.pipe()
    env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")}
    env.update(HOME=str(home), TERM="xterm-256color", COLUMNS="", LINES="")
    t0 = time.perf_counter()
    child = subprocess.Popen(
        [*argv, str(ready_write)],
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
        raise SystemExit(f"{argv[-1]!r} never reported ready (exit {child.returncode}): {tail}")
    return elapsed
