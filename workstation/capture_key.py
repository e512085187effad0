"""The per-installation key that encrypts captures at rest (AES-256-GCM, `workstation.captures`).

Photos, signature images and fingerprints are biometric data (Art. 9 GDPR): the local store holds
them only encrypted under this key, which lives in the OS keyring (`devices.secret_store`: service
"tresen-captures", user "aes-key"; without a desktop keyring the 0600 file at TRESEN_KEYRING_FILE),
never beside the store. Made on first use, read once per process (like `workstation.audit_key`).
A lost key makes the stored captures unreadable — they are short-lived (purged with the case), so
the clerk fetches again; nothing is ever stored unencrypted instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workstation.audit_key import KeyHolder, keyring_key
from workstation.errors import TresenError
from workstation.i18n import _

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "tresen-captures"
USERNAME = "aes-key"


class CaptureKeyError(TresenError):
    """The capture key cannot be had: nothing is stored (or shown) without it."""


def load_or_create(backend: KeyringBackend) -> bytes:
    return keyring_key(
        backend,
        SERVICE,
        USERNAME,
        unreadable=CaptureKeyError(
            _("Der Schlüssel für Aufnahmen ist im Schlüsselbund nicht lesbar. Bitte die IT informieren."),
            "capture key: keyring failed",
        ),
        damaged=CaptureKeyError(
            _("Der Schlüssel für Aufnahmen im Schlüsselbund ist beschädigt. Bitte die IT informieren."),
            "capture key in the keyring is not 32 bytes",
        ),
    )


_holder = KeyHolder(load_or_create)


def capture_key() -> bytes:
    """The 32-byte AES key of this installation's captures."""
    return _holder.key()


def use_backend(backend: KeyringBackend | None) -> None:
    """Where the key comes from (tests, the demo): `backend`, or None for the default keyring."""
    _holder.use_backend(backend)
