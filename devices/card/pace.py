"""PACE (ICAO 9303-11 §4.4) with generic mapping over ECDH, reader side and card side.

The reader reads EF.CardAccess (``parse_card_access``), picks a ``PaceInfo`` and calls
``perform_pace``; the emulator's chip answers with ``PaceCard``. One function per protocol step,
named after the standard:

1. ``decrypt_nonce``: s = D(K_π, z), K_π = KDF_π(π)
2. ``map_generator``: G~ = s·G + H, H = SK_map · PK_map (generic mapping, §4.4.3.3.1)
3. ``shared_secret``: K = x(SK · PK) on the mapped curve
4. ``authentication_token``: T = MAC(KS_MAC, 7F49 {06 OID, 86 PK})

Curve arithmetic uses ``ecdsa`` because the mapped generator is not a named curve.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ecdsa
from ecdsa.ellipticcurve import INFINITY, PointJacobi

from devices.card.apdu import CommandAPDU, ResponseAPDU, Transmit
from devices.card.errors import CardError, CardErrorReason
from devices.card.secure_messaging import (
    KDF_ENC,
    KDF_MAC,
    KDF_PI,
    CardSecureMessaging,
    SecureMessaging,
    SmCipher,
    aes_cmac,
    block_decrypt,
    block_encrypt,
    derive_key,
    pad,
    retail_mac,
)
from devices.card.tlv import Tlv, encode_tlv, find, parse_one, parse_single, parse_tlv

if TYPE_CHECKING:
    from devices.card.access import AccessKey

log = logging.getLogger(__name__)

RandomBytes = Callable[[int], bytes]

ID_PACE = "0.4.0.127.0.7.2.2.4"
ID_PACE_ECDH_GM = ID_PACE + ".2"
# Last arc of a PACE OID: cipher and key length of secure messaging (9303-11 §9.2.1).
_CIPHER_SUFFIX: dict[int, tuple[SmCipher, int]] = {
    1: (SmCipher.TDES, 128),
    2: (SmCipher.AES, 128),
    3: (SmCipher.AES, 192),
    4: (SmCipher.AES, 256),
}
# Standardized domain parameters (9303-11 §9.5.1, Table 6), the elliptic curves among them.
STANDARD_CURVES: dict[int, ecdsa.curves.Curve] = {
    8: ecdsa.NIST192p,
    9: ecdsa.BRAINPOOLP192r1,
    10: ecdsa.NIST224p,
    11: ecdsa.BRAINPOOLP224r1,
    12: ecdsa.NIST256p,
    13: ecdsa.BRAINPOOLP256r1,
    14: ecdsa.BRAINPOOLP320r1,
    15: ecdsa.NIST384p,
    16: ecdsa.BRAINPOOLP384r1,
    17: ecdsa.BRAINPOOLP512r1,
    18: ecdsa.NIST521p,
}

INS_MSE = 0x22
MSE_SET_AT = (0xC1, 0xA4)
INS_GENERAL_AUTHENTICATE = 0x86
CLA_CHAINING = 0x10
TAG_DYNAMIC_AUTHENTICATION_DATA = 0x7C
TAG_PUBLIC_KEY = 0x7F49
TAG_OID = 0x06
TAG_EC_POINT = 0x86
TAG_ENCRYPTED_NONCE = 0x80
TAG_MAPPING_IFD, TAG_MAPPING_IC = 0x81, 0x82
TAG_EPHEMERAL_IFD, TAG_EPHEMERAL_IC = 0x83, 0x84
TAG_TOKEN_IFD, TAG_TOKEN_IC = 0x85, 0x86
SW_AUTHENTICATION_FAILED = 0x6300
SW_WRONG_DATA = 0x6A80
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_REFERENCED_DATA_NOT_FOUND = 0x6A88


# --- EF.CardAccess ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaceInfo:
    """One PACEInfo of EF.CardAccess: protocol OID (dotted), version, standardized parameter id."""

    protocol: str
    version: int = 2
    parameter_id: int | None = None

    @property
    def cipher(self) -> SmCipher:
        return self._suite()[0]

    @property
    def key_bits(self) -> int:
        return self._suite()[1]

    @property
    def supported(self) -> bool:
        """ECDH generic mapping on a standardized curve we know, with a known cipher."""
        prefix, _, suffix = self.protocol.rpartition(".")
        return (
            prefix == ID_PACE_ECDH_GM
            and suffix.isdigit()
            and int(suffix) in _CIPHER_SUFFIX
            and self.parameter_id in STANDARD_CURVES
            and self.version == 2
        )

    def _suite(self) -> tuple[SmCipher, int]:
        suffix = self.protocol.rpartition(".")[2]
        if not suffix.isdigit() or int(suffix) not in _CIPHER_SUFFIX:
            raise CardError(CardErrorReason.UNSUPPORTED_DOCUMENT, f"unknown PACE protocol {self.protocol}")
        return _CIPHER_SUFFIX[int(suffix)]


def decode_oid(data: bytes) -> str:
    """DER OBJECT IDENTIFIER content to dotted text; strict about truncated arcs."""
    if not data or data[-1] & 0x80:
        raise CardError(CardErrorReason.MALFORMED_DATA, "truncated OID")
    arcs: list[int] = []
    value = 0
    for byte in data:
        if value == 0 and byte == 0x80:
            raise CardError(CardErrorReason.MALFORMED_DATA, "non-minimal OID arc")
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(arc) for arc in (first, arcs[0] - 40 * first, *arcs[1:]))


def encode_oid(dotted: str) -> bytes:
    first, second, *rest = (int(arc) for arc in dotted.split("."))
    body = bytearray()
    for arc in (40 * first + second, *rest):
        chunk = [arc & 0x7F]
        remaining = arc >> 7
        while remaining:
            chunk.append(0x80 | (remaining & 0x7F))
            remaining >>= 7
        body += bytes(reversed(chunk))
    return bytes(body)


def _decode_small_integer(item: Tlv) -> int:
    if item.tag != 0x02 or not item.value or len(item.value) > 4 or item.value[0] & 0x80:
        raise CardError(CardErrorReason.MALFORMED_DATA, "expected a small non-negative INTEGER")
    return int.from_bytes(item.value, "big")


def _encode_integer(value: int) -> bytes:
    return encode_tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def parse_card_access(data: bytes) -> list[PaceInfo]:
    """The PACEInfos of EF.CardAccess (SecurityInfos, 9303-11 §9.2), the ones we can run first.

    Other SecurityInfos (chip authentication, domain parameters, card info) are skipped. Bytes after
    the SET are ignored: some chips pad the file, and the SET carries its own length.
    """
    security_infos, _ = parse_one(data)
    if security_infos.tag != 0x31:
        raise CardError(CardErrorReason.MALFORMED_DATA, "EF.CardAccess is not a SET OF SecurityInfo")
    infos: list[PaceInfo] = []
    for item in security_infos.children():
        if item.tag != 0x30:
            raise CardError(CardErrorReason.MALFORMED_DATA, "SecurityInfo is not a SEQUENCE")
        fields = item.children()
        if len(fields) < 2 or fields[0].tag != TAG_OID:
            raise CardError(CardErrorReason.MALFORMED_DATA, "SecurityInfo without protocol OID")
        protocol = decode_oid(fields[0].value)
        arcs = protocol.split(".")
        is_pace_info = protocol.startswith(ID_PACE + ".") and len(arcs) == 11
        if not is_pace_info or fields[1].tag != 0x02:
            continue  # PACEDomainParameterInfo has 10 arcs; others are not PACE at all
        version = _decode_small_integer(fields[1])
        parameter_id = _decode_small_integer(fields[2]) if len(fields) > 2 else None
        infos.append(PaceInfo(protocol, version, parameter_id))
    return sorted(infos, key=lambda info: not info.supported)


def build_card_access(infos: list[PaceInfo]) -> bytes:
    """EF.CardAccess content for the emulator (DER: a SET OF PACEInfo)."""
    sequences = []
    for info in infos:
        body = encode_tlv(TAG_OID, encode_oid(info.protocol)) + _encode_integer(info.version)
        if info.parameter_id is not None:
            body += _encode_integer(info.parameter_id)
        sequences.append(encode_tlv(0x30, body))
    return encode_tlv(0x31, b"".join(sorted(sequences)))  # DER sorts SET OF by encoding


# --- the protocol steps ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Suite:
    """Everything a PACE run needs to know from the PaceInfo."""

    info: PaceInfo
    curve: ecdsa.curves.Curve
    cipher: SmCipher
    key_bits: int

    @classmethod
    def for_info(cls, info: PaceInfo) -> Suite:
        if not info.supported:
            raise CardError(
                CardErrorReason.UNSUPPORTED_DOCUMENT,
                f"PACE {info.protocol} with parameters {info.parameter_id} not supported",
            )
        assert info.parameter_id is not None
        return cls(info, STANDARD_CURVES[info.parameter_id], info.cipher, info.key_bits)

    @property
    def field_length(self) -> int:
        prime: int = self.curve.curve.p()  # ecdsa is untyped: the field prime is an int
        return (prime.bit_length() + 7) // 8

    @property
    def nonce_length(self) -> int:
        return self.cipher.block_size

    def password_key(self, key: AccessKey) -> bytes:
        """K_π = KDF(f(π), 3) with f the CAN itself or SHA-1 of the MRZ information."""
        return derive_key(key.pace_password(), KDF_PI, self.cipher, self.key_bits)

    def random_scalar(self, random_bytes: RandomBytes) -> int:
        """A private key in [1, n-1], by rejection sampling (so test vectors can be injected)."""
        order = self.curve.order
        size = (order.bit_length() + 7) // 8
        for _ in range(1000):
            candidate = int.from_bytes(random_bytes(size), "big")
            if 1 <= candidate < order:
                return candidate
        raise CardError(CardErrorReason.PROTOCOL, "random source gives no usable scalar")

    def encode_point(self, point: PointJacobi) -> bytes:
        """Uncompressed SEC1 encoding 04 || X || Y."""
        size = self.field_length
        x: int = point.x()
        y: int = point.y()
        return b"\x04" + x.to_bytes(size, "big") + y.to_bytes(size, "big")

    def decode_point(self, data: bytes) -> PointJacobi:
        """Parse and validate a public point from the other side: on the curve, not infinity."""
        size = self.field_length
        if len(data) != 1 + 2 * size or data[0] != 0x04:
            raise CardError(CardErrorReason.PROTOCOL, "public key is not an uncompressed point")
        x = int.from_bytes(data[1 : 1 + size], "big")
        y = int.from_bytes(data[1 + size :], "big")
        curve = self.curve.curve
        if x >= curve.p() or y >= curve.p() or not curve.contains_point(x, y):
            raise CardError(CardErrorReason.PROTOCOL, "public key is not on the curve")
        return PointJacobi(curve, x, y, 1, self.curve.order)


def decrypt_nonce(suite: Suite, password_key: bytes, encrypted_nonce: bytes) -> bytes:
    """Step 1: s = D(K_π, z), CBC with zero IV, no padding."""
    if len(encrypted_nonce) != suite.nonce_length:
        raise CardError(CardErrorReason.PROTOCOL, "encrypted nonce has the wrong length")
    return block_decrypt(suite.cipher, password_key, encrypted_nonce)


def encrypt_nonce(suite: Suite, password_key: bytes, nonce: bytes) -> bytes:
    return block_encrypt(suite.cipher, password_key, nonce)


def map_generator(suite: Suite, nonce: bytes, own_private: int, other_public: PointJacobi) -> PointJacobi:
    """Step 2, generic mapping: G~ = s·G + H with H = SK_map · PK_map of the other side."""
    shared = other_public * own_private
    if shared == INFINITY:
        raise CardError(CardErrorReason.PROTOCOL, "mapping gives the point at infinity")
    mapped = suite.curve.generator * int.from_bytes(nonce, "big") + shared
    if mapped == INFINITY:
        raise CardError(CardErrorReason.PROTOCOL, "mapped generator is the point at infinity")
    return mapped


def shared_secret(suite: Suite, own_private: int, other_public: PointJacobi) -> bytes:
    """Step 3: K = x-coordinate of SK · PK on the mapped domain, as a field element."""
    point = other_public * own_private
    if point == INFINITY:
        raise CardError(CardErrorReason.PROTOCOL, "key agreement gives the point at infinity")
    x: int = point.x()
    return x.to_bytes(suite.field_length, "big")


def session_keys(suite: Suite, secret: bytes) -> tuple[bytes, bytes]:
    """KS_Enc and KS_MAC from the shared secret (9303-11 §9.7.1)."""
    return (
        derive_key(secret, KDF_ENC, suite.cipher, suite.key_bits),
        derive_key(secret, KDF_MAC, suite.cipher, suite.key_bits),
    )


def authentication_token(suite: Suite, ks_mac: bytes, public_point: bytes) -> bytes:
    """Step 4: MAC over the other side's ephemeral public key data object (9303-11 §4.4.3.4)."""
    data = encode_tlv(
        TAG_PUBLIC_KEY,
        encode_tlv(TAG_OID, encode_oid(suite.info.protocol)) + encode_tlv(TAG_EC_POINT, public_point),
    )
    if suite.cipher is SmCipher.TDES:
        return retail_mac(ks_mac, pad(data, 8))
    return aes_cmac(ks_mac, data)


