"""The emulated chip without PC/SC: file system, access rules, fault switches, and the service's
block reader over real secure messaging (both ends from `devices.card.secure_messaging`)."""

from __future__ import annotations

import os

import pytest

from devices.card.apdu import CommandAPDU, ResponseAPDU
from devices.card.emulator.card import EMRTD_AID, EmulatedCard
from devices.card.emulator.vpcd import CardVanished
from devices.card.errors import CardError, CardErrorReason
from devices.card.secure_messaging import CardSecureMessaging, SecureMessaging
from devices.card.service import ReadProgress, _FileReader

EF_CARD_ACCESS, EF_COM, DG2 = 0x011C, 0x011E, 0x0102


def tlv_file(tag: int, size: int) -> bytes:
    """A file of `size` value bytes under a 2-byte tag with a long-form length, like DG2."""
    body = os.urandom(size)
    length = len(body).to_bytes(3, "big")
    return tag.to_bytes(1, "big") + b"\x83" + length + body


class KeyedAccess:
    """Stands in for PACE on the card: one agreed command opens a session with known keys."""

    def __init__(self, k_enc: bytes, k_mac: bytes) -> None:
        self._keys = (k_enc, k_mac)
        self.session: CardSecureMessaging | None = None

    def handle(self, command: CommandAPDU) -> ResponseAPDU | None:  # noqa: ARG002  (answers any command)
        self.session = CardSecureMessaging("AES", *self._keys)
        return ResponseAPDU(b"", 0x90, 0x00)


def send(card: EmulatedCard, command: CommandAPDU) -> ResponseAPDU:
    return ResponseAPDU.from_bytes(card.process_apdu(command.to_bytes()))


def secured_card(files: dict[int, bytes]) -> tuple[EmulatedCard, SecureMessaging]:
    k_enc, k_mac = os.urandom(16), os.urandom(16)
    card = EmulatedCard(files=files, pace={2: KeyedAccess(k_enc, k_mac)})
    mse = CommandAPDU(0x00, 0x22, 0xC1, 0xA4, bytes.fromhex("800A04007F00070202040202830102"))
    assert send(card, mse).ok
    return card, SecureMessaging("AES", k_enc, k_mac)


def test_card_access_is_readable_in_the_clear_by_short_file_id() -> None:
    card = EmulatedCard(files={EF_CARD_ACCESS: b"\x31\x00"})
    response = send(card, CommandAPDU(0x00, 0xB0, 0x9C, 0x00, ne=256))
    assert response.sw == 0x6282
    assert response.data == b"\x31\x00"


def test_application_files_need_secure_messaging() -> None:
    card = EmulatedCard(files={EF_COM: b"\x60\x00"})
    assert send(card, CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)).ok
    assert send(card, CommandAPDU(0x00, 0xB0, 0x9E, 0x00, ne=256)).sw == 0x6982


def test_missing_application_and_files() -> None:
    card = EmulatedCard(files={}, has_emrtd_application=False)
    assert send(card, CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)).sw == 0x6A82
    assert send(card, CommandAPDU(0x00, 0xB0, 0x9C, 0x00, ne=256)).sw == 0x6A82


def test_unknown_pace_password_reference() -> None:
    card = EmulatedCard(files={}, pace={2: KeyedAccess(bytes(16), bytes(16))})
    mse_mrz = CommandAPDU(0x00, 0x22, 0xC1, 0xA4, bytes.fromhex("800A04007F00070202040202830101"))
    assert send(card, mse_mrz).sw == 0x6A88


def test_refuse_extended_and_vanish_switches() -> None:
    card = EmulatedCard(files={EF_CARD_ACCESS: bytes(300)})
    card.faults.refuse_extended = True
    assert send(card, CommandAPDU(0x00, 0xB0, 0x9C, 0x00, ne=65536)).sw == 0x6700
    assert send(card, CommandAPDU(0x00, 0xB0, 0x9C, 0x00, ne=256)).ok
    card.faults.vanish_after_apdus = card.apdu_count
    with pytest.raises(CardVanished):
        card.process_apdu(CommandAPDU(0x00, 0xB0, 0x9C, 0x00, ne=256).to_bytes())


