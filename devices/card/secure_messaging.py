"""ICAO 9303-11 §9.8 secure messaging: 3DES (after BAC) and AES (after PACE), both directions.

Reader side ``SecureMessaging`` wraps commands and unwraps responses; card side
``CardSecureMessaging`` (for the emulator) does the mirror image. Both share the primitives in this
module: the key derivation function (§9.7.1), ISO 9797-1 padding method 2, the retail MAC
(ISO 9797-1 MAC algorithm 3) for 3DES and CMAC for AES, and the send sequence counter (SSC).

Any response that does not verify breaks the channel: we raise ``CardError(SECURE_MESSAGING)`` and
refuse further use, because the chip drops its session keys on such errors too.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

from devices.card.apdu import EXTENDED_MAX_NE, SHORT_MAX_NC, SHORT_MAX_NE, CommandAPDU, ResponseAPDU, Transmit
from devices.card.errors import CardError, CardErrorReason
from devices.card.tlv import Tlv, encode_length, encode_tlv, parse_tlv

# Key derivation counters (9303-11 §9.7.1).
KDF_ENC = 1
KDF_MAC = 2
KDF_PI = 3

MAC_LENGTH = 8
SM_CLA_BITS = 0x0C  # "secure messaging, header authenticated" in the class byte
PADDING_INDICATOR = b"\x01"  # first byte of DO87: ISO 9797-1 method 2 padding
TAG_CRYPTOGRAM_PADDED = 0x87
TAG_CRYPTOGRAM_ODD_INS = 0x85  # odd INS (e.g. READ BINARY B1): cryptogram without indicator
TAG_EXPECTED_LENGTH = 0x97
TAG_STATUS = 0x99
TAG_MAC = 0x8E
SW_SM_DATA_OBJECTS_MISSING = 0x6987
SW_SM_DATA_OBJECTS_INCORRECT = 0x6988


class SmCipher(StrEnum):
    TDES = "3DES"
    AES = "AES"

    @property
    def block_size(self) -> int:
        return 8 if self is SmCipher.TDES else 16


# --- primitives -----------------------------------------------------------------------------------


def derive_key(shared_secret: bytes, counter: int, cipher: SmCipher | str, key_bits: int = 128) -> bytes:
    """KDF(K, c) of 9303-11 §9.7.1: a hash over the secret and a 32-bit counter, cut to the key size.

    3DES and AES-128 use SHA-1, AES-192/256 use SHA-256. 3DES keys get their DES parity bits set so
    that they equal the values printed in the worked examples.
    """
    cipher = SmCipher(cipher)
    data = shared_secret + counter.to_bytes(4, "big")
    if cipher is SmCipher.TDES:
        if key_bits not in {112, 128}:
            raise ValueError("3DES secure messaging uses two-key 3DES")
        return adjust_des_parity(hashlib.sha1(data).digest()[:16])
    if key_bits == 128:
        return hashlib.sha1(data).digest()[:16]
    if key_bits in (192, 256):
        return hashlib.sha256(data).digest()[: key_bits // 8]
    raise ValueError(f"no AES-{key_bits}")


def adjust_des_parity(key: bytes) -> bytes:
    """Set the least significant bit of each byte so every byte has odd parity."""
    return bytes((byte & 0xFE) | ((bin(byte >> 1).count("1") + 1) % 2) for byte in key)


def pad(data: bytes, block_size: int) -> bytes:
    """ISO 9797-1 padding method 2: 0x80, then zeros up to a full block (always adds a byte)."""
    padded = data + b"\x80"
    return padded + bytes(-len(padded) % block_size)


def unpad(data: bytes) -> bytes:
    """Strictly undo padding method 2; anything else is a secure messaging error."""
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80:
        raise CardError(CardErrorReason.SECURE_MESSAGING, "bad ISO 9797-1 padding")
    return stripped[:-1]


def _tdes_key(key: bytes) -> bytes:
    """A 16-byte two-key 3DES key as the 24 bytes cryptography wants (K1 K2 K1)."""
    return key + key[:8] if len(key) == 16 else key


def block_encrypt(cipher: SmCipher, key: bytes, data: bytes, iv: bytes | None = None) -> bytes:
    """CBC encryption of whole blocks (no padding added here)."""
    algorithm = TripleDES(_tdes_key(key)) if cipher is SmCipher.TDES else algorithms.AES(key)
    iv = iv if iv is not None else bytes(cipher.block_size)
    encryptor = Cipher(algorithm, modes.CBC(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def block_decrypt(cipher: SmCipher, key: bytes, data: bytes, iv: bytes | None = None) -> bytes:
    if not data or len(data) % cipher.block_size:
        raise CardError(CardErrorReason.SECURE_MESSAGING, "cryptogram is not whole blocks")
    algorithm = TripleDES(_tdes_key(key)) if cipher is SmCipher.TDES else algorithms.AES(key)
    iv = iv if iv is not None else bytes(cipher.block_size)
    decryptor = Cipher(algorithm, modes.CBC(iv)).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO 9797-1 MAC algorithm 3 with DES: single-DES CBC with Ka, then 3DES on the last block.

    ``data`` must already be padded to 8 bytes.
    """
    ka, kb = key[:8], key[8:16]
    single_des = Cipher(TripleDES(ka * 3), modes.CBC(bytes(8))).encryptor()
    last = (single_des.update(data) + single_des.finalize())[-8:]
    decrypt_kb = Cipher(TripleDES(kb * 3), modes.ECB()).decryptor()
    encrypt_ka = Cipher(TripleDES(ka * 3), modes.ECB()).encryptor()
    return encrypt_ka.update(decrypt_kb.update(last))


