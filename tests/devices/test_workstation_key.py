"""Issue 8: the workstation's key on a PKCS#11 token (SoftHSM2), enrolled over HTTP at a real central
service: made on the token as sensitive and not extractable, so it never leaves it; every request
signed by it is accepted, and the code cannot be used twice."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pkcs11
import pytest
from pkcs11 import Attribute, KeyType, ObjectClass

from devices.secret_store import file_backend
from devices.workstation_key import KEYRING_SERVICE, create_key_file, open_key_file
from sync.central import credentials
from sync.central.seed import BUERGERAMT_ID
from sync.clock import utc_now
from tests.devices.conftest import SOFTHSM_MODULE, new_token
from tresen.central_access import central_access
from workstation.identity import EnrollmentError, enroll
from workstation.identity_file import identity_path

if TYPE_CHECKING:
    from pathlib import Path

    from sync.central.embedded import EmbeddedCentral

pytestmark = [pytest.mark.softhsm, pytest.mark.usefixtures("seal_home")]


def _code(central: EmbeddedCentral) -> str:
    with central.store.write() as session:
        return credentials.create_enrollment_code(session, BUERGERAMT_ID, None, utc_now())


def test_enrolled_on_the_token_the_key_never_leaves_it_and_signs_every_request(
    central: EmbeddedCentral, tmp_path: Path
) -> None:
    token, pin = new_token()
    backend = file_backend(tmp_path / "keyring.cfg")
    store_path = tmp_path / "tresen.sqlite3"
    code = _code(central)
    identity = enroll(central.url, code, store_path, token=token, token_pin=pin, backend=backend)
    assert identity.office_id == BUERGERAMT_ID
    assert identity.key_file is None
    assert not (tmp_path / "workstation-key.pem").exists()
    assert oct(identity_path(store_path).stat().st_mode & 0o777) == "0o600"
    assert pin not in identity_path(store_path).read_text()  # the PIN went to the keyring
    assert backend.get_password(KEYRING_SERVICE, f"token:{token.token_label}") == pin

    on_token = pkcs11.lib(str(SOFTHSM_MODULE)).get_token(token_label=token.token_label)
    try:
        opened = on_token.open(user_pin=pin)
    except pkcs11.UserAlreadyLoggedIn:  # the login is per token and process
        opened = on_token.open()
    with opened as session:
        private = session.get_key(ObjectClass.PRIVATE_KEY, KeyType.EC, label=token.key_label)
        assert private[Attribute.SENSITIVE] is True
        assert private[Attribute.EXTRACTABLE] is False
        with pytest.raises(pkcs11.AttributeSensitive):
            private[Attribute.VALUE]

    access = central_access(store_path, backend=backend)
    assert access is not None
    with access.client(timeout=5.0) as client:
        assert client.health().status == "ok"
        page = client.changes(BUERGERAMT_ID, identity.workstation_id, 0, limit=5)
    assert page.cursor > 0

    with pytest.raises(EnrollmentError) as again:
        enroll(central.url, code, tmp_path / "again" / "tresen.sqlite3", backend=backend)
    assert "unbekannt, schon benutzt oder abgelaufen" in again.value.user_message


def test_without_a_token_the_key_file_is_private_and_its_passphrase_in_the_keyring(tmp_path: Path) -> None:
    backend = file_backend(tmp_path / "keyring" / "keyring.cfg")
    path = tmp_path / "keys" / "workstation-key.pem"
    key = create_key_file(path, backend=backend)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    assert open_key_file(path, backend=backend).public_key_pem() == key.public_key_pem()
