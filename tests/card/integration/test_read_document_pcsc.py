"""Full document reads through pyscard → pcscd → vpcd → the emulated chip (PACE/BAC, SM, LDS, PA)."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import pytest

from devices.card import lds
from devices.card.access import CanKey, MrzKey
from devices.card.emulator.card import CardFaults, EmulatedCard, card_for_document
from devices.card.emulator.personalization import TestDocument, make_test_document
from devices.card.emulator.process import EmulatorProcess
from devices.card.errors import CardError, CardErrorReason
from devices.card.service import DocumentRead, ReadProgress, read_document
from devices.card.transport import wait_for_card_removal
from devices.card.trust import TrustStore

if TYPE_CHECKING:
    from tests.card.conftest import VirtualReader

pytestmark = [pytest.mark.serial, pytest.mark.pcsc, pytest.mark.xdist_group("pcsc")]

WAIT = 5.0
CHIP_FILES = (lds.EF_COM, lds.DG1, lds.DG2, lds.EF_SOD)


@pytest.fixture(scope="module")
def id_card() -> TestDocument:
    return make_test_document("td1")


@pytest.fixture(scope="module")
def passport() -> TestDocument:
    return make_test_document("td3")


def verdict(read: DocumentRead) -> str:
    value = read.verification.verdict
    return str(getattr(value, "name", value))


def assert_read_exactly(read: DocumentRead, document: TestDocument) -> None:
    for file_id in CHIP_FILES:
        assert read.files[file_id] == document.files[file_id], f"file {file_id:04X} differs"
    assert read.mrz.document_number == document.mrz_key.document_number
    assert read.mrz.birth_date.strftime("%y%m%d") == document.mrz_key.birth_date
    assert read.face is not None
    assert read.face.mime in ("image/jpeg", "image/jp2")


def test_id_card_pace_can_extended_length(virtual_reader: VirtualReader, id_card: TestDocument) -> None:
    virtual_reader.insert(card_for_document(id_card))
    steps: list[ReadProgress] = []
    started = time.perf_counter()
    read = read_document(
        virtual_reader.name,
        CanKey(id_card.can),
        steps.append,
        trust=id_card.trust_store(),
        wait_for_card=WAIT,
    )
    elapsed = time.perf_counter() - started
    assert read.access_protocol == "PACE"
    assert verdict(read) == "VERIFIED"
    assert_read_exactly(read, id_card)
    assert [s.step for s in steps if s.done == (s.total or 1)] == ["PACE", "COM", "DG1", "DG2", "SOD", "PA"]
    dg2_blocks = [s for s in steps if s.step == "DG2"]
    assert dg2_blocks[-1].done == dg2_blocks[-1].total == len(id_card.files[lds.DG2])
    # Extended length: each file comes in one READ BINARY.
    assert len(dg2_blocks) == 1
    figures = read.figures
    assert figures.bytes_received > len(id_card.files[lds.DG2])
    assert 0 < figures.card_seconds < figures.wall_seconds
    assert figures.host_seconds == pytest.approx(figures.wall_seconds - figures.card_seconds)
    # The card was read right after it went on the reader: waiting for pcscd to notice it is apart.
    assert figures.wait_seconds > 0
    assert figures.wall_seconds + figures.wait_seconds <= elapsed


def test_chip_in_its_own_process(virtual_reader: VirtualReader) -> None:
    """The benchmark's setup: the chip in another process, the document made there too."""
    with EmulatorProcess({"kind": "td1", "face_bytes": 3000, "seed": 5}) as chip:
        chip.insert()
        try:
            read = read_document(
                virtual_reader.name,
                CanKey(chip.printed.can),
                trust=TrustStore.from_certificates([chip.printed.csca_der]),
                wait_for_card=WAIT,
            )
        finally:
            chip.remove()
    assert verdict(read) == "VERIFIED"
    assert read.mrz.document_number == chip.printed.mrz_key.document_number
    assert read.figures.apdus == 11  # EF.CardAccess, MSE, 4 GA, SELECT, COM, DG1, DG2, SOD