def mse_set_at(info: PaceInfo, password_reference: int) -> CommandAPDU:
    """MSE:Set AT selecting PACE, its password and (when standardized) its domain parameters."""
    data = encode_tlv(0x80, encode_oid(info.protocol)) + encode_tlv(0x83, bytes((password_reference,)))
    if info.parameter_id is not None:
        data += encode_tlv(0x84, bytes((info.parameter_id,)))
    return CommandAPDU(0x00, INS_MSE, *MSE_SET_AT, data)


def _general_authenticate(data_objects: bytes, *, last: bool) -> CommandAPDU:
    cla = 0x00 if last else CLA_CHAINING
    return CommandAPDU(
        cla,
        INS_GENERAL_AUTHENTICATE,
        0x00,
        0x00,
        encode_tlv(TAG_DYNAMIC_AUTHENTICATION_DATA, data_objects),
        ne=256,
    )


def _dynamic_data(response: ResponseAPDU, tag: int) -> bytes:
    """The data object ``tag`` inside the 7C template of a GENERAL AUTHENTICATE response."""
    try:
        item = find(parse_single(response.data, TAG_DYNAMIC_AUTHENTICATION_DATA).children(), tag)
    except CardError as error:
        raise CardError(CardErrorReason.PROTOCOL, f"GENERAL AUTHENTICATE answer: {error.detail}") from error
    if item is None:
        raise CardError(CardErrorReason.PROTOCOL, f"GENERAL AUTHENTICATE answer without tag {tag:X}")
    return item.value


