"""`tresen demo` as a clerk starts it: the real console script in a pseudo-terminal, the embedded
central service, the seeded day around the demo clock, the counter on screen; Strg+Q ends it."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EOF_ONLY = b"\x00"  # no frame holds NUL: reads until the child closes the terminal
DEADLINE_SECONDS = 90.0  # a cold start on a loaded CI machine; the test never waits longer than needed


def _read_until(fd: int, wanted: bytes, seen: bytearray, deadline: float) -> bool:
    import time

    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return wanted in seen  # the child closed the terminal
            if not chunk:
                return wanted in seen
            seen.extend(chunk)
            if wanted in seen:
                return True
    return False


@pytest.mark.serial
@pytest.mark.xdist_group("demo")
def test_the_demo_starts_at_the_counter_and_quits_with_strg_q(tmp_path: Path) -> None:
    import fcntl
    import struct
    import termios
    import time

    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "TRESEN_LANG": "de",
        "HOME": str(tmp_path),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "tresen", "demo", "--at", "10:30", "--walk-in-seconds", "3600"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=ROOT,
        env=env,
        close_fds=True,
        start_new_session=True,
    )
    os.close(terminal)
    seen = bytearray()
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        assert _read_until(controller, b"Warteschlange", seen, deadline), seen[-2000:].decode(
            errors="replace"
        )
        assert _read_until(controller, b"wartend", seen, deadline)
        os.write(controller, b"\x11")  # Strg+Q: nothing is called, so it quits without asking
        # Keep reading while it ends: a full terminal buffer would block the app's last frames.
        _read_until(controller, EOF_ONLY, seen, time.monotonic() + DEADLINE_SECONDS)
        assert child.wait(timeout=5) == 0
        assert b"Traceback" not in seen
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        os.close(controller)