def aes_cmac(key: bytes, data: bytes) -> bytes:
    """AES-CMAC (NIST SP 800-38B), truncated to 8 bytes as secure messaging uses it."""
    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()[:MAC_LENGTH]


def compute_mac(cipher: SmCipher, key: bytes, data: bytes) -> bytes:
    """The SM checksum over already padded data (9303-11 §9.8.6.2 and §9.8.7.2)."""
    return retail_mac(key, data) if cipher is SmCipher.TDES else aes_cmac(key, data)


# --- the channel -----------------------------------------------------------------------------------


class _SecureChannel:
    """State and crypto shared by both ends: keys, the send sequence counter, the broken flag."""

    def __init__(self, cipher: SmCipher | str, k_enc: bytes, k_mac: bytes, ssc: int | bytes = 0) -> None:
        self.cipher = SmCipher(cipher)
        self._k_enc = k_enc
        self._k_mac = k_mac
        self._ssc = int.from_bytes(ssc, "big") if isinstance(ssc, bytes) else ssc
        self.broken = False

    @property
    def ssc(self) -> bytes:
        return self._ssc.to_bytes(self.cipher.block_size, "big")

    def _next_ssc(self) -> bytes:
        self._ssc = (self._ssc + 1) % (1 << (8 * self.cipher.block_size))
        return self.ssc

    def _fail(self, detail: str) -> CardError:
        self.broken = True
        return CardError(CardErrorReason.SECURE_MESSAGING, detail)

    def _check_usable(self) -> None:
        if self.broken:
            raise CardError(CardErrorReason.SECURE_MESSAGING, "secure channel already broken")

    def _pad(self, data: bytes) -> bytes:
        return pad(data, self.cipher.block_size)

    def _mac(self, ssc: bytes, message: bytes) -> bytes:
        return compute_mac(self.cipher, self._k_mac, self._pad(ssc + message))

    def _iv(self, ssc: bytes) -> bytes:
        """3DES uses a zero IV; AES uses E(KSenc, SSC) (9303-11 §9.8.6.1)."""
        if self.cipher is SmCipher.TDES:
            return bytes(8)
        encryptor = Cipher(algorithms.AES(self._k_enc), modes.ECB()).encryptor()
        return encryptor.update(ssc) + encryptor.finalize()

    def _encrypt(self, ssc: bytes, plain: bytes) -> bytes:
        return block_encrypt(self.cipher, self._k_enc, self._pad(plain), self._iv(ssc))

    def _decrypt(self, ssc: bytes, cryptogram: bytes) -> bytes:
        return unpad(block_decrypt(self.cipher, self._k_enc, cryptogram, self._iv(ssc)))

    def _cryptogram_object(self, ins: int, ssc: bytes, plain: bytes) -> bytes:
        if ins & 1:
            return encode_tlv(TAG_CRYPTOGRAM_ODD_INS, self._encrypt(ssc, plain))
        return encode_tlv(TAG_CRYPTOGRAM_PADDED, PADDING_INDICATOR + self._encrypt(ssc, plain))

    def _verified_objects(
        self, ssc: bytes, header: bytes, data: bytes, allowed: tuple[int, ...], what: str
    ) -> dict[int, Tlv]:
        """The SM data objects of a protected command or response (``what``), once their DO8E is
        present, last, and verifies over ``header`` and the other objects; anything else breaks the
        channel."""
        try:
            objects = _parse_objects(data, allowed)
        except CardError as error:
            raise self._fail(f"{what} is not SM data objects: {error.detail}") from error
        mac_object = objects.get(TAG_MAC)
        if mac_object is None or list(objects)[-1] != TAG_MAC:
            raise self._fail("DO8E missing or not last")
        if TAG_CRYPTOGRAM_PADDED in objects and TAG_CRYPTOGRAM_ODD_INS in objects:
            raise self._fail("two cryptograms")
        covered = b"".join(item.to_bytes() for tag, item in objects.items() if tag != TAG_MAC)
        if not hmac.compare_digest(self._mac(ssc, header + covered), mac_object.value):
            raise self._fail(f"{what} MAC does not verify")
        return objects

    def _plain_data(self, objects: dict[int, Tlv], ssc: bytes) -> bytes:
        """The decrypted content of DO87 or DO85; empty when there is neither."""
        item = objects.get(TAG_CRYPTOGRAM_PADDED) or objects.get(TAG_CRYPTOGRAM_ODD_INS)
        if item is None:
            return b""
        if item.tag == TAG_CRYPTOGRAM_PADDED and not item.value.startswith(PADDING_INDICATOR):
            raise self._fail("unknown padding indicator")
        cryptogram = item.value[1:] if item.tag == TAG_CRYPTOGRAM_PADDED else item.value
        try:
            return self._decrypt(ssc, cryptogram)
        except CardError as error:
            raise self._fail(error.detail) from error

    def _masked_header(self, cla: int, ins: int, p1: int, p2: int) -> bytes:
        return self._pad(bytes((cla | SM_CLA_BITS, ins, p1, p2)))


