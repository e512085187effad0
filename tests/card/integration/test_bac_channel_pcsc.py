"""BAC and 3DES secure messaging through the real PC/SC stack, reading data-group-shaped files in
blocks: the access and transport layers together, independent of the LDS parsers."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from devices.card.access import MrzKey
from devices.card.bac import BacCard
from devices.card.emulator.card import CardFaults, EmulatedCard
from devices.card.errors import CardError, CardErrorReason
from devices.card.service import ReadProgress, _FileReader, _open_secure_channel
from devices.card.transport import CardChannel

if TYPE_CHECKING:
    from tests.card.conftest import VirtualReader

pytestmark = [pytest.mark.serial, pytest.mark.pcsc, pytest.mark.xdist_group("pcsc")]

KEY = MrzKey("L898902C3", "740812", "120415")  # the ICAO 9303 specimen passport
DG2 = 0x0102


def face_file(size: int) -> bytes:
    return b"\x75\x82" + size.to_bytes(2, "big") + os.urandom(size)


def bac_passport(content: bytes, faults: CardFaults | None = None) -> EmulatedCard:
    return EmulatedCard(files={DG2: content}, bac=BacCard(KEY), faults=faults or CardFaults())


@pytest.mark.parametrize(("block", "refuse_extended"), [(None, False), (223, False), (None, True)])
def test_bac_secured_block_reads(
    virtual_reader: VirtualReader, block: int | None, refuse_extended: bool
) -> None:
    content = face_file(20_000)
    virtual_reader.insert(bac_passport(content, CardFaults(refuse_extended=refuse_extended)))
    steps: list[ReadProgress] = []
    with CardChannel.connect(virtual_reader.name, wait_seconds=5) as channel:
        protocol, secure = _open_secure_channel(channel, KEY, steps.append)
        size = (block or 65536) if channel.extended_length else 223
        read = _FileReader(secure, size, steps.append).read(DG2, "DG2", required=True)
        apdus = channel.figures.apdus
    assert protocol == "BAC"
    assert read == content
    dg2_steps = [s for s in steps if s.step == "DG2"]
    expected_blocks = 1 if size > len(content) else -(-len(content) // size)
    assert len(dg2_steps) == expected_blocks
    assert apdus >= expected_blocks + 3  # CardAccess probe, SELECT, GET CHALLENGE, EXTERNAL AUTH.


def test_bac_with_wrong_mrz(virtual_reader: VirtualReader) -> None:
    virtual_reader.insert(bac_passport(face_file(100)))
    wrong = MrzKey("L898902C3", "740812", "130415")
    channel = CardChannel.connect(virtual_reader.name, wait_seconds=5)
    with channel, pytest.raises(CardError) as caught:
        _open_secure_channel(channel, wrong, lambda _progress: None)
    assert caught.value.reason is CardErrorReason.ACCESS_DENIED
