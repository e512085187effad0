"""The workstation's own key pair, which signs every request to the central service.

Two homes, one interface (`sync.signatures.RequestKey`):
- a PKCS#11 token (python-pkcs11; SoftHSM2 in the tests): the key is generated on the token as
  sensitive and not extractable, so it never leaves it; the token PIN is in the keyring;
- a PEM file, encrypted with a random passphrase kept in the keyring, the file 0600 in a 0700
  directory, for workstations without a token.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import keyring.errors
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from devices.secret_store import default_backend
from sync.signatures import FileRequestKey, public_pem

if TYPE_CHECKING:
    from pathlib import Path

    import pkcs11
    from keyring.backend import KeyringBackend

KEYRING_SERVICE = "tresen-workstation"


class WorkstationKeyError(Exception):
    """The key cannot be made or used; `reason` is English, for the log (the CLI says it in German)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TokenKeyConfig:
    module: Path
    token_label: str
    key_label: str = "tresen-workstation"


class TokenRequestKey:
    """A P-256 key on a PKCS#11 token. One logged-in session, used by one thread at a time."""

    def __init__(self, session: pkcs11.Session, private: pkcs11.SignMixin, public_pem_text: str) -> None:
        self._session = session
        self._private = private
        self._public_pem = public_pem_text
        self._lock = threading.Lock()  # PKCS#11 sessions are not to be shared between threads at once

    def sign(self, data: bytes) -> bytes:
        from pkcs11 import Mechanism

        # CKM_ECDSA over the SHA-256 digest: every token has it (CKM_ECDSA_SHA256 is optional).
        digest = hashlib.sha256(data).digest()
        with self._lock:
            return bytes(self._private.sign(digest, mechanism=Mechanism.ECDSA))

    def public_key_pem(self) -> str:
        return self._public_pem

    def close(self) -> None:
        with self._lock:
            self._session.close()


def stored_token_pin(config: TokenKeyConfig, *, backend: KeyringBackend | None = None) -> str:
    """The token's PIN as enrollment kept it in the keyring (a key rotation makes its key with it)."""
    return _token_pin(config, backend or default_backend())


def _token_pin(config: TokenKeyConfig, backend: KeyringBackend) -> str:
    try:
        pin = backend.get_password(KEYRING_SERVICE, f"token:{config.token_label}")
    except keyring.errors.KeyringError:
        raise WorkstationKeyError("keyring read failed") from None
    if pin is None:
        raise WorkstationKeyError(f"no keyring entry for token {config.token_label!r}")
    return str(pin)


def _open_token_session(config: TokenKeyConfig, pin: str) -> pkcs11.Session:
    import pkcs11

    if not config.module.exists():
        raise WorkstationKeyError(f"PKCS#11 module {config.module} missing")
    try:
        library = pkcs11.lib(str(config.module))
        try:
            token = library.get_token(token_label=config.token_label)
        except pkcs11.NoSuchToken:
            library.reinitialize()  # a token made after the library was loaded
            token = library.get_token(token_label=config.token_label)
        try:
            return token.open(user_pin=pin, rw=True)
        except pkcs11.UserAlreadyLoggedIn:
            # This process holds a logged-in session already (the login is per token and process).
            return token.open(rw=True)
    except pkcs11.NoSuchToken:
        raise WorkstationKeyError(f"no token labelled {config.token_label!r}") from None
    except pkcs11.PinIncorrect:
        raise WorkstationKeyError("C_Login: CKR_PIN_INCORRECT") from None
    except (pkcs11.PKCS11Error, OSError, RuntimeError) as error:
        raise WorkstationKeyError(f"token: {type(error).__name__}") from None


def _public_pem_of(public: pkcs11.PublicKey) -> str:
    from pkcs11.util.ec import encode_ec_public_key

    key = serialization.load_der_public_key(encode_ec_public_key(public))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return public_pem(key)


