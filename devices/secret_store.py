"""Where Tresen's secrets live: the OS keyring, never Tresen's own files.

Where no desktop keyring exists (a kiosk, a container, CI), `keyring` falls back to its fail
backend; Tresen then uses keyrings.alt's file backend at TRESEN_KEYRING_FILE (or the user's data
directory), a 0600 file in a 0700 directory. Tests point TRESEN_KEYRING_FILE at a temporary file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import keyring
from keyrings.alt.file import PlaintextKeyring
from platformdirs import user_data_path

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

KEYRING_FILE_ENV = "TRESEN_KEYRING_FILE"


def default_backend() -> KeyringBackend:
    """The desktop keyring if there is one; else (or when TRESEN_KEYRING_FILE is set) the file backend."""
    explicit = os.environ.get(KEYRING_FILE_ENV)
    if explicit is None:
        backend = keyring.get_keyring()
        if backend.priority > 0 and not isinstance(backend, PlaintextKeyring):
            return backend
    return file_backend(Path(explicit) if explicit else user_data_path("tresen") / "keyring.cfg")


def file_backend(path: Path) -> KeyringBackend:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    backend = _FileKeyring()
    backend.file_path = str(path)
    return backend


class _FileKeyring(PlaintextKeyring):  # type: ignore[misc]  # keyrings.alt ships no types
    """keyrings.alt's file backend, with the file kept private to the user."""

    file_path: str

    def set_password(self, service: str, username: str, password: str) -> None:
        super().set_password(service, username, password)
        Path(self.file_path).chmod(0o600)
