"""Opening the seal token with python-pkcs11: one session, the key and its certificate by label.

PKCS#11 errors become `SealError`s with the reason (wrong PIN, locked, no token …), so no caller
needs to know python-pkcs11's exception types.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pkcs11
from asn1crypto import x509
from pkcs11 import Attribute, ObjectClass

from devices.seal.errors import SealError, SealFailure

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pkcs11._pkcs11 import lib as pkcs11_library

    from devices.seal.config import SealConfig
    from devices.seal.pin_store import PinStore


@dataclass(frozen=True)
class OpenToken:
    session: pkcs11.Session
    key: pkcs11.SignMixin  # the private seal key; python-pkcs11 types signing as a mixin
    certificate: x509.Certificate


def load_library(config: SealConfig) -> pkcs11_library:
    if not config.module.exists():
        raise SealError(SealFailure.NO_MODULE, f"module {config.module} missing")
    try:
        return pkcs11.lib(str(config.module))
    except (OSError, RuntimeError, pkcs11.PKCS11Error) as error:
        detail = f"cannot load {config.module}: {type(error).__name__}"
        raise SealError(SealFailure.NO_MODULE, detail) from None


def find_token(config: SealConfig) -> pkcs11.Token:
    library = load_library(config)
    for attempt in range(2):
        try:
            token: pkcs11.Token = library.get_token(token_label=config.token_label)
            return token
        except (pkcs11.NoSuchToken, pkcs11.MultipleTokensReturned):
            if attempt == 0:
                # A token created (or plugged in) after the library was loaded is seen only
                # after C_Finalize/C_Initialize.
                library.reinitialize()
    raise SealError(SealFailure.NO_TOKEN, f"no token labelled {config.token_label!r}")


@contextmanager
def open_seal_token(
    config: SealConfig, pins: PinStore, now: datetime | None = None, *, require_valid: bool = True
) -> Iterator[OpenToken]:
    """The logged-in token with the seal key and its certificate, which must be valid at `now`."""
    token = find_token(config)
    pin = pins.get_pin(config.token_label)
    if pin is None:
        raise SealError(SealFailure.NO_PIN, f"no keyring entry for token {config.token_label!r}")
    try:
        session = token.open(user_pin=pin)
    except pkcs11.PinIncorrect:
        raise SealError(SealFailure.WRONG_PIN, "C_Login: CKR_PIN_INCORRECT") from None
    except pkcs11.PinLocked:
        raise SealError(SealFailure.PIN_LOCKED, "C_Login: CKR_PIN_LOCKED") from None
    except pkcs11.PKCS11Error as error:
        raise SealError(SealFailure.TOKEN_ERROR, f"C_Login: {type(error).__name__}") from None
    try:
        certificate = read_certificate(session, config.key_label)
        if require_valid:
            check_validity(certificate, now or datetime.now(UTC))
        try:
            key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=config.key_label)
        except (pkcs11.NoSuchKey, pkcs11.MultipleObjectsReturned):
            raise SealError(SealFailure.NO_KEY, f"no private key {config.key_label!r}") from None
        if not isinstance(key, pkcs11.SignMixin):
            raise SealError(SealFailure.NO_KEY, f"key {config.key_label!r} cannot sign")
        yield OpenToken(session, key, certificate)
    finally:
        session.close()


def read_certificate(session: pkcs11.Session, label: str) -> x509.Certificate:
    found = list(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: label}))
    if len(found) != 1:
        raise SealError(SealFailure.NO_KEY, f"{len(found)} certificates labelled {label!r}")
    return x509.Certificate.load(bytes(found[0][Attribute.VALUE]))


def check_validity(certificate: x509.Certificate, now: datetime) -> None:
    if not certificate.not_valid_before <= now <= certificate.not_valid_after:
        raise SealError(
            SealFailure.CERT_EXPIRED,
            f"certificate valid {certificate.not_valid_before}..{certificate.not_valid_after}",
        )
