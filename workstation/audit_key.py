"""The per-installation secret that keys the audit trail's identifier hashes.

A plain sha256 of a name, a birth date or a document number is reversed by hashing guesses: such
values can be enumerated (a birth date has some 40 000, names come in lists) and a fixed prefix is
in the source. An HMAC-SHA256 under a secret the installation alone holds cannot be checked
against guesses without that secret. The secret is 32 random bytes, kept as urlsafe base64 text in
the OS keyring (`devices.secret_store`: service "tresen-audit", user "hmac-key"), created on first
use; losing it only means new hashes no longer match old ones — the chain still verifies.

It is read once per process and then kept in memory: `audit.record` runs inside clerk commands and
sync, and a desktop keyring read is a D-Bus round trip (a locked keyring may even ask to unlock).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from typing import TYPE_CHECKING

from workstation.errors import TresenError
from workstation.i18n import _

if TYPE_CHECKING:
    from collections.abc import Callable

    from keyring.backend import KeyringBackend

SERVICE = "tresen-audit"
USERNAME = "hmac-key"
KEY_BYTES = 32


class AuditKeyError(TresenError):
    """The audit key cannot be had: nothing is audited without it, so the action stops."""


def new_key_text() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def decode_key(text: str, damaged: TresenError | None = None) -> bytes:
    """The key bytes of the keyring's text; a damaged entry is refused (`damaged`, else the audit
    key's error), never used short."""
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise damaged or AuditKeyError(
            _("Der Schlüssel des Prüfprotokolls im Schlüsselbund ist beschädigt. Bitte die IT informieren."),
            "audit key in the keyring is not 32 bytes",
        )
    return key


def keyring_key(
    backend: KeyringBackend, service: str, username: str, *, unreadable: TresenError, damaged: TresenError
) -> bytes:
    """A 32-byte installation key from `backend` (service, username), created there on first use;
    `unreadable` and `damaged` are what the caller's clerk is told (also `workstation.capture_key`)."""
    import keyring.errors

    try:
        text = backend.get_password(service, username)
        if text is None:
            text = new_key_text()
            backend.set_password(service, username, text)
    except keyring.errors.KeyringError as error:
        detail = f"{unreadable} ({type(error).__name__})"  # the log line names the keyring's failure
        raise type(unreadable)(unreadable.user_message, detail) from None
    return decode_key(text, damaged)


def load_or_create(backend: KeyringBackend) -> bytes:
    """The installation's key from `backend`, created there on first use."""
    return keyring_key(
        backend,
        SERVICE,
        USERNAME,
        unreadable=AuditKeyError(
            _(
                "Der Schlüssel des Prüfprotokolls ist im Schlüsselbund nicht lesbar. "
                "Bitte die IT informieren."
            ),
            "audit key: keyring failed",
        ),
        damaged=AuditKeyError(
            _("Der Schlüssel des Prüfprotokolls im Schlüsselbund ist beschädigt. Bitte die IT informieren."),
            "audit key in the keyring is not 32 bytes",
        ),
    )


class KeyHolder:
    """This process's key: loaded at first use by `load`, from the backend given or the default one
    (also `workstation.capture_key`'s)."""

    def __init__(self, load: Callable[[KeyringBackend], bytes]) -> None:
        self._load = load
        self._lock = threading.Lock()  # the UI and the sync worker may hash at the same time
        self._backend: KeyringBackend | None = None
        self._key: bytes | None = None

    def key(self) -> bytes:
        key = self._key
        if key is not None:
            return key  # once loaded, no lock and no keyring
        with self._lock:
            if self._key is None:
                self._key = self._load(self._backend or _default_backend())
            return self._key

    def use_backend(self, backend: KeyringBackend | None) -> None:
        """Take the key from `backend` (None: the default keyring again), loaded at the next hash."""
        with self._lock:
            self._backend, self._key = backend, None


def _default_backend() -> KeyringBackend:
    from devices.secret_store import default_backend  # loads keyring only when a hash is made

    return default_backend()


_holder = KeyHolder(load_or_create)


def identifier_key() -> bytes:
    """The key `audit.hash_identifier` uses, the same for the whole process."""
    return _holder.key()


def use_backend(backend: KeyringBackend | None) -> None:
    """Where the key comes from (tests, the demo): `backend`, or None for the default keyring."""
    _holder.use_backend(backend)
