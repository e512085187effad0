"""Read an ID card or passport: the one call the app and the CLI make (`read_document`).

Transport → access control (PACE where EF.CardAccess offers it, BAC otherwise) → secure reads of
EF.COM, DG1, DG2, EF.SOD in blocks → parsing → passive authentication, with progress per step and
per block, and figures that split the time spent waiting for the card from the time spent here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from devices.card import bac, lds, pace
from devices.card.access import AccessKey, CanKey, MrzKey
from devices.card.apdu import CommandAPDU, ResponseAPDU, Transmit
from devices.card.errors import CardError, CardErrorReason
from devices.card.passive_auth import PassiveAuthResult, passive_authentication
from devices.card.tlv import parse_tlv, parse_tlv_header
from devices.card.transport import CardChannel, ExtendedLengthRefused

if TYPE_CHECKING:
    from devices.card.lds import FaceImage
    from devices.card.mrz import MrzData
    from devices.card.pace import PaceInfo
    from devices.card.secure_messaging import SecureMessaging
    from devices.card.trust import TrustStore

log = logging.getLogger(__name__)

Step = Literal["PACE", "BAC", "COM", "DG1", "DG2", "SOD", "PA"]
AccessProtocolName = Literal["PACE", "BAC"]

EMRTD_AID = bytes.fromhex("A0000002471001")
CARD_ACCESS_SHORT_ID = 0x1C  # EF.CardAccess (011C) in the master file
# Largest plain block that still fits a short secured response (DO87 padding, DO99, DO8E).
SHORT_SECURED_BLOCK = 223
# Largest plain block with extended length. The secured answer adds up to 38 bytes (DO87 header and
# padding, DO99, DO8E, SW) and must fit PC/SC's extended buffer (pcsc-lite: 65548 bytes) and vpcd's
# 2-byte frames; Le 0000 (65536) would overflow both once a file is that long.
EXTENDED_BLOCK = 0xFF00
CARD_ACCESS_LE = 65536  # EF.CardAccess is read in the clear: Le 0000, the whole (small) file
MAX_FILE_SIZE = 1 << 20  # a data group larger than this is a hostile card, not a document
_MAX_EVEN_OFFSET = 0x7FFF  # READ BINARY B0 addresses 15 bits; beyond, the odd INS B1 is needed

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282
SW_FILE_NOT_FOUND = 0x6A82
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_SM_OBJECTS_MISSING = 0x6987
SW_SM_OBJECTS_INCORRECT = 0x6988


@dataclass(frozen=True)
class ReadProgress:
    step: Step
    done: int  # bytes read of the step's file (0/1 for steps without a file)
    total: int | None


@dataclass(frozen=True)
class ReadFigures:
    """Where a read's time went. The read starts when the card lies on the reader: the time spent
    waiting for someone to put it there is `wait_seconds`, outside `wall_seconds`."""

    apdus: int
    bytes_sent: int
    bytes_received: int
    wall_seconds: float
    card_seconds: float  # inside SCardConnect/SCardTransmit: reader, card and the PC/SC daemon
    host_seconds: float  # everything else: crypto, parsing, passive authentication
    wait_seconds: float = 0.0


@dataclass(frozen=True)
class DocumentRead:
    """What the chip said. Personal data stays out of repr so that it cannot slip into a log line."""

    mrz: MrzData = field(repr=False)
    face: FaceImage | None = field(repr=False)
    verification: PassiveAuthResult
    access_protocol: AccessProtocolName
    figures: ReadFigures
    files: dict[int, bytes] = field(repr=False, default_factory=dict)


ProgressCallback = Callable[[ReadProgress], None]


def read_document(
    reader: str | None,
    access_key: AccessKey,
    progress: ProgressCallback | None = None,
    *,
    trust: TrustStore | None = None,
    block_size: int | None = None,
    wait_for_card: float = 0.0,
) -> DocumentRead:
    """Read and verify the document on the reader (the first reader with a card when None).

    Raises CardError (with a German `user_message`) for every card, reader or data failure.
    """
    started = time.perf_counter()
    report = progress or (lambda _progress: None)
    channel = CardChannel.connect(reader, wait_seconds=wait_for_card)
    try:
        try:
            protocol, files = _read_files(channel, access_key, report, block_size)
        except ExtendedLengthRefused:
            # The transport now knows to stay short; secure messaging must start over.
            log.info("restarting the read with short blocks")
            protocol, files = _read_files(channel, access_key, report, block_size)
        mrz, face, verification = _interpret(files, trust, report)
    finally:
        channel.close()
    transport = channel.figures
    wall = time.perf_counter() - started - transport.wait_seconds
    figures = ReadFigures(
        apdus=transport.apdus,
        bytes_sent=transport.bytes_sent,
        bytes_received=transport.bytes_received,
        wall_seconds=wall,
        card_seconds=transport.card_seconds,
        host_seconds=wall - transport.card_seconds,
        wait_seconds=transport.wait_seconds,
    )
    log.info(
        "document read via %s: %d APDUs, %.0f ms (card %.0f ms)",
        protocol,
        figures.apdus,
        wall * 1000,
        transport.card_seconds * 1000,
    )
    return DocumentRead(mrz, face, verification, protocol, figures, files)


def _read_files(
    channel: CardChannel, key: AccessKey, report: ProgressCallback, block_size: int | None
) -> tuple[AccessProtocolName, dict[int, bytes]]:
    protocol, secure = _open_secure_channel(channel, key, report)
    block = _block_size(channel, block_size)
    reader = _FileReader(secure, block, report)
    files: dict[int, bytes] = {}
    steps: tuple[tuple[Step, int], ...] = (
        ("COM", lds.EF_COM),
        ("DG1", lds.DG1),
        ("DG2", lds.DG2),
        ("SOD", lds.EF_SOD),
    )
    for step, file_id in steps:
        content = reader.read(file_id, step, required=step != "DG2")
        if content is not None:
            files[file_id] = content
    return protocol, files


def _block_size(channel: CardChannel, requested: int | None) -> int:
    if not channel.extended_length:
        return min(requested or SHORT_SECURED_BLOCK, SHORT_SECURED_BLOCK)
    return requested or EXTENDED_BLOCK


def _open_secure_channel(
    channel: CardChannel, key: AccessKey, report: ProgressCallback
) -> tuple[AccessProtocolName, Transmit]:
    pace_infos = _pace_infos(channel)
    if pace_infos:
        report(ReadProgress("PACE", 0, 1))
        sm = pace.perform_pace(channel.transmit, key, pace_infos[0])
        secure = _secured(channel, sm)
        _select_application(secure)
        report(ReadProgress("PACE", 1, 1))
        return "PACE", secure
    _select_application(channel.transmit)
    if isinstance(key, CanKey):
        raise CardError(CardErrorReason.ACCESS_DENIED, "no PACE on this document; a CAN needs PACE")
    assert isinstance(key, MrzKey)
    report(ReadProgress("BAC", 0, 1))
    sm = bac.perform_bac(channel.transmit, key)
    report(ReadProgress("BAC", 1, 1))
    return "BAC", _secured(channel, sm)


def _pace_infos(channel: CardChannel) -> list[PaceInfo]:
    """PACE parameters from EF.CardAccess (read in the clear by its short file id), or []."""
    ne = CARD_ACCESS_LE if channel.extended_length else 256
    response = channel.transmit(CommandAPDU(0x00, 0xB0, 0x80 | CARD_ACCESS_SHORT_ID, 0x00, ne=ne))
    if response.sw not in (SW_OK, SW_END_OF_FILE) or not response.data:
        return []
    try:
        return pace.parse_card_access(response.data)
    except CardError:
        log.warning("EF.CardAccess unreadable; trying BAC")
        return []


def _secured(channel: CardChannel, sm: SecureMessaging) -> Transmit:
    return sm.transmit_through(channel.transmit)


def _select_application(transmit: Transmit) -> None:
    response = transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID))
    if response.sw == SW_FILE_NOT_FOUND:
        raise CardError(CardErrorReason.UNSUPPORTED_DOCUMENT, "no eMRTD application on the chip")
    if not response.ok:
        raise CardError(CardErrorReason.PROTOCOL, f"SELECT eMRTD application: SW {response.sw:04X}")


class _FileReader:
    """Reads elementary files in blocks through a (secured) transmit."""

    def __init__(self, transmit: Transmit, block: int, report: ProgressCallback) -> None:
        self._transmit = transmit
        self._block = block
        self._report = report

    def read(self, file_id: int, step: Step, *, required: bool) -> bytes | None:
        short_id = file_id & 0x1F
        first = self._transmit(CommandAPDU(0x00, 0xB0, 0x80 | short_id, 0x00, ne=self._block))
        if first.sw == SW_FILE_NOT_FOUND and not required:
            return None
        _expect_data(first, step)
        total = parse_tlv_header(first.data).total_length  # every LDS file is one TLV
        if total > MAX_FILE_SIZE:
            raise CardError(CardErrorReason.MALFORMED_DATA, f"{step} claims {total} bytes")
        content = bytearray(first.data[:total])
        self._report(ReadProgress(step, len(content), total))
        while len(content) < total:
            wanted = min(self._block, total - len(content))
            chunk = self._read_at(len(content), wanted, step)
            content += chunk[: total - len(content)]
            self._report(ReadProgress(step, len(content), total))
        return bytes(content)

    def _read_at(self, offset: int, wanted: int, step: Step) -> bytes:
        if offset <= _MAX_EVEN_OFFSET:
            response = self._transmit(CommandAPDU(0x00, 0xB0, offset >> 8, offset & 0xFF, ne=wanted))
            _expect_data(response, step)
            return response.data
        # Odd INS: offset in DO 54, data comes back in DO 53 (ISO 7816-4); 4 bytes of TLV overhead.
        offset_bytes = offset.to_bytes((offset.bit_length() + 7) // 8, "big")
        data = b"\x54" + bytes((len(offset_bytes),)) + offset_bytes
        response = self._transmit(CommandAPDU(0x00, 0xB1, 0x00, 0x00, data, ne=wanted + 4))
        _expect_data(response, step)
        return _unwrap_do53(response.data)


def _expect_data(response: ResponseAPDU, step: Step) -> None:
    if response.sw == SW_SECURITY_NOT_SATISFIED:
        raise CardError(CardErrorReason.ACCESS_DENIED, f"{step}: access refused by the chip")
    if response.sw == SW_FILE_NOT_FOUND:
        raise CardError(CardErrorReason.UNSUPPORTED_DOCUMENT, f"{step}: file missing on the chip")
    if response.sw in (SW_SM_OBJECTS_MISSING, SW_SM_OBJECTS_INCORRECT):
        raise CardError(CardErrorReason.SECURE_MESSAGING, f"{step}: chip refused secure messaging")
    if response.sw not in (SW_OK, SW_END_OF_FILE):
        raise CardError(CardErrorReason.PROTOCOL, f"{step}: READ BINARY answered SW {response.sw:04X}")
    if not response.data:
        raise CardError(CardErrorReason.MALFORMED_DATA, f"{step}: READ BINARY returned no data")


def _unwrap_do53(data: bytes) -> bytes:
    objects = parse_tlv(data)
    if len(objects) != 1 or objects[0].tag != 0x53:
        raise CardError(CardErrorReason.MALFORMED_DATA, "odd READ BINARY without DO 53")
    return objects[0].value


def _interpret(
    files: dict[int, bytes], trust: TrustStore | None, report: ProgressCallback
) -> tuple[MrzData, FaceImage | None, PassiveAuthResult]:
    mrz = lds.parse_dg1(files[lds.DG1])
    face: FaceImage | None = None
    if lds.DG2 in files:
        try:
            faces = lds.parse_dg2(files[lds.DG2])
        except CardError as error:
            log.warning("DG2 unreadable: %s", error.reason.value)
        else:
            face = faces[0] if faces else None
    report(ReadProgress("PA", 0, 1))
    read_numbers = [number for number in (1, 2) if lds.dg_file_id(number) in files]
    data_groups = {number: files[lds.dg_file_id(number)] for number in read_numbers}
    verification = passive_authentication(files[lds.EF_SOD], data_groups, trust)
    report(ReadProgress("PA", 1, 1))
    return mrz, face, verification
