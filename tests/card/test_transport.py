"""Transport pieces that need no reader: ATR capabilities and short-length fallback."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.card.apdu import CommandAPDU
from devices.card.errors import CardError
from devices.card.transport import _as_short, atr_announces_extended_length

if TYPE_CHECKING:
    from pathlib import Path

# German ID card (nPA): TD1 → TD2 (T=1), historical bytes 80 31F8 73F741E0 829000.
NPA_ATR = bytes.fromhex("3B8A80018031F873F741E082900075")
# Same structure with card capabilities third byte 0x80: no extended Lc/Le.
NO_EXTENDED_ATR = bytes.fromhex("3B8A80018031F873F7418082900015")
# A Java card style ATR with TA1, TD1, TD2 and historical bytes that are not compact-TLV.
PROPRIETARY_ATR = bytes.fromhex("3B F8 13 00 00 81 31 FE 45 4A 43 4F 50 76 32 34 31 B7".replace(" ", ""))


def test_npa_atr_announces_extended_length() -> None:
    assert atr_announces_extended_length(NPA_ATR) is True


def test_card_capabilities_without_extended_bit() -> None:
    assert atr_announces_extended_length(NO_EXTENDED_ATR) is False


def test_proprietary_historical_bytes_say_nothing() -> None:
    assert atr_announces_extended_length(PROPRIETARY_ATR) is None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_any_atr_gives_an_answer_not_a_crash(atr: bytes) -> None:
    assert atr_announces_extended_length(atr) in (True, False, None)


def test_short_fallback_caps_le_and_keeps_the_rest() -> None:
    command = CommandAPDU(0x0C, 0xB0, 0x01, 0x02, b"\x97\x02\x00\x00", ne=65536)
    short = _as_short(command)
    assert (short.cla, short.ins, short.p1, short.p2, short.data, short.ne) == (
        0x0C, 0xB0, 0x01, 0x02, b"\x97\x02\x00\x00", 256,
    )  # fmt: skip
    assert len(short.to_bytes()) == 4 + 1 + 4 + 1


def test_short_fallback_refuses_long_data() -> None:
    with pytest.raises(CardError):
        _as_short(CommandAPDU(0x00, 0x2A, 0x00, 0x00, bytes(300)))


def test_pc_sc_service_unreachable_is_reported_not_crashed(tmp_path: Path) -> None:
    """Like a workstation whose pcscd is stopped (or a reader stack unplugged as a whole): libpcsclite
    is pointed at a socket nobody listens on. Separate process: libpcsclite reads the name once."""
    probe = (
        "from devices.card.errors import CardError\n"
        "from devices.card.transport import CardChannel, list_readers\n"
        "for attempt in (list_readers, lambda: CardChannel.connect(None, wait_seconds=1)):\n"
        "    try:\n"
        "        attempt()\n"
        "    except CardError as error:\n"
        "        print(error.reason.value, '|', error.user_message)\n"
    )
    environment = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.splitlines()
        == [
            "reader_unavailable | Der Kartenleser antwortet nicht. Bitte Verbindung prüfen.",
        ]
        * 2
    )
