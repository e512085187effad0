"""`tresen terminal-sim` as a real process (prints code= lines, serves, stops on Ctrl+C) and
`tresen captures fetch` against it."""

from __future__ import annotations

import argparse
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from devices.captures import cli
from devices.captures.checks import check_bundle
from devices.captures.terminal import TerminalSource
from devices.captures.trust import TrustAnchor

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parents[3]
START_DEADLINE_SECONDS = 60.0


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tresen")
    cli.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


class SimProcess:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devices.captures.cli", "terminal-sim", "--port", "0"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        assert self.process.stdout is not None
        stdout = self.process.stdout

        def pump() -> None:
            for line in stdout:
                self.lines.put(line.rstrip("\n"))

        threading.Thread(target=pump, daemon=True).start()
        self.values: dict[str, list[str]] = {}
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        while "url" not in self.values:  # the last start line
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.process.poll() is not None:
                raise AssertionError("terminal-sim did not print its start lines")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            key, _, value = line.partition("=")
            self.values.setdefault(key, []).append(value)

    def first(self, key: str) -> str:
        return self.values[key][0]


@pytest.fixture(scope="module")
def sim_process() -> Iterator[SimProcess]:
    sim = SimProcess()
    yield sim
    if sim.process.poll() is None:
        sim.process.kill()
        sim.process.wait(timeout=10)


def test_terminal_sim_prints_ready_codes_and_serves_them(sim_process: SimProcess) -> None:
    codes = sim_process.values["code"]
    assert len(codes) == 2
    url = sim_process.first("url")
    assert url.startswith("http://127.0.0.1:")  # loopback unless told otherwise
    certificate = Path(sim_process.first("terminal-certificate"))
    assert certificate.stat().st_mode & 0o777 == 0o600
    source = TerminalSource(url, TrustAnchor.from_pem(certificate.read_bytes()))
    for code in codes:
        assert check_bundle(source.fetch(code)).passed


def test_captures_fetch_prints_the_checks_and_writes_0600_files(
    sim_process: SimProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse(
        "captures", "fetch", "--terminal", sim_process.first("url"), "--code", sim_process.first("code"),
        "--certificate", sim_process.first("terminal-certificate"), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert cli.run_fetch(args) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "✓ Bildgröße: 1244 × 1600 Pixel" in out
    assert "Alle Prüfungen bestanden." in out
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["finger-2.png", "finger-7.png", "photo.jpg", "signature.png"]
    assert all((tmp_path / "out" / name).stat().st_mode & 0o777 == 0o600 for name in files)


def test_captures_fetch_reports_a_damaged_bundle_in_german(
    sim_process: SimProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse(
        "captures", "fetch", "--terminal", sim_process.first("url"),
        "--code", sim_process.first("damaged-hash_mismatch"),
        "--certificate", sim_process.first("terminal-certificate"),
    )  # fmt: skip
    assert cli.run_fetch(args) == cli.EXIT_CAPTURE_ERROR
    err = capsys.readouterr().err
    assert "Prüfsumme falsch" in err
    assert "(hash_mismatch)" in err


def test_captures_fetch_of_a_poor_capture_exits_with_failed_checks(
    sim_process: SimProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse(
        "captures", "fetch", "--json", "--terminal", sim_process.first("url"),
        "--code", sim_process.first("damaged-poor_quality"),
        "--certificate", sim_process.first("terminal-certificate"),
    )  # fmt: skip
    assert cli.run_fetch(args) == cli.EXIT_CHECKS_FAILED
    out = capsys.readouterr().out
    assert '"passed": false' in out
    assert sim_process.first("damaged-poor_quality") not in out  # the code is never echoed


def test_captures_fetch_of_a_cloud_code(sim_process: SimProcess, capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(
        "captures", "fetch", "--cloud-code", sim_process.first("cloud-code"),
        "--certificate", sim_process.first("cloud-certificate"), "--organisation-key", "org-1",
    )  # fmt: skip
    assert cli.run_fetch(args) == cli.EXIT_OK
    assert "Quelle: cloud" in capsys.readouterr().out


@pytest.mark.skipif(os.name != "posix", reason="signal delivery is POSIX")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_terminal_sim_stops_on_a_signal_and_removes_its_certificates(signum: signal.Signals) -> None:
    sim = SimProcess()
    folder = Path(sim.first("terminal-certificate")).parent
    sim.process.send_signal(signum)
    assert sim.process.wait(timeout=30) == 0
    assert not folder.exists()