@pytest.mark.parametrize("block", [223, 65536])
def test_block_reader_over_secure_messaging(block: int) -> None:
    content = tlv_file(0x75, 40_000)  # beyond 32 KiB: the tail needs the odd READ BINARY (B1)
    card, sm = secured_card({DG2: content})
    transmit = sm.transmit_through(lambda command: send(card, command))
    assert transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)).ok
    steps: list[ReadProgress] = []
    read = _FileReader(transmit, block, steps.append).read(DG2, "DG2", required=True)
    assert read == content
    assert steps[-1] == ReadProgress("DG2", len(content), len(content))
    if block == 223:
        assert len(steps) == -(-len(content) // 223)


def test_plain_command_ends_the_session() -> None:
    card, sm = secured_card({EF_COM: b"\x60\x00"})
    send(card, CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID))
    answer = sm.unwrap(send(card, sm.wrap(CommandAPDU(0x00, 0xB0, 0x9E, 0x00, ne=256))))
    assert answer.sw == 0x6988  # "SM data objects incorrect", sent in the clear: no session any more


def test_corrupted_mac_is_detected_by_the_reader() -> None:
    card, sm = secured_card({EF_COM: b"\x60\x02\x5f\x01"})
    card.faults.corrupt_mac_from_apdu = 1
    transmit = sm.transmit_through(lambda command: send(card, command))
    with pytest.raises(CardError) as caught:
        transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID))
    assert caught.value.reason is CardErrorReason.SECURE_MESSAGING


def test_response_in_chunks_with_get_response() -> None:
    content = bytes(range(256)) + bytes(44)
    card = EmulatedCard(files={EF_CARD_ACCESS: content})
    card.faults.response_chunk = 100
    first = send(card, CommandAPDU(0x00, 0xB0, 0x9C, 0x00, ne=65536))
    assert (first.data, first.sw) == (content[:100], 0x61C8)  # 200 more bytes
    second = send(card, CommandAPDU(0x00, 0xC0, 0x00, 0x00, ne=150))
    assert (second.data, second.sw) == (content[100:250], 0x6132)
    last = send(card, CommandAPDU(0x00, 0xC0, 0x00, 0x00, ne=0x32))
    assert (last.data, last.sw) == (content[250:], 0x6282)  # the read's own status word at the end
    assert send(card, CommandAPDU(0x00, 0xC0, 0x00, 0x00, ne=256)).sw == 0x6985  # nothing left


def test_get_response_keeps_the_secure_messaging_session() -> None:
    card, sm = secured_card({EF_COM: tlv_file(0x60, 600)})
    card.faults.response_chunk = 0  # T=0 style: the first answer is only 61XX
    select = sm.wrap(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID))
    assert send(card, select).sw1 == 0x61
    assert sm.unwrap(send(card, CommandAPDU(0x00, 0xC0, 0x00, 0x00, ne=256))).ok
    read = sm.wrap(CommandAPDU(0x00, 0xB0, 0x9E, 0x00, ne=65536))
    pieces, answer = b"", send(card, read)
    while answer.sw1 == 0x61:
        pieces += answer.data
        answer = send(card, CommandAPDU(0x00, 0xC0, 0x00, 0x00, ne=answer.sw2 or 256))
    plain = sm.unwrap(ResponseAPDU(pieces + answer.data, answer.sw1, answer.sw2))
    assert plain.data == card.files[EF_COM]


def test_wrong_le_gets_6cxx_with_the_exact_length() -> None:
    card = EmulatedCard(files={EF_CARD_ACCESS: bytes(range(18))})
    card.faults.demand_exact_le = True
    assert send(card, CommandAPDU(0x00, 0xB0, 0x9C, 0x00, ne=256)).sw == 0x6C12
    exact = send(card, CommandAPDU(0x00, 0xB0, 0x9C, 0x00, ne=0x12))
    assert exact.ok
    assert exact.data == bytes(range(18))