# --- reader side -----------------------------------------------------------------------------------


def perform_pace(
    transmit: Transmit, key: AccessKey, info: PaceInfo, *, random_bytes: RandomBytes = os.urandom
) -> SecureMessaging:
    """Run PACE through ``transmit`` and return the secure messaging channel (SSC 0)."""
    suite = Suite.for_info(info)
    selected = transmit(mse_set_at(info, key.password_reference))
    if not selected.ok and selected.sw1 != 0x63:  # 63CX: retry counter warning, PACE goes on
        raise CardError(CardErrorReason.PROTOCOL, f"MSE:Set AT answered {selected.sw:04X}")

    def step(data_objects: bytes, *, last: bool = False) -> ResponseAPDU:
        response = transmit(_general_authenticate(data_objects, last=last))
        if not response.ok:
            log.info("PACE step refused by the chip (SW %04X)", response.sw)
            reason = CardErrorReason.ACCESS_DENIED if last else CardErrorReason.PROTOCOL
            raise CardError(reason, f"GENERAL AUTHENTICATE answered {response.sw:04X}")
        return response

    encrypted = _dynamic_data(step(b""), TAG_ENCRYPTED_NONCE)
    nonce = decrypt_nonce(suite, suite.password_key(key), encrypted)

    map_private = suite.random_scalar(random_bytes)
    map_public = suite.curve.generator * map_private
    chip_map_public = suite.decode_point(
        _dynamic_data(step(encode_tlv(TAG_MAPPING_IFD, suite.encode_point(map_public))), TAG_MAPPING_IC)
    )
    generator = map_generator(suite, nonce, map_private, chip_map_public)

    ephemeral_private = suite.random_scalar(random_bytes)
    ephemeral_public = suite.encode_point(generator * ephemeral_private)
    chip_public_bytes = _dynamic_data(step(encode_tlv(TAG_EPHEMERAL_IFD, ephemeral_public)), TAG_EPHEMERAL_IC)
    chip_public = suite.decode_point(chip_public_bytes)
    if chip_public_bytes == ephemeral_public:
        raise CardError(CardErrorReason.PROTOCOL, "chip echoed our ephemeral public key")
    ks_enc, ks_mac = session_keys(suite, shared_secret(suite, ephemeral_private, chip_public))

    token = authentication_token(suite, ks_mac, chip_public_bytes)
    chip_token = _dynamic_data(step(encode_tlv(TAG_TOKEN_IFD, token), last=True), TAG_TOKEN_IC)
    if not hmac.compare_digest(chip_token, authentication_token(suite, ks_mac, ephemeral_public)):
        raise CardError(CardErrorReason.PROTOCOL, "chip's PACE authentication token does not verify")
    return SecureMessaging(suite.cipher, ks_enc, ks_mac, 0)