def test_short_blocks_of_223_bytes(virtual_reader: VirtualReader, id_card: TestDocument) -> None:
    virtual_reader.insert(card_for_document(id_card))
    steps: list[ReadProgress] = []
    read = read_document(
        virtual_reader.name, CanKey(id_card.can), steps.append, trust=id_card.trust_store(),
        block_size=223, wait_for_card=WAIT,
    )  # fmt: skip
    assert verdict(read) == "VERIFIED"
    assert_read_exactly(read, id_card)
    dg2_progress = [s.done for s in steps if s.step == "DG2"]
    dg2_size = len(id_card.files[lds.DG2])
    assert len(dg2_progress) == math.ceil(dg2_size / 223)
    assert dg2_progress == sorted(dg2_progress)
    assert dg2_progress[-1] == dg2_size
    assert read.figures.apdus > len(dg2_progress)


def test_fallback_to_short_blocks_when_extended_is_refused(
    virtual_reader: VirtualReader, id_card: TestDocument
) -> None:
    virtual_reader.insert(card_for_document(id_card, faults=CardFaults(refuse_extended=True)))
    steps: list[ReadProgress] = []
    read = read_document(
        virtual_reader.name,
        CanKey(id_card.can),
        steps.append,
        trust=id_card.trust_store(),
        wait_for_card=WAIT,
    )
    assert verdict(read) == "VERIFIED"
    assert_read_exactly(read, id_card)
    assert len([s for s in steps if s.step == "DG2"]) == math.ceil(len(id_card.files[lds.DG2]) / 223)


def test_t0_style_chip_with_get_response_and_exact_le(
    virtual_reader: VirtualReader, id_card: TestDocument
) -> None:
    """A chip that hands out every answer by GET RESPONSE, wants the exact Le and refuses extended
    length: the read still arrives intact and verified."""
    faults = CardFaults(response_chunk=0, demand_exact_le=True, refuse_extended=True)
    virtual_reader.insert(card_for_document(id_card, faults=faults))
    read = read_document(
        virtual_reader.name, CanKey(id_card.can), trust=id_card.trust_store(), wait_for_card=WAIT
    )
    assert verdict(read) == "VERIFIED"
    assert_read_exactly(read, id_card)
    # Every secured 223-byte block needed a GET RESPONSE after its 61XX.
    assert read.figures.apdus >= 2 * math.ceil(len(id_card.files[lds.DG2]) / 223)


@pytest.fixture(scope="module")
def large_face_card() -> TestDocument:
    return make_test_document("td1", face_bytes=70_000, seed=3)


@pytest.mark.parametrize("response_chunk", [None, 0])
def test_face_beyond_64_kib(
    virtual_reader: VirtualReader, large_face_card: TestDocument, response_chunk: int | None
) -> None:
    """A DG2 larger than one extended answer: the secured block must still fit PC/SC's buffer and
    vpcd's frame, the tail comes by the odd READ BINARY (offset > 32 KiB), also in T=0 pieces."""
    faults = CardFaults(response_chunk=response_chunk)
    virtual_reader.insert(card_for_document(large_face_card, faults=faults))
    steps: list[ReadProgress] = []
    read = read_document(
        virtual_reader.name, CanKey(large_face_card.can), steps.append,
        trust=large_face_card.trust_store(), wait_for_card=WAIT,
    )  # fmt: skip
    assert verdict(read) == "VERIFIED"
    assert_read_exactly(read, large_face_card)
    assert len([s for s in steps if s.step == "DG2"]) == 2  # two extended blocks


