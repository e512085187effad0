"""Basic Access Control (ICAO 9303-11 §4.3): 3DES mutual authentication with keys from the MRZ.

Reader side: ``perform_bac`` (GET CHALLENGE, EXTERNAL AUTHENTICATE, session keys). Card side:
``BacCard`` answers the same two commands for the emulator. Both take ``random_bytes`` so the
worked example of Appendix D can be replayed exactly; in use it is ``os.urandom``.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from devices.card.apdu import CommandAPDU, ResponseAPDU, Transmit
from devices.card.errors import CardError, CardErrorReason
from devices.card.secure_messaging import (
    KDF_ENC,
    KDF_MAC,
    CardSecureMessaging,
    SecureMessaging,
    SmCipher,
    block_decrypt,
    block_encrypt,
    derive_key,
    pad,
    retail_mac,
)

if TYPE_CHECKING:
    from devices.card.access import MrzKey

log = logging.getLogger(__name__)

RandomBytes = Callable[[int], bytes]

INS_GET_CHALLENGE = 0x84
INS_EXTERNAL_AUTHENTICATE = 0x82
CHALLENGE_LENGTH = 8
KEY_MATERIAL_LENGTH = 16
CRYPTOGRAM_LENGTH = 32
AUTHENTICATION_LENGTH = CRYPTOGRAM_LENGTH + 8  # E || M
SW_AUTHENTICATION_FAILED = 0x6300


@dataclass(frozen=True, slots=True)
class BacKeys:
    """K_Enc and K_MAC for the mutual authentication, derived from the MRZ (9303-11 §9.7.2)."""

    k_enc: bytes
    k_mac: bytes

    @classmethod
    def from_mrz_key(cls, key: MrzKey) -> BacKeys:
        seed = key.key_seed()
        return cls(derive_key(seed, KDF_ENC, SmCipher.TDES), derive_key(seed, KDF_MAC, SmCipher.TDES))


def authentication_data(keys: BacKeys, first_nonce: bytes, second_nonce: bytes, key_material: bytes) -> bytes:
    """E || M: 3DES-CBC over nonce || nonce || key material, then the retail MAC of that cryptogram."""
    cryptogram = block_encrypt(SmCipher.TDES, keys.k_enc, first_nonce + second_nonce + key_material)
    return cryptogram + retail_mac(keys.k_mac, pad(cryptogram, 8))


def open_authentication_data(keys: BacKeys, data: bytes) -> tuple[bytes, bytes, bytes] | None:
    """Check the MAC and decrypt E || M; ``None`` if it does not verify."""
    if len(data) != AUTHENTICATION_LENGTH:
        return None
    cryptogram, mac = data[:CRYPTOGRAM_LENGTH], data[CRYPTOGRAM_LENGTH:]
    if not hmac.compare_digest(retail_mac(keys.k_mac, pad(cryptogram, 8)), mac):
        return None
    plain = block_decrypt(SmCipher.TDES, keys.k_enc, cryptogram)
    return plain[:8], plain[8:16], plain[16:]


def session_keys(k_ifd: bytes, k_ic: bytes) -> tuple[bytes, bytes]:
    """KS_Enc and KS_MAC from K_seed = K.IFD xor K.IC."""
    seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
    return derive_key(seed, KDF_ENC, SmCipher.TDES), derive_key(seed, KDF_MAC, SmCipher.TDES)


def initial_ssc(rnd_ic: bytes, rnd_ifd: bytes) -> bytes:
    """The four least significant bytes of each challenge."""
    return rnd_ic[4:] + rnd_ifd[4:]


def perform_bac(
    transmit: Transmit, key: MrzKey, *, random_bytes: RandomBytes = os.urandom
) -> SecureMessaging:
    """Run BAC through ``transmit``; returns the 3DES secure messaging channel."""
    keys = BacKeys.from_mrz_key(key)
    challenge = transmit(CommandAPDU(0x00, INS_GET_CHALLENGE, 0x00, 0x00, ne=CHALLENGE_LENGTH))
    if not challenge.ok or len(challenge.data) != CHALLENGE_LENGTH:
        raise CardError(CardErrorReason.PROTOCOL, f"GET CHALLENGE answered {challenge.sw:04X}")
    rnd_ic = challenge.data
    rnd_ifd = random_bytes(CHALLENGE_LENGTH)
    k_ifd = random_bytes(KEY_MATERIAL_LENGTH)
    response = transmit(
        CommandAPDU(
            0x00,
            INS_EXTERNAL_AUTHENTICATE,
            0x00,
            0x00,
            authentication_data(keys, rnd_ifd, rnd_ic, k_ifd),
            AUTHENTICATION_LENGTH,
        )
    )
    if not response.ok:
        log.info("BAC refused by the chip (SW %04X)", response.sw)
        raise CardError(CardErrorReason.ACCESS_DENIED, f"EXTERNAL AUTHENTICATE answered {response.sw:04X}")
    opened = open_authentication_data(keys, response.data)
    if opened is None:
        raise CardError(CardErrorReason.PROTOCOL, "chip's BAC cryptogram does not verify")
    echoed_ic, echoed_ifd, k_ic = opened
    if not (hmac.compare_digest(echoed_ic, rnd_ic) and hmac.compare_digest(echoed_ifd, rnd_ifd)):
        raise CardError(CardErrorReason.PROTOCOL, "chip did not echo the BAC challenges")
    ks_enc, ks_mac = session_keys(k_ifd, k_ic)
    return SecureMessaging(SmCipher.TDES, ks_enc, ks_mac, initial_ssc(rnd_ic, rnd_ifd))


class BacCard:
    """Chip side of BAC for the emulator: answers GET CHALLENGE and EXTERNAL AUTHENTICATE."""

    def __init__(self, key: MrzKey, *, random_bytes: RandomBytes = os.urandom) -> None:
        self._keys = BacKeys.from_mrz_key(key)
        self._random_bytes = random_bytes
        self._challenge: bytes | None = None
        self._session: CardSecureMessaging | None = None

    @property
    def session(self) -> CardSecureMessaging | None:
        return self._session

    def handle(self, command: CommandAPDU) -> ResponseAPDU | None:
        """Answer BAC commands; ``None`` for anything else (the card handles it)."""
        if command.cla != 0x00 or command.ins not in (INS_GET_CHALLENGE, INS_EXTERNAL_AUTHENTICATE):
            return None
        if command.ins == INS_GET_CHALLENGE:
            return self._get_challenge(command)
        return self._external_authenticate(command)

    def _get_challenge(self, command: CommandAPDU) -> ResponseAPDU:
        if command.ne != CHALLENGE_LENGTH or command.data:
            return ResponseAPDU.status(0x6700)
        self._session = None  # a new authentication ends the old session, as on real chips
        self._challenge = self._random_bytes(CHALLENGE_LENGTH)
        return ResponseAPDU(self._challenge, 0x90, 0x00)

    def _external_authenticate(self, command: CommandAPDU) -> ResponseAPDU:
        challenge, self._challenge = self._challenge, None  # one attempt per challenge
        if challenge is None:
            return ResponseAPDU.status(0x6985)
        if len(command.data) != AUTHENTICATION_LENGTH:
            return ResponseAPDU.status(0x6700)
        opened = open_authentication_data(self._keys, command.data)
        if opened is None or not hmac.compare_digest(opened[1], challenge):
            return ResponseAPDU.status(SW_AUTHENTICATION_FAILED)
        rnd_ifd, _, k_ifd = opened
        k_ic = self._random_bytes(KEY_MATERIAL_LENGTH)
        ks_enc, ks_mac = session_keys(k_ifd, k_ic)
        self._session = CardSecureMessaging(SmCipher.TDES, ks_enc, ks_mac, initial_ssc(challenge, rnd_ifd))
        return ResponseAPDU(authentication_data(self._keys, challenge, rnd_ifd, k_ic), 0x90, 0x00)