# --- card side -------------------------------------------------------------------------------------


class PaceCard:
    """Chip side of PACE for the emulator: MSE:Set AT and the four GENERAL AUTHENTICATE steps.

    A wrong password shows at the last step (the reader's token does not verify); like real chips we
    then answer 6300 and forget the run, so the reader has to start again with MSE:Set AT.
    """

    def __init__(self, key: AccessKey, info: PaceInfo, *, random_bytes: RandomBytes = os.urandom) -> None:
        self._key = key
        self._suite = Suite.for_info(info)
        self._password_key = self._suite.password_key(key)
        self._random_bytes = random_bytes
        self._session: CardSecureMessaging | None = None
        self.failed_attempts = 0
        self._reset()

    @property
    def session(self) -> CardSecureMessaging | None:
        return self._session

    def _reset(self) -> None:
        self._step = 0  # 0: no MSE yet, 1: MSE done, 2: nonce sent, 3: mapped, 4: keys agreed
        self._nonce = b""
        self._generator: PointJacobi | None = None
        self._own_public = b""
        self._reader_public = b""
        self._keys: tuple[bytes, bytes] | None = None

    def handle(self, command: CommandAPDU) -> ResponseAPDU | None:
        if command.ins == INS_MSE and (command.p1, command.p2) == MSE_SET_AT:
            return self._mse_set_at(command)
        if command.ins == INS_GENERAL_AUTHENTICATE and command.cla & ~CLA_CHAINING == 0:
            try:
                return self._general_authenticate(command)
            except CardError:
                self._reset()
                return ResponseAPDU.status(SW_WRONG_DATA)
        return None

    def _mse_set_at(self, command: CommandAPDU) -> ResponseAPDU:
        self._reset()
        self._session = None
        try:
            objects = parse_tlv(command.data)
        except CardError:
            return ResponseAPDU.status(SW_WRONG_DATA)
        protocol, password, parameters = (find(objects, tag) for tag in (0x80, 0x83, 0x84))
        info = self._suite.info
        if protocol is None or protocol.value != encode_oid(info.protocol):
            return ResponseAPDU.status(SW_WRONG_DATA)
        if password is None or password.value != bytes((self._key.password_reference,)):
            return ResponseAPDU.status(SW_REFERENCED_DATA_NOT_FOUND)
        if parameters is not None and parameters.value != bytes((info.parameter_id or 0,)):
            return ResponseAPDU.status(SW_WRONG_DATA)
        self._step = 1
        return ResponseAPDU.status(0x9000)

    def _general_authenticate(self, command: CommandAPDU) -> ResponseAPDU:
        objects = parse_single(command.data, TAG_DYNAMIC_AUTHENTICATION_DATA).children()
        last = command.cla == 0x00
        if self._step == 1 and not objects and not last:
            return self._send_encrypted_nonce()
        if self._step == 2 and (item := find(objects, TAG_MAPPING_IFD)) and not last:
            return self._map_nonce(item.value)
        if self._step == 3 and (item := find(objects, TAG_EPHEMERAL_IFD)) and not last:
            return self._agree_key(item.value)
        if self._step == 4 and (item := find(objects, TAG_TOKEN_IFD)) and last:
            return self._mutual_authentication(item.value)
        self._reset()
        return ResponseAPDU.status(SW_CONDITIONS_NOT_SATISFIED)

    def _send_encrypted_nonce(self) -> ResponseAPDU:
        self._nonce = self._random_bytes(self._suite.nonce_length)
        self._step = 2
        encrypted = encrypt_nonce(self._suite, self._password_key, self._nonce)
        return _dynamic_answer(encode_tlv(TAG_ENCRYPTED_NONCE, encrypted))

    def _map_nonce(self, reader_map_public: bytes) -> ResponseAPDU:
        suite = self._suite
        reader_point = suite.decode_point(reader_map_public)
        private = suite.random_scalar(self._random_bytes)
        self._generator = map_generator(suite, self._nonce, private, reader_point)
        self._step = 3
        return _dynamic_answer(
            encode_tlv(TAG_MAPPING_IC, suite.encode_point(suite.curve.generator * private))
        )

    def _agree_key(self, reader_public: bytes) -> ResponseAPDU:
        suite = self._suite
        assert self._generator is not None
        reader_point = suite.decode_point(reader_public)
        private = suite.random_scalar(self._random_bytes)
        self._own_public = suite.encode_point(self._generator * private)
        if self._own_public == reader_public:
            raise CardError(CardErrorReason.PROTOCOL, "reader echoed the chip's public key")
        self._reader_public = reader_public
        self._keys = session_keys(suite, shared_secret(suite, private, reader_point))
        self._step = 4
        return _dynamic_answer(encode_tlv(TAG_EPHEMERAL_IC, self._own_public))

    def _mutual_authentication(self, reader_token: bytes) -> ResponseAPDU:
        assert self._keys is not None
        ks_enc, ks_mac = self._keys
        expected = authentication_token(self._suite, ks_mac, self._own_public)
        if not hmac.compare_digest(expected, reader_token):
            self.failed_attempts += 1
            self._reset()
            return ResponseAPDU.status(SW_AUTHENTICATION_FAILED)
        token = authentication_token(self._suite, ks_mac, self._reader_public)
        self._session = CardSecureMessaging(self._suite.cipher, ks_enc, ks_mac, 0)
        self._reset()
        return _dynamic_answer(encode_tlv(TAG_TOKEN_IC, token))


def _dynamic_answer(data_objects: bytes) -> ResponseAPDU:
    return ResponseAPDU(encode_tlv(TAG_DYNAMIC_AUTHENTICATION_DATA, data_objects), 0x90, 0x00)