@pytest.mark.parametrize("parameter_id", [12, 15, 16])
def test_pace_on_other_curves(
    virtual_reader: VirtualReader, id_card: TestDocument, parameter_id: int
) -> None:
    virtual_reader.insert(card_for_document(id_card, pace_parameter_id=parameter_id))
    read = read_document(
        virtual_reader.name, CanKey(id_card.can), trust=id_card.trust_store(), wait_for_card=WAIT
    )
    assert read.access_protocol == "PACE"
    assert verdict(read) == "VERIFIED"


def test_passport_pace_with_mrz(virtual_reader: VirtualReader, passport: TestDocument) -> None:
    virtual_reader.insert(card_for_document(passport, pace_secrets=("mrz",), bac=False))
    read = read_document(
        virtual_reader.name, passport.mrz_key, trust=passport.trust_store(), wait_for_card=WAIT
    )
    assert read.access_protocol == "PACE"
    assert read.mrz.format == "TD3"
    assert verdict(read) == "VERIFIED"
    assert_read_exactly(read, passport)


def test_passport_bac_when_chip_has_no_pace(virtual_reader: VirtualReader, passport: TestDocument) -> None:
    virtual_reader.insert(card_for_document(passport, pace_parameter_id=None))
    read = read_document(
        virtual_reader.name, passport.mrz_key, trust=passport.trust_store(), wait_for_card=WAIT
    )
    assert read.access_protocol == "BAC"
    assert verdict(read) == "VERIFIED"
    assert_read_exactly(read, passport)


def test_bac_with_short_blocks(virtual_reader: VirtualReader, passport: TestDocument) -> None:
    virtual_reader.insert(card_for_document(passport, pace_parameter_id=None))
    read = read_document(
        virtual_reader.name,
        passport.mrz_key,
        trust=passport.trust_store(),
        block_size=223,
        wait_for_card=WAIT,
    )
    assert verdict(read) == "VERIFIED"
    assert_read_exactly(read, passport)


def test_wrong_can_is_refused(virtual_reader: VirtualReader, id_card: TestDocument) -> None:
    virtual_reader.insert(card_for_document(id_card))
    wrong = f"{(int(id_card.can) + 1) % 1_000_000:06d}"
    with pytest.raises(CardError) as caught:
        read_document(virtual_reader.name, CanKey(wrong), wait_for_card=WAIT)
    assert caught.value.reason is CardErrorReason.ACCESS_DENIED
    assert "CAN" in caught.value.user_message


def test_wrong_mrz_on_bac_passport_is_refused(virtual_reader: VirtualReader, passport: TestDocument) -> None:
    virtual_reader.insert(card_for_document(passport, pace_parameter_id=None))
    key = passport.mrz_key
    wrong = MrzKey(key.document_number, key.birth_date, "991231" if key.expiry_date != "991231" else "981231")
    with pytest.raises(CardError) as caught:
        read_document(virtual_reader.name, wrong, wait_for_card=WAIT)
    assert caught.value.reason is CardErrorReason.ACCESS_DENIED


def test_can_on_a_bac_only_passport_asks_for_the_mrz(
    virtual_reader: VirtualReader, passport: TestDocument
) -> None:
    virtual_reader.insert(card_for_document(passport, pace_parameter_id=None))
    with pytest.raises(CardError) as caught:
        read_document(virtual_reader.name, CanKey(passport.can), wait_for_card=WAIT)
    assert caught.value.reason is CardErrorReason.ACCESS_DENIED


