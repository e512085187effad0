"""Clients pointed at a running simulator, trusting its certificates as an enrollment would."""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.captures.cloud import CloudSource
from devices.captures.terminal import TerminalSource
from devices.captures.trust import TrustAnchor

if TYPE_CHECKING:
    from devices.captures.simulator import RunningSimulator


def terminal_source(sim: RunningSimulator) -> TerminalSource:
    return TerminalSource(sim.url, TrustAnchor.from_pem(sim.state.terminal_cert_pem))


def cloud_source(sim: RunningSimulator) -> CloudSource:
    return CloudSource({sim.url: TrustAnchor.from_pem(sim.state.cloud_cert_pem)}, "org-test-0001")
