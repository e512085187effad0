"""The central service as a real process (`tresen central serve`), for tests that kill it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
START_DEADLINE_SECONDS = 60.0  # generous for a loaded machine; a healthy start takes about a second


class CentralProcess:
    """One `tresen central serve` process over `db_url` on a free loopback port."""

    def __init__(self, db_url: str, *, log_path: Path | None = None) -> None:
        """`log_path`: where the process's log goes (discarded without)."""
        self.db_url = db_url
        self.log_path = log_path
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> CentralProcess:
        log = subprocess.DEVNULL if self.log_path is None else self.log_path.open("ab")
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tresen",
                "central",
                "serve",
                "--db",
                self.db_url,
                "--port",
                str(self.port),
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        if not isinstance(log, int):
            log.close()  # the child holds its own descriptor
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        while not self._answers():
            if self._process.poll() is not None:
                raise RuntimeError(f"central service exited with {self._process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError("central service did not answer in time")
            time.sleep(0.05)  # polling a starting process; the deadline bounds the wait
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush — what a crashed host does."""
        if self._process is not None and self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGKILL)
            self._process.wait()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/v1/health", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
