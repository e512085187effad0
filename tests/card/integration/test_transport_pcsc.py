"""The transport against the real PC/SC stack: pyscard → pcscd → vpcd → our emulated chip."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest

from devices.card.apdu import CommandAPDU
from devices.card.emulator.card import EmulatedCard
from devices.card.errors import CardError, CardErrorReason
from devices.card.transport import CardChannel, ReaderEvent, ReaderWatcher, list_readers

if TYPE_CHECKING:
    from devices.card.emulator.vpcd import EmulatorThread
    from tests.card.conftest import VirtualReader

pytestmark = [pytest.mark.serial, pytest.mark.pcsc, pytest.mark.xdist_group("pcsc")]

EF_CARD_ACCESS = 0x011C
CONTENT = bytes(range(256)) * 40  # 10 KiB, readable in the clear from the master file


def select_card_access() -> CommandAPDU:
    return CommandAPDU(0x00, 0xA4, 0x02, 0x0C, EF_CARD_ACCESS.to_bytes(2, "big"))


def test_virtual_reader_is_listed(virtual_reader: VirtualReader) -> None:
    assert virtual_reader.name in list_readers()


def test_extended_read_round_trip_with_figures(virtual_reader: VirtualReader) -> None:
    virtual_reader.insert(EmulatedCard(files={EF_CARD_ACCESS: CONTENT}))
    with CardChannel.connect(virtual_reader.name, wait_seconds=5) as channel:
        assert channel.extended_length  # the emulator's ATR announces extended Lc/Le
        assert channel.transmit(select_card_access()).ok
        response = channel.transmit(CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=65536))
        figures = channel.figures
    assert response.sw == 0x6282  # end of file reached before Ne bytes
    assert response.data == CONTENT
    assert figures.apdus == 2
    assert figures.bytes_received == len(CONTENT) + 4  # two status words
    assert figures.bytes_sent == len(select_card_access().to_bytes()) + 7  # extended case 2: 4 + 3
    assert 0 < figures.card_seconds < 2


def test_short_blocks_when_card_refuses_extended_length(virtual_reader: VirtualReader) -> None:
    card = EmulatedCard(files={EF_CARD_ACCESS: CONTENT})
    card.faults.refuse_extended = True
    virtual_reader.insert(card)
    with CardChannel.connect(virtual_reader.name, wait_seconds=5) as channel:
        channel.transmit(select_card_access())
        response = channel.transmit(CommandAPDU(0x00, 0xB0, 0x00, 0x10, ne=65536))
        assert not channel.extended_length
        assert channel.max_response_length == 256
        follow_up = channel.transmit(CommandAPDU(0x00, 0xB0, 0x01, 0x10, ne=65536))
        apdus = channel.figures.apdus
    assert response.ok
    assert response.data == CONTENT[0x10:0x110]
    assert follow_up.data == CONTENT[0x110:0x210]
    assert apdus == 4  # select, refused extended read, its short retry, the follow-up sent short at once


def test_no_card_on_the_reader(virtual_reader: VirtualReader) -> None:
    with pytest.raises(CardError) as caught:
        CardChannel.connect(virtual_reader.name, wait_seconds=0.3)
    assert caught.value.reason is CardErrorReason.NO_CARD
    assert "Dokument auflegen" in caught.value.user_message


@pytest.mark.usefixtures("virtual_reader")
def test_unknown_reader_name() -> None:
    with pytest.raises(CardError) as caught:
        CardChannel.connect("Kein solcher Leser 00 00")
    assert caught.value.reason is CardErrorReason.NO_READER


def test_card_removed_between_apdus(virtual_reader: VirtualReader) -> None:
    card = EmulatedCard(files={EF_CARD_ACCESS: CONTENT})
    card.faults.vanish_after_apdus = 1
    virtual_reader.insert(card)
    with CardChannel.connect(virtual_reader.name, wait_seconds=5) as channel:
        assert channel.transmit(select_card_access()).ok
        with pytest.raises(CardError) as caught:
            channel.transmit(CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=256))
    assert caught.value.reason is CardErrorReason.CARD_REMOVED


def test_watcher_reports_card_insert_and_removal(virtual_reader: VirtualReader) -> None:
    events: list[ReaderEvent] = []
    inserted, removed = threading.Event(), threading.Event()

    def on_event(event: ReaderEvent) -> None:
        events.append(event)
        if event.reader == virtual_reader.name and event.kind == "card_inserted":
            inserted.set()
        if event.reader == virtual_reader.name and event.kind == "card_removed":
            removed.set()

    with ReaderWatcher(on_event):
        emulator: EmulatorThread = virtual_reader.insert(EmulatedCard(files={}))
        assert inserted.wait(5)
        emulator.remove()
        assert removed.wait(5)
    inserted_event = next(e for e in events if e.kind == "card_inserted")
    assert inserted_event.atr == EmulatedCard(files={}).atr


def test_get_response_chain_is_followed(virtual_reader: VirtualReader) -> None:
    card = EmulatedCard(files={EF_CARD_ACCESS: CONTENT})
    card.faults.response_chunk = 0  # T=0 style: every answer with data comes as 61XX, then GET RESPONSE
    virtual_reader.insert(card)
    with CardChannel.connect(virtual_reader.name, wait_seconds=5) as channel:
        channel.transmit(select_card_access())
        response = channel.transmit(CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=65536))
        apdus = channel.figures.apdus
    assert response.sw == 0x6282
    assert response.data == CONTENT
    assert apdus == 2 + len(CONTENT) // 256  # select, the read, one GET RESPONSE per 256 bytes


def test_wrong_le_is_resent_with_the_length_the_card_names(virtual_reader: VirtualReader) -> None:
    card = EmulatedCard(files={EF_CARD_ACCESS: CONTENT[:40]})
    card.faults.demand_exact_le = True
    card.faults.refuse_extended = True
    virtual_reader.insert(card)
    with CardChannel.connect(virtual_reader.name, wait_seconds=5) as channel:
        channel.transmit(select_card_access())
        response = channel.transmit(CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=256))
        apdus = channel.figures.apdus
    assert response.ok
    assert response.data == CONTENT[:40]
    assert apdus == 3  # select, the read answered 6C28, the read again with Le 28