@pytest.mark.parametrize(
    ("vanish_after", "block_size"),
    [(3, 223), (12, 223), (9, None)],  # during PACE; during the DG2 blocks; before DG2 in one extended read
)
def test_card_removed_mid_read(
    virtual_reader: VirtualReader, id_card: TestDocument, vanish_after: int, block_size: int | None
) -> None:
    """vpcd's nearest thing to pulling the card or an unplugged reader: the chip's link drops."""
    virtual_reader.insert(card_for_document(id_card, faults=CardFaults(vanish_after_apdus=vanish_after)))
    with pytest.raises(CardError) as caught:
        read_document(virtual_reader.name, CanKey(id_card.can), block_size=block_size, wait_for_card=WAIT)
    assert caught.value.reason is CardErrorReason.CARD_REMOVED
    assert "während des Lesens entfernt" in caught.value.user_message
    # Afterwards the reader is empty, and a new attempt says so instead of hanging. (pcscd learns of
    # vpcd's loss at its next poll, up to 0.4 s later; a real reader reports the field loss at once.)
    assert wait_for_card_removal(virtual_reader.name, WAIT)
    with pytest.raises(CardError) as again:
        read_document(virtual_reader.name, CanKey(id_card.can), wait_for_card=0.3)
    assert again.value.reason is CardErrorReason.NO_CARD


def test_corrupted_response_mac(virtual_reader: VirtualReader, id_card: TestDocument) -> None:
    virtual_reader.insert(card_for_document(id_card, faults=CardFaults(corrupt_mac_from_apdu=8)))
    with pytest.raises(CardError) as caught:
        read_document(virtual_reader.name, CanKey(id_card.can), block_size=223, wait_for_card=WAIT)
    assert caught.value.reason is CardErrorReason.SECURE_MESSAGING


def test_tampered_data_group_fails_passive_authentication(virtual_reader: VirtualReader) -> None:
    document = make_test_document("td1", tamper_dg=2)
    virtual_reader.insert(card_for_document(document))
    read = read_document(
        virtual_reader.name, CanKey(document.can), trust=document.trust_store(), wait_for_card=WAIT
    )
    assert verdict(read) == "FAILED"
    assert any(not step.ok for step in read.verification.steps)


def test_forged_sod_signature_fails(virtual_reader: VirtualReader) -> None:
    document = make_test_document("td1", forge_sod_signature=True)
    virtual_reader.insert(card_for_document(document))
    read = read_document(
        virtual_reader.name, CanKey(document.can), trust=document.trust_store(), wait_for_card=WAIT
    )
    assert verdict(read) == "FAILED"


def test_unknown_csca_is_not_verified(virtual_reader: VirtualReader, id_card: TestDocument) -> None:
    virtual_reader.insert(card_for_document(id_card))
    stranger = make_test_document("td1", signer="ecdsa-p256", seed=4711)
    read = read_document(
        virtual_reader.name, CanKey(id_card.can), trust=stranger.trust_store(), wait_for_card=WAIT
    )
    assert verdict(read) == "NOT_VERIFIED"


def test_without_trust_store_not_verified(virtual_reader: VirtualReader, id_card: TestDocument) -> None:
    virtual_reader.insert(card_for_document(id_card))
    read = read_document(virtual_reader.name, CanKey(id_card.can), trust=None, wait_for_card=WAIT)
    assert verdict(read) == "NOT_VERIFIED"


def test_card_without_emrtd_application(virtual_reader: VirtualReader) -> None:
    virtual_reader.insert(EmulatedCard(files={0x2F00: b"\x61\x00"}, has_emrtd_application=False))
    with pytest.raises(CardError) as caught:
        read_document(virtual_reader.name, MrzKey("C01X00T47", "640812", "311031"), wait_for_card=WAIT)
    assert caught.value.reason is CardErrorReason.UNSUPPORTED_DOCUMENT


def test_no_card_on_the_reader(virtual_reader: VirtualReader, id_card: TestDocument) -> None:
    with pytest.raises(CardError) as caught:
        read_document(virtual_reader.name, CanKey(id_card.can), wait_for_card=0.3)
    assert caught.value.reason is CardErrorReason.NO_CARD


@pytest.mark.usefixtures("virtual_reader")
def test_reader_not_attached(id_card: TestDocument) -> None:
    with pytest.raises(CardError) as caught:
        read_document("Unplugged Reader 01 00", CanKey(id_card.can))
    assert caught.value.reason is CardErrorReason.NO_READER
