"""The seal token's PIN lives in the OS keyring (`devices.secret_store`), never in Tresen's files."""

from __future__ import annotations

from typing import TYPE_CHECKING

import keyring.errors

from devices.secret_store import KEYRING_FILE_ENV, default_backend, file_backend

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "tresen-seal"
__all__ = ["KEYRING_FILE_ENV", "SERVICE", "PinStore", "default_backend", "file_backend"]


class PinStore:
    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self.backend = backend or default_backend()

    def get_pin(self, token_label: str) -> str | None:
        try:
            pin: str | None = self.backend.get_password(SERVICE, token_label)
        except keyring.errors.KeyringError:
            from devices.seal.errors import SealError, SealFailure

            raise SealError(SealFailure.KEYRING_ERROR, "keyring read failed") from None
        return pin

    def set_pin(self, token_label: str, pin: str) -> None:
        self.backend.set_password(SERVICE, token_label, pin)
