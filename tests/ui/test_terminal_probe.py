"""The terminal graphics probe runs beside the start-up work and is over before the terminal is
used otherwise (tresen/terminal.py)."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

import pytest

from tresen import terminal

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def recorded_probe(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, list[str]]]:
    """The probe replaced by one that waits for `release` (as textual-image waits for the terminal)."""
    release = threading.Event()
    calls: list[str] = []

    def probe() -> None:
        calls.append(threading.current_thread().name)
        assert release.wait(timeout=30)

    monkeypatch.setattr(terminal, "probe_terminal_graphics", probe)
    monkeypatch.setattr(terminal._probe, "thread", None)
    yield release, calls
    release.set()


def test_the_probe_of_a_terminal_waits_in_the_background_until_it_is_finished(
    recorded_probe: tuple[threading.Event, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    release, calls = recorded_probe
    controller, tty = os.openpty()
    with os.fdopen(tty) as stdin:
        monkeypatch.setattr("sys.stdin", stdin)
        terminal.start_graphics_probe()  # returns while the probe still waits for its answer
        terminal.start_graphics_probe()  # once only
        probe = terminal._probe.thread
        assert probe is not None
        assert probe.is_alive()
        release.set()
        terminal.finish_graphics_probe()
        assert not probe.is_alive()
    os.close(controller)
    assert calls == ["terminal-graphics-probe"]


def test_without_a_terminal_the_probe_runs_where_the_app_starts(
    recorded_probe: tuple[threading.Event, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    release, calls = recorded_probe
    release.set()
    monkeypatch.setattr("sys.stdin", None)
    terminal.start_graphics_probe()
    assert terminal._probe.thread is None
    terminal.finish_graphics_probe()
    assert calls == [threading.current_thread().name]
