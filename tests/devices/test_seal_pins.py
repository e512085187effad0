"""Where the seal PIN is kept, and how token refusals read (no SoftHSM2 needed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import keyring
import keyring.backends.fail
import pkcs11
import pytest

from devices.seal import token as token_module
from devices.seal.config import SealConfig
from devices.seal.errors import SealError, SealFailure
from devices.seal.pin_store import SERVICE, PinStore, default_backend, file_backend

if TYPE_CHECKING:
    from pathlib import Path


def test_explicit_keyring_file_is_used_and_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "kr" / "keyring.cfg"
    monkeypatch.setenv("TRESEN_KEYRING_FILE", str(path))
    store = PinStore()
    store.set_pin("Token A", "12345678")
    assert PinStore(file_backend(path)).get_pin("Token A") == "12345678"
    assert path.stat().st_mode & 0o777 == 0o600
    # keyrings.alt's plaintext backend only base64-encodes: the file mode is the protection.
    assert "MTIzNDU2Nzg=" in path.read_text()
    assert PinStore(file_backend(path)).get_pin("Token B") is None


def test_without_a_desktop_keyring_the_file_backend_in_the_data_dir_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRESEN_KEYRING_FILE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setattr(keyring, "get_keyring", keyring.backends.fail.Keyring)
    backend = default_backend()
    backend.set_password(SERVICE, "Token", "87654321")
    assert (tmp_path / "tresen" / "keyring.cfg").exists()


class _RefusingToken:
    def __init__(self, error: type[Exception]) -> None:
        self.error = error

    def open(self, user_pin: str) -> None:  # noqa: ARG002  (pkcs11.Token.open's keyword)
        raise self.error()


@pytest.mark.parametrize(
    ("error", "failure", "words"),
    [
        (pkcs11.PinLocked, SealFailure.PIN_LOCKED, "gesperrt"),
        (pkcs11.PinIncorrect, SealFailure.WRONG_PIN, "PIN des Siegel-Tokens ist falsch"),
        (pkcs11.DeviceRemoved, SealFailure.TOKEN_ERROR, "verweigert"),
    ],
)
def test_login_refusals_become_german_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: type[Exception], failure: SealFailure, words: str
) -> None:
    # SoftHSM2 never locks a user PIN, so a locked token is played by a token that refuses the login.
    monkeypatch.setattr(token_module, "find_token", lambda _config: _RefusingToken(error))
    pins = PinStore(file_backend(tmp_path / "kr.cfg"))
    pins.set_pin(SealConfig().token_label, "12345678")
    with pytest.raises(SealError) as refused, token_module.open_seal_token(SealConfig(), pins):
        pass
    assert refused.value.failure is failure
    assert words in str(refused.value)
