"""Card test fixtures: the real PC/SC stack (pcscd + vsmartcard vpcd) with our emulated chip.

`installer/pcsc.sh` starts pcscd once per session. The virtual reader is one shared resource: tests
that use it are marked serial and grouped (`xdist_group("pcsc")`), and a file lock keeps separate
pytest runs on the same machine from plugging cards into it at the same time.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from devices.card.emulator.vpcd import DEFAULT_PORT, EmulatorThread, VirtualCard, exclusive_reader
from tests.services import require_service

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parents[2]
PCSC_SCRIPT = REPO / "installer" / "pcsc.sh"
# vpcd's first slot (TCP 35963) shows up as this reader; its second slot (35964) stays unused.
VIRTUAL_READER = "Virtual PCD 00 00"
CARD_WAIT_SECONDS = 5.0

pcsc = [pytest.mark.serial, pytest.mark.pcsc, pytest.mark.xdist_group("pcsc")]


def _start_pcsc_stack() -> str | None:
    """Run the (idempotent, ~25 ms) setup script; the reason when the stack cannot run, else None."""
    try:
        result = subprocess.run(
            ["bash", str(PCSC_SCRIPT)], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"pcscd cannot be started here: {error}"
    return None if result.returncode == 0 else f"pcscd cannot run here: {result.stderr.strip()}"


@pytest.fixture(scope="session")
def pcsc_stack() -> str:
    """pcscd running with the virtual reader; when it cannot run: fails under CI, else skips (with why)."""
    require_service(_start_pcsc_stack(), "pcscd")
    return VIRTUAL_READER


class VirtualReader:
    """The shared virtual reader; put one emulated card on it at a time."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._emulators: list[EmulatorThread] = []

    def insert(self, card: VirtualCard) -> EmulatorThread:
        emulator = EmulatorThread(card, port=DEFAULT_PORT)
        emulator.insert()
        self._emulators.append(emulator)
        return emulator

    def remove_all(self) -> None:
        from devices.card.transport import wait_for_card_removal

        for emulator in self._emulators:
            emulator.remove()
        self._emulators.clear()
        # The next test must start with an empty reader, not with pcscd's stale view of this card.
        assert wait_for_card_removal(self.name, CARD_WAIT_SECONDS), "virtual reader still shows a card"


@pytest.fixture
def virtual_reader(pcsc_stack: str) -> Iterator[VirtualReader]:
    with exclusive_reader(DEFAULT_PORT):
        # pcscd is shared with everyone on the machine; if it was stopped since the session began,
        # bring it back rather than fail every test after.
        problem = _start_pcsc_stack()
        assert problem is None, problem
        reader = VirtualReader(pcsc_stack)
        try:
            yield reader
        finally:
            reader.remove_all()
