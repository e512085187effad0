"""Capture test fixtures: the real simulator (uvicorn on 127.0.0.1, a free port, in a thread) and
the real clients pointed at it, trusting the simulator's certificates as an enrollment would."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from devices.captures.simulator import RunningSimulator, start_simulator
from tests.devices.captures.support import cloud_source, terminal_source

if TYPE_CHECKING:
    from collections.abc import Iterator

    from devices.captures.cloud import CloudSource
    from devices.captures.terminal import TerminalSource


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningSimulator]:
    """Shared by a module's read-only tests; tests that acknowledge or delete use `fresh_simulator`."""
    with start_simulator() as running:
        yield running


@pytest.fixture
def fresh_simulator() -> Iterator[RunningSimulator]:
    with start_simulator(seed=11) as running:
        yield running


@pytest.fixture
def terminal(simulator: RunningSimulator) -> Iterator[TerminalSource]:
    source = terminal_source(simulator)
    yield source
    source.close()


@pytest.fixture
def cloud(simulator: RunningSimulator) -> Iterator[CloudSource]:
    source = cloud_source(simulator)
    yield source
    source.close()