def _parse_objects(data: bytes, allowed: tuple[int, ...]) -> dict[int, Tlv]:
    """SM data objects in order, each at most once, nothing unknown."""
    objects: dict[int, Tlv] = {}
    for item in parse_tlv(data):
        if item.tag not in allowed or item.tag in objects:
            raise CardError(CardErrorReason.SECURE_MESSAGING, f"unexpected SM data object {item.tag:X}")
        objects[item.tag] = item
    return objects


def _le_bytes(ne: int, extended: bool) -> bytes:
    """DO97 content: the plain Le, one byte (00 = 256) or two bytes (0000 = 65536)."""
    if extended:
        return (0 if ne >= EXTENDED_MAX_NE else ne).to_bytes(2, "big")
    return bytes((0 if ne >= SHORT_MAX_NE else ne,))


def _ne_from_le(le: bytes) -> int:
    if len(le) == 1:
        return le[0] or SHORT_MAX_NE
    if len(le) == 2:
        return int.from_bytes(le, "big") or EXTENDED_MAX_NE
    raise CardError(CardErrorReason.SECURE_MESSAGING, "bad DO97 length")


class SecureMessaging(_SecureChannel):
    """Reader side: protect commands, verify and decrypt responses."""

    def wrapped_response_size(self, ne: int) -> int:
        """Bytes a protected response carrying ``ne`` plain bytes takes (DO87 + DO99 + DO8E)."""
        padded = (ne // self.cipher.block_size + 1) * self.cipher.block_size
        cryptogram = 1 + padded
        return 1 + len(encode_length(cryptogram)) + cryptogram + 4 + 2 + MAC_LENGTH

    def wrap(self, command: CommandAPDU) -> CommandAPDU:
        self._check_usable()
        ssc = self._next_ssc()
        header = self._masked_header(command.cla, command.ins, command.p1, command.p2)
        objects = b""
        if command.data:
            objects += self._cryptogram_object(command.ins, ssc, command.data)
        if command.ne is not None:
            objects += encode_tlv(TAG_EXPECTED_LENGTH, _le_bytes(command.ne, command.needs_extended))
        checksum = self._mac(ssc, header + objects)
        body = objects + encode_tlv(TAG_MAC, checksum)
        extended = (
            command.needs_extended
            or len(body) > SHORT_MAX_NC
            or (command.ne is not None and self.wrapped_response_size(command.ne) > SHORT_MAX_NE)
        )
        return CommandAPDU(
            command.cla | SM_CLA_BITS,
            command.ins,
            command.p1,
            command.p2,
            body,
            EXTENDED_MAX_NE if extended else SHORT_MAX_NE,
        )

    def unwrap(self, response: ResponseAPDU) -> ResponseAPDU:
        self._check_usable()
        ssc = self._next_ssc()
        if not response.data:
            # A plain success or warning would bypass the MAC: refused. Plain errors carry nothing
            # to trust and pass through; 6987/6988 mean the chip dropped its keys (9303-11 §9.8.5),
            # other errors (some chips answer a missing file in the clear) leave the channel usable.
            if response.sw == 0x9000 or response.sw1 in (0x61, 0x62, 0x63):
                raise self._fail("unprotected response to a protected command")
            if response.sw in (SW_SM_DATA_OBJECTS_MISSING, SW_SM_DATA_OBJECTS_INCORRECT):
                self.broken = True
            return response
        allowed = (TAG_CRYPTOGRAM_PADDED, TAG_CRYPTOGRAM_ODD_INS, TAG_STATUS, TAG_MAC)
        objects = self._verified_objects(ssc, b"", response.data, allowed, "response")
        status = objects.get(TAG_STATUS)
        if status is None or len(status.value) != 2:
            raise self._fail("DO99 missing or not two bytes")
        return ResponseAPDU(self._plain_data(objects, ssc), status.value[0], status.value[1])

    def transmit_through(self, transmit: Transmit) -> Transmit:
        """A ``Transmit`` that protects every command sent through ``transmit``."""

        def secure_transmit(command: CommandAPDU) -> ResponseAPDU:
            return self.unwrap(transmit(self.wrap(command)))

        return secure_transmit


class CardSecureMessaging(_SecureChannel):
    """Card side (emulator): verify and decrypt commands, protect responses."""

    def __init__(self, cipher: SmCipher | str, k_enc: bytes, k_mac: bytes, ssc: int | bytes = 0) -> None:
        super().__init__(cipher, k_enc, k_mac, ssc)
        self._last_ins = 0xB0  # odd INS answers carry DO85 instead of DO87

    def unwrap_command(self, command: CommandAPDU) -> CommandAPDU:
        self._check_usable()
        ssc = self._next_ssc()
        if command.cla & SM_CLA_BITS != SM_CLA_BITS:
            raise self._fail("command without secure messaging")
        header = self._masked_header(command.cla, command.ins, command.p1, command.p2)
        allowed = (TAG_CRYPTOGRAM_PADDED, TAG_CRYPTOGRAM_ODD_INS, TAG_EXPECTED_LENGTH, TAG_MAC)
        objects = self._verified_objects(ssc, header, command.data, allowed, "command")
        data = self._plain_data(objects, ssc)
        expected = objects.get(TAG_EXPECTED_LENGTH)
        try:
            ne = _ne_from_le(expected.value) if expected else None
        except CardError as error:
            raise self._fail(error.detail) from error
        self._last_ins = command.ins
        return CommandAPDU(command.cla & ~SM_CLA_BITS & 0xFF, command.ins, command.p1, command.p2, data, ne)

    def wrap_response(self, response: ResponseAPDU) -> ResponseAPDU:
        """Protect the response to the command last unwrapped."""
        self._check_usable()
        ssc = self._next_ssc()
        objects = self._cryptogram_object(self._last_ins, ssc, response.data) if response.data else b""
        objects += encode_tlv(TAG_STATUS, bytes((response.sw1, response.sw2)))
        return ResponseAPDU(
            objects + encode_tlv(TAG_MAC, self._mac(ssc, objects)), response.sw1, response.sw2
        )