def create_token_key(
    config: TokenKeyConfig, pin: str, *, backend: KeyringBackend | None = None
) -> TokenRequestKey:
    """Generate the key pair on the token (sensitive, not extractable) and keep its PIN in the keyring."""
    import pkcs11
    from pkcs11 import Attribute, KeyType, ObjectClass
    from pkcs11.util.ec import encode_named_curve_parameters

    backend = backend or default_backend()
    session = _open_token_session(config, pin)
    try:
        for stale in session.get_objects({Attribute.LABEL: config.key_label}):
            stale.destroy()  # a new enrollment replaces the key of an earlier one
        parameters = session.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True
        )
        public, private = parameters.generate_keypair(
            store=True,
            label=config.key_label,
            private_template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False},
        )
        backend.set_password(KEYRING_SERVICE, f"token:{config.token_label}", pin)
        if not isinstance(private, pkcs11.SignMixin) or private[Attribute.CLASS] != ObjectClass.PRIVATE_KEY:
            raise WorkstationKeyError("the token made a key that cannot sign")
        return TokenRequestKey(session, private, _public_pem_of(public))
    except WorkstationKeyError:
        session.close()
        raise
    except pkcs11.PKCS11Error as error:
        session.close()
        raise WorkstationKeyError(f"key generation on the token failed: {type(error).__name__}") from None


def open_token_key(config: TokenKeyConfig, *, backend: KeyringBackend | None = None) -> TokenRequestKey:
    import pkcs11
    from pkcs11 import KeyType, ObjectClass

    session = _open_token_session(config, _token_pin(config, backend or default_backend()))
    try:
        private = session.get_key(ObjectClass.PRIVATE_KEY, KeyType.EC, label=config.key_label)
        public = session.get_key(ObjectClass.PUBLIC_KEY, KeyType.EC, label=config.key_label)
    except (pkcs11.NoSuchKey, pkcs11.MultipleObjectsReturned):
        session.close()
        raise WorkstationKeyError(f"no key {config.key_label!r} on the token") from None
    if not isinstance(private, pkcs11.SignMixin) or not isinstance(public, pkcs11.PublicKey):
        session.close()
        raise WorkstationKeyError("the token's key cannot sign")
    return TokenRequestKey(session, private, _public_pem_of(public))


def delete_token_key(config: TokenKeyConfig, *, backend: KeyringBackend | None = None) -> None:
    """Destroy the key pair labelled `config.key_label` on the token (a rotated-out key); the PIN stays,
    the token's other keys use it."""
    import pkcs11

    session = _open_token_session(config, _token_pin(config, backend or default_backend()))
    try:
        for stale in session.get_objects({pkcs11.Attribute.LABEL: config.key_label}):
            stale.destroy()
    except pkcs11.PKCS11Error as error:
        raise WorkstationKeyError(f"destroying the key failed: {type(error).__name__}") from None
    finally:
        session.close()


# --- key file ------------------------------------------------------------------------------------------


def _file_entry(path: Path) -> str:
    return f"file:{path.resolve()}"


def create_key_file(path: Path, *, backend: KeyringBackend | None = None) -> FileRequestKey:
    """A new key in an encrypted PEM file (0600, directory 0700); the passphrase goes to the keyring."""
    backend = backend or default_backend()
    key = FileRequestKey.generate()
    passphrase = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_pem(passphrase.encode("ascii")))
    path.chmod(0o600)
    backend.set_password(KEYRING_SERVICE, _file_entry(path), passphrase)
    return key


def open_key_file(path: Path, *, backend: KeyringBackend | None = None) -> FileRequestKey:
    backend = backend or default_backend()
    try:
        passphrase = backend.get_password(KEYRING_SERVICE, _file_entry(path))
    except keyring.errors.KeyringError:
        raise WorkstationKeyError("keyring read failed") from None
    if passphrase is None:
        raise WorkstationKeyError(f"no keyring entry for key file {path}")
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=passphrase.encode("ascii"))
    except OSError as error:
        raise WorkstationKeyError(f"key file unreadable: {type(error).__name__}") from None
    except (ValueError, TypeError):
        raise WorkstationKeyError("key file damaged or passphrase wrong") from None
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise WorkstationKeyError("key file holds no EC key")
    return FileRequestKey(loaded)


def delete_key_file(path: Path, *, backend: KeyringBackend | None = None) -> None:
    """Remove a rotated-out key file and its passphrase from the keyring."""
    backend = backend or default_backend()
    path.unlink(missing_ok=True)
    try:
        backend.delete_password(KEYRING_SERVICE, _file_entry(path))
    except keyring.errors.PasswordDeleteError:
        pass  # gone already
    except keyring.errors.KeyringError:
        raise WorkstationKeyError("keyring delete failed") from None
