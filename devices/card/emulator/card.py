"""An emulated eMRTD chip (ICAO 9303-10/-11): files, access control, secure messaging, fault switches.

The chip answers like real German documents do: EF.CardAccess is readable in the clear from the
master file; everything in the eMRTD application needs secure messaging established by PACE or BAC
(the card-side protocol engines come from `devices.card.pace` and `devices.card.bac`). Fault
switches make it misbehave the way tests need: refuse extended length, vanish mid-read, corrupt a
response MAC.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from devices.card.access import AccessKey, CanKey
from devices.card.apdu import CommandAPDU, ResponseAPDU
from devices.card.emulator.vpcd import CardVanished
from devices.card.errors import CardError
from devices.card.tlv import find, parse_tlv

if TYPE_CHECKING:
    from devices.card.emulator.personalization import TestDocument
    from devices.card.pace import PaceInfo

log = logging.getLogger(__name__)

EMRTD_AID = bytes.fromhex("A0000002471001")
EF_CARD_ACCESS = 0x011C
MASTER_FILE_IDS = frozenset({EF_CARD_ACCESS})

# Like a German ID card: T=1; historical bytes announce extended Lc/Le (card capabilities E0).
DEFAULT_ATR = bytes.fromhex("3B8A80018031F873F741E082900075")

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282
SW_WRONG_LENGTH = 0x6700
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_SM_OBJECTS_INCORRECT = 0x6988
SW_FILE_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_INCORRECT_PARAMETERS = 0x6A86
SW_REFERENCED_DATA_NOT_FOUND = 0x6A88

INS_MSE = 0x22
MSE_SET_AT_AUTHENTICATION = (0xC1, 0xA4)
INS_GENERAL_AUTHENTICATE = 0x86
INS_GET_CHALLENGE = 0x84
INS_EXTERNAL_AUTHENTICATE = 0x82
INS_GET_RESPONSE = 0xC0
PACE_MRZ = 1
PACE_CAN = 2

MAX_SHORT_RESPONSE = 256
MAX_EXTENDED_RESPONSE = 65536
# Plain bytes per secured answer: wrapped (DO87 padding, DO99, DO8E, SW) it must still fit in one
# vpcd frame (2-byte length) as a real chip's answer fits its I/O buffer.
MAX_SECURED_PLAIN_RESPONSE = 0xFFFF - 64


class CardSession(Protocol):
    """Card side of secure messaging (`devices.card.secure_messaging.CardSecureMessaging`)."""

    def unwrap_command(self, command: CommandAPDU) -> CommandAPDU: ...

    def wrap_response(self, response: ResponseAPDU) -> ResponseAPDU: ...


class AccessProtocol(Protocol):
    """Card side of PACE or BAC (`PaceCard`, `BacCard`)."""

    def handle(self, command: CommandAPDU) -> ResponseAPDU | None: ...

    @property
    def session(self) -> CardSession | None: ...


@dataclass
class CardFaults:
    """Ways to make the chip misbehave."""

    refuse_extended: bool = False  # answer 6700 to every extended-length APDU, like a short-only path
    vanish_after_apdus: int | None = None  # drop out of the field when this many APDUs have arrived
    corrupt_mac_from_apdu: int | None = None  # flip a MAC byte in secured responses from this APDU on
    max_response: int | None = None  # largest response data the chip sends (buffer size)
    # Like T=0 chips: hand out responses in pieces of this size with 61XX, the rest by GET RESPONSE
    # (0: no data at all in the first answer, only 61XX).
    response_chunk: int | None = None
    # Answer 6CXX (XX: the exact length available) when the Le of a plain short command is wrong.
    # Secured commands are exempt: a chip must not answer them twice (the send sequence counter).
    demand_exact_le: bool = False


@dataclass
class EmulatedCard:
    """A contactless eMRTD: files by file id, the access protocols it offers, fault switches."""

    files: dict[int, bytes]
    # PACE engines by password reference (MSE:Set AT tag 83: 1 MRZ, 2 CAN), and BAC if offered.
    pace: dict[int, AccessProtocol] = field(default_factory=dict)
    bac: AccessProtocol | None = None
    faults: CardFaults = field(default_factory=CardFaults)
    has_emrtd_application: bool = True
    atr_bytes: bytes = DEFAULT_ATR
    apdu_count: int = 0
    _powered: bool = False
    _application_selected: bool = False
    _selected_file: int | None = None
    _active: AccessProtocol | None = None
    _session: CardSession | None = None
    _pending: bytes = b""  # response data still to be fetched with GET RESPONSE
    _pending_sw: int = SW_OK

    # --- vpcd VirtualCard protocol -------------------------------------------------------------
    @property
    def atr(self) -> bytes:
        return self.atr_bytes

    def power_on(self) -> None:
        self._powered = True
        self._forget_state()

    def power_off(self) -> None:
        self._powered = False
        self._forget_state()

    def reset(self) -> None:
        self._forget_state()

    def process_apdu(self, apdu: bytes) -> bytes:
        self.apdu_count += 1
        vanish_at = self.faults.vanish_after_apdus
        if vanish_at is not None and self.apdu_count > vanish_at:
            raise CardVanished
        if len(apdu) >= 4 and apdu[1] == INS_GET_RESPONSE and apdu[0] & 0x0C == 0:
            # Below secure messaging: it fetches the rest of the (secured) previous response.
            return self._get_response(apdu).to_bytes()
        self._pending = b""
        wrong_le = self._wrong_le(apdu)
        if wrong_le is not None:
            return wrong_le.to_bytes()
        return self._in_chunks(self.respond(apdu)).to_bytes()

    # --- transmission faults (T=0 style) ----------------------------------------------------------
    def _wrong_le(self, raw: bytes) -> ResponseAPDU | None:
        if not self.faults.demand_exact_le or _is_extended(raw) or raw[0] & 0x0C == 0x0C:
            return None
        try:
            command = CommandAPDU.from_bytes(raw)
        except CardError:
            return None
        if command.ne is None or command.ins != 0xB0:
            return None
        # READ BINARY in the clear has no side effects beyond selecting the file: safe to look ahead.
        probe = self.respond(raw)
        available = len(probe.data)
        if probe.data and available != command.ne and available <= MAX_SHORT_RESPONSE:
            return ResponseAPDU.status(0x6C00 | (available & 0xFF))  # 6C00: 256 bytes
        return None

    def _in_chunks(self, response: ResponseAPDU) -> ResponseAPDU:
        chunk = self.faults.response_chunk
        if chunk is None or len(response.data) <= chunk:
            return response
        self._pending, self._pending_sw = response.data[chunk:], response.sw
        return ResponseAPDU(response.data[:chunk], 0x61, min(len(self._pending), 256) & 0xFF)

    def _get_response(self, raw: bytes) -> ResponseAPDU:
        if not self._pending:
            return ResponseAPDU.status(0x6985)  # conditions of use not satisfied: nothing to get
        try:
            ne = CommandAPDU.from_bytes(raw).ne or MAX_SHORT_RESPONSE
        except CardError:
            return ResponseAPDU.status(SW_WRONG_LENGTH)
        piece, self._pending = self._pending[:ne], self._pending[ne:]
        if self._pending:
            return ResponseAPDU(piece, 0x61, min(len(self._pending), 256) & 0xFF)
        return ResponseAPDU(piece, self._pending_sw >> 8, self._pending_sw & 0xFF)

    # --- APDU processing ---------------------------------------------------------------------
    def respond(self, raw: bytes) -> ResponseAPDU:
        try:
            command = CommandAPDU.from_bytes(raw)
        except CardError:
            return ResponseAPDU.status(SW_WRONG_LENGTH)
        if self.faults.refuse_extended and _is_extended(raw):
            return ResponseAPDU.status(SW_WRONG_LENGTH)
        if command.cla & 0x0C == 0x0C:
            return self._respond_secured(command)
        if self._session is not None:
            # A plain command ends secure messaging, as on real chips.
            self._forget_access()
        access_answer = self._offer_to_access_protocols(command)
        if access_answer is not None:
            return access_answer
        return self._execute(command, secured=False)

    def _respond_secured(self, command: CommandAPDU) -> ResponseAPDU:
        session = self._session
        if session is None:
            return ResponseAPDU.status(SW_SM_OBJECTS_INCORRECT)
        try:
            plain = session.unwrap_command(command)
        except CardError:
            self._forget_access()
            return ResponseAPDU.status(SW_SM_OBJECTS_INCORRECT)
        response = session.wrap_response(self._execute(plain, secured=True))
        corrupt_from = self.faults.corrupt_mac_from_apdu
        if corrupt_from is not None and self.apdu_count >= corrupt_from:
            response = _corrupt_mac(response)
        return response

    def _offer_to_access_protocols(self, command: CommandAPDU) -> ResponseAPDU | None:
        protocol = self._protocol_for(command)
        if protocol is None:
            return None
        if isinstance(protocol, ResponseAPDU):
            return protocol
        answer = protocol.handle(command)
        if answer is None:
            return None
        self._active = protocol
        self._session = protocol.session
        return answer

    def _protocol_for(self, command: CommandAPDU) -> AccessProtocol | ResponseAPDU | None:
        if command.ins == INS_MSE and (command.p1, command.p2) == MSE_SET_AT_AUTHENTICATION:
            reference = _password_reference(command.data)
            if reference not in self.pace:
                return ResponseAPDU.status(SW_REFERENCED_DATA_NOT_FOUND)
            return self.pace[reference]
        if command.ins == INS_GENERAL_AUTHENTICATE:
            return self._active
        if command.ins in (INS_GET_CHALLENGE, INS_EXTERNAL_AUTHENTICATE):
            return self.bac
        return None

    def _execute(self, command: CommandAPDU, *, secured: bool) -> ResponseAPDU:
        if command.cla & 0x80:
            return ResponseAPDU.status(SW_CLA_NOT_SUPPORTED)
        if command.ins == 0xA4:
            return self._select(command)
        if command.ins == 0xB0:
            return self._read_binary(command, secured=secured)
        if command.ins == 0xB1:
            return self._read_binary_odd(command, secured=secured)
        return ResponseAPDU.status(SW_INS_NOT_SUPPORTED)

    def _select(self, command: CommandAPDU) -> ResponseAPDU:
        if command.p1 == 0x04:  # by DF name
            if command.data == EMRTD_AID and self.has_emrtd_application:
                self._application_selected = True
                self._selected_file = None
                return ResponseAPDU.status(SW_OK)
            return ResponseAPDU.status(SW_FILE_NOT_FOUND)
        if command.p1 in (0x00, 0x02) and len(command.data) == 2:
            file_id = int.from_bytes(command.data, "big")
            if command.p1 == 0x00 and file_id == 0x3F00:
                self._application_selected = False
                self._selected_file = None
                return ResponseAPDU.status(SW_OK)
            if self._file_visible(file_id):
                self._selected_file = file_id
                return ResponseAPDU.status(SW_OK)
            return ResponseAPDU.status(SW_FILE_NOT_FOUND)
        return ResponseAPDU.status(SW_INCORRECT_PARAMETERS)

    def _file_visible(self, file_id: int) -> bool:
        if file_id not in self.files:
            return False
        return file_id in MASTER_FILE_IDS or self._application_selected

    def _read_binary(self, command: CommandAPDU, *, secured: bool) -> ResponseAPDU:
        if command.p1 & 0x80:  # short EF identifier in P1, offset in P2
            file_id = self._file_by_short_id(command.p1 & 0x1F)
            if file_id is None:
                return ResponseAPDU.status(SW_FILE_NOT_FOUND)
            self._selected_file = file_id
            offset = command.p2
        else:
            offset = ((command.p1 & 0x7F) << 8) | command.p2
        return self._read_selected(offset, command.ne, secured=secured)

    def _read_binary_odd(self, command: CommandAPDU, *, secured: bool) -> ResponseAPDU:
        # Offset in a 54 TLV (for files beyond 32 KiB); data comes back in a 53 TLV.
        data = command.data
        if len(data) < 3 or data[0] != 0x54 or data[1] != len(data) - 2 or data[1] > 3:
            return ResponseAPDU.status(SW_INCORRECT_PARAMETERS)
        offset = int.from_bytes(data[2:], "big")
        ne = command.ne
        inner_ne = None if ne is None else max(ne - 4, 0)
        plain = self._read_selected(offset, inner_ne, secured=secured)
        if not plain.data:
            return plain
        body = plain.data
        header = b"\x53" + _der_length(len(body))
        return ResponseAPDU(header + body, plain.sw1, plain.sw2)

    def _file_by_short_id(self, short_id: int) -> int | None:
        # ICAO 9303-10: the short EF id is the low byte of the file id (EF.COM 1E, DG1 01, ...).
        for file_id in self.files:
            if file_id & 0x1F == short_id and (file_id >> 8) == 0x01 and self._file_visible(file_id):
                return file_id
        return None

    def _read_selected(self, offset: int, ne: int | None, *, secured: bool) -> ResponseAPDU:
        file_id = self._selected_file
        if file_id is None:
            return ResponseAPDU.status(0x6986)  # command not allowed: no current EF
        if file_id not in MASTER_FILE_IDS and not secured:
            return ResponseAPDU.status(SW_SECURITY_NOT_SATISFIED)
        content = self.files[file_id]
        if offset > len(content):
            return ResponseAPDU.status(SW_WRONG_P1P2)
        wanted = MAX_SHORT_RESPONSE if ne is None else ne
        if secured:
            wanted = min(wanted, MAX_SECURED_PLAIN_RESPONSE)
        if self.faults.max_response is not None:
            wanted = min(wanted, self.faults.max_response)
        chunk = content[offset : offset + wanted]
        sw = SW_OK if len(chunk) == wanted else SW_END_OF_FILE
        return ResponseAPDU(chunk, sw >> 8, sw & 0xFF)

    # --- state -----------------------------------------------------------------------------
    def _forget_access(self) -> None:
        self._session = None
        self._active = None

    def _forget_state(self) -> None:
        self._forget_access()
        self._application_selected = False
        self._selected_file = None


def _password_reference(mse_data: bytes) -> int | None:
    try:
        reference = find(parse_tlv(mse_data), 0x83)
    except CardError:
        return None
    return reference.value[0] if reference is not None and len(reference.value) == 1 else None


def _is_extended(raw: bytes) -> bool:
    return len(raw) > 5 and raw[4] == 0x00


def _corrupt_mac(response: ResponseAPDU) -> ResponseAPDU:
    # The MAC (DO 8E) closes the secured response data; flipping its last byte breaks it.
    if not response.data:
        return response
    data = bytearray(response.data)
    data[-1] ^= 0xFF
    return ResponseAPDU(bytes(data), response.sw1, response.sw2)


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes((length,))
    size = (length.bit_length() + 7) // 8
    return bytes((0x80 | size,)) + length.to_bytes(size, "big")


PaceSecret = Literal["can", "mrz"]

# ICAO 9303-11 9.2: id-PACE-ECDH-GM-AES-CBC-CMAC-128 and -256.
PACE_ECDH_GM_AES_128 = "0.4.0.127.0.7.2.2.4.2.2"
PACE_ECDH_GM_AES_256 = "0.4.0.127.0.7.2.2.4.2.4"
_LARGE_CURVES = (15, 16)  # P-384, brainpoolP384r1: paired with AES-256 as documents do


def pace_info_for(parameter_id: int) -> PaceInfo:
    from devices.card.pace import PaceInfo

    protocol = PACE_ECDH_GM_AES_256 if parameter_id in _LARGE_CURVES else PACE_ECDH_GM_AES_128
    return PaceInfo(protocol, 2, parameter_id)


def build_card_access_for(info: PaceInfo) -> bytes:
    from devices.card.pace import build_card_access

    return build_card_access([info])


def card_for_document(
    document: TestDocument,
    *,
    pace_parameter_id: int | None = 13,
    pace_secrets: tuple[PaceSecret, ...] = ("can", "mrz"),
    bac: bool = True,
    faults: CardFaults | None = None,
) -> EmulatedCard:
    """An emulated chip carrying a generated test document.

    `pace_parameter_id=None` makes a BAC-only passport (no EF.CardAccess). 13 is brainpoolP256r1 as
    on German documents; 12 P-256, 15 P-384, 16 brainpoolP384r1.
    """
    from devices.card.bac import BacCard
    from devices.card.pace import PaceCard

    files = dict(document.files)
    pace: dict[int, AccessProtocol] = {}
    if pace_parameter_id is not None:
        info = pace_info_for(pace_parameter_id)
        files[EF_CARD_ACCESS] = build_card_access_for(info)
        keys: dict[PaceSecret, tuple[int, AccessKey]] = {
            "can": (PACE_CAN, CanKey(document.can)),
            "mrz": (PACE_MRZ, document.mrz_key),
        }
        for secret in pace_secrets:
            reference, key = keys[secret]
            pace[reference] = PaceCard(key, info)
    return EmulatedCard(
        files=files,
        pace=pace,
        bac=BacCard(document.mrz_key) if bac else None,
        faults=faults or CardFaults(),
    )
