"""The key that gets a clerk who logged in offline a central session once the central service is back.

At an online login the workstation makes a P-256 key, sends its public half with the login (the
central service keeps it for that clerk at this workstation) and keeps the private half in the OS
keyring, sealed under the clerk's PIN: AES-256-GCM under a key argon2id derives from the PIN with a
random salt (`sync.pins.derive_key`, the verifiers' parameters), the workstation and clerk as
associated data. An offline login that knows the PIN unseals it; on reconnect it signs a statement
(`sync.signatures.offline_login_proof`) in a request the workstation signs too. So the PIN is never
kept in memory, and the workstation's key alone cannot open a supervisor's session.

A copy of the keyring entry is as hard to guess from as the cached verifier beside it (the same
argon2id cost per guess); a PIN changed centrally drops the public half there.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sync import pins
from sync.signatures import FileRequestKey

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "tresen-offline-login"
_VERSION = "v1"


def _entry(workstation_id: str, clerk_id: str) -> str:
    return f"{workstation_id}:{clerk_id}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def new_offline_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def seal(
    backend: KeyringBackend, workstation_id: str, clerk_id: str, pin: str, private: ec.EllipticCurvePrivateKey
) -> None:
    """Keep `private` in the keyring, sealed under `pin` (replacing the clerk's earlier one)."""
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    plain = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    sealed = AESGCM(pins.derive_key(pin, salt)).encrypt(
        nonce, plain, _entry(workstation_id, clerk_id).encode()
    )
    text = ".".join((_VERSION, _b64(salt), _b64(nonce), _b64(sealed)))
    backend.set_password(SERVICE, _entry(workstation_id, clerk_id), text)


def unseal(backend: KeyringBackend, workstation_id: str, clerk_id: str, pin: str) -> FileRequestKey | None:
    """The clerk's offline key, unsealed with `pin`; None when there is none, it is damaged, or the PIN
    does not open it. Raises keyring errors (the caller logs them)."""
    text = backend.get_password(SERVICE, _entry(workstation_id, clerk_id))
    if text is None:
        return None
    try:
        version, *parts = str(text).split(".")
        if version != _VERSION or len(parts) != 3:
            return None
        salt, nonce, sealed = (base64.urlsafe_b64decode(part) for part in parts)
        plain = AESGCM(pins.derive_key(pin, salt)).decrypt(
            nonce, sealed, _entry(workstation_id, clerk_id).encode()
        )
        private = serialization.load_der_private_key(plain, password=None)
    except (ValueError, binascii.Error, InvalidTag):
        return None
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        return None
    return FileRequestKey(private)
