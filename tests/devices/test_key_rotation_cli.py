"""Issue 8: an enrolled workstation rotates its key (`tresen key rotate`) against a real central
service: a new key pair (in a new key file, or on the PKCS#11 token), bound by a request signed with
the old key; afterwards the old key's signatures get 401 and the old key is gone. A rotation whose
answer was lost is resumed with the new key."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pkcs11
import pytest
from pkcs11 import Attribute, KeyType, ObjectClass

from devices.secret_store import KEYRING_FILE_ENV, file_backend
from devices.workstation_key import KEYRING_SERVICE, open_key_file, open_token_key
from sync.central import credentials
from sync.central.seed import BUERGERAMT_ID
from sync.client import CentralClient, CentralError
from sync.clock import utc_now
from sync.signatures import SignedRequests
from tests.devices.conftest import SOFTHSM_MODULE, new_token
from tresen.central_access import central_access
from tresen.cli import main as tresen
from workstation.identity import enroll, load_identity
from workstation.key_rotation import PENDING_FILE, KeyRotationError, rotate_key

if TYPE_CHECKING:
    from pathlib import Path

    from keyring.backend import KeyringBackend

    from sync.central.embedded import EmbeddedCentral
    from sync.signatures import RequestKey


def _code(central: EmbeddedCentral) -> str:
    with central.store.write() as session:
        return credentials.create_enrollment_code(session, BUERGERAMT_ID, None, utc_now())


def _office_page(central: EmbeddedCentral, key: RequestKey, workstation_id: str) -> int:
    """The status of a signed request as `workstation_id` with `key`."""
    with CentralClient(central.url, timeout=5.0, auth=SignedRequests(key, workstation_id)) as client:
        try:
            client.changes(BUERGERAMT_ID, workstation_id, 0, limit=1)
        except CentralError as error:
            return error.status_code or 0
    return 200


def _works_with_its_identity(store_path: Path, backend: KeyringBackend) -> bool:
    access = central_access(store_path, backend=backend)
    assert access is not None
    with access.client(timeout=5.0) as client:
        return client.changes(BUERGERAMT_ID, access.identity.workstation_id, 0, limit=1).cursor > 0


def test_tresen_key_rotate_replaces_the_key_file_and_the_old_key_is_refused(
    central: EmbeddedCentral,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(KEYRING_FILE_ENV, str(tmp_path / "keyring.cfg"))
    backend = file_backend(tmp_path / "keyring.cfg")
    store_path = tmp_path / "desk" / "tresen.sqlite3"
    config = tmp_path / "tresen.toml"
    config.write_text(f'[store]\npath = "{store_path}"\n')
    before = enroll(central.url, _code(central), store_path, backend=backend)
    assert before.key_file is not None
    old_key = open_key_file(before.key_file, backend=backend)
    assert _office_page(central, old_key, before.workstation_id) == 200

    assert tresen(["--config", str(config), "key", "rotate"]) == 0
    assert "der bisherige gilt nicht mehr" in capsys.readouterr().out

    after = load_identity(store_path)
    assert after is not None
    assert after.workstation_id == before.workstation_id
    assert after.key_file is not None
    assert after.key_file != before.key_file
    assert oct(after.key_file.stat().st_mode & 0o777) == "0o600"
    assert not before.key_file.exists()  # the old key is destroyed, its passphrase too
    assert backend.get_password(KEYRING_SERVICE, f"file:{before.key_file.resolve()}") is None
    assert not (store_path.parent / PENDING_FILE).exists()
    assert _office_page(central, old_key, before.workstation_id) == 401
    assert _works_with_its_identity(store_path, backend)


class _AnswerLost(httpx.BaseTransport):
    """The central service gets and handles the rotation, but its answer never arrives."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        response.read()
        if request.method == "PUT":
            raise httpx.ReadError("connection reset", request=request)
        return response

    def close(self) -> None:
        self._inner.close()


def test_a_rotation_whose_answer_was_lost_is_finished_by_the_next_one(
    central: EmbeddedCentral, tmp_path: Path
) -> None:
    backend = file_backend(tmp_path / "keyring.cfg")
    store_path = tmp_path / "tresen.sqlite3"
    before = enroll(central.url, _code(central), store_path, backend=backend)
    assert before.key_file is not None
    old_key = open_key_file(before.key_file, backend=backend)

    with pytest.raises(KeyRotationError) as lost:
        rotate_key(store_path, backend=backend, transport=_AnswerLost())
    assert "Er bleibt vorgemerkt" in lost.value.user_message
    assert load_identity(store_path) == before  # not switched without the answer ...
    assert (store_path.parent / PENDING_FILE).exists()
    assert _office_page(central, old_key, before.workstation_id) == 401  # ... though the central did

    rotation = rotate_key(store_path, backend=backend)
    assert rotation.old_key_destroyed
    assert load_identity(store_path) == rotation.identity
    assert rotation.identity.key_file != before.key_file
    assert not (store_path.parent / PENDING_FILE).exists()
    assert _works_with_its_identity(store_path, backend)


def test_a_revoked_workstation_cannot_rotate(central: EmbeddedCentral, tmp_path: Path) -> None:
    backend = file_backend(tmp_path / "keyring.cfg")
    store_path = tmp_path / "tresen.sqlite3"
    before = enroll(central.url, _code(central), store_path, backend=backend)
    with central.store.write() as session:
        credentials.revoke_workstation(session, before.workstation_id, utc_now())
    with pytest.raises(KeyRotationError) as refused:
        rotate_key(store_path, backend=backend)
    assert "nimmt den bisherigen Schlüssel dieses Arbeitsplatzes nicht mehr an" in refused.value.user_message
    assert load_identity(store_path) == before


@pytest.mark.softhsm
@pytest.mark.usefixtures("seal_home")
def test_on_the_token_the_new_key_is_made_there_and_the_old_one_destroyed(
    central: EmbeddedCentral, tmp_path: Path
) -> None:
    token, pin = new_token()
    backend = file_backend(tmp_path / "keyring.cfg")
    store_path = tmp_path / "tresen.sqlite3"
    before = enroll(central.url, _code(central), store_path, token=token, token_pin=pin, backend=backend)
    old_key = open_token_key(token, backend=backend)
    try:
        assert _office_page(central, old_key, before.workstation_id) == 200
        rotation = rotate_key(store_path, backend=backend)
    finally:
        old_key.close()

    assert rotation.old_key_destroyed
    assert rotation.identity.key_file is None
    assert rotation.identity.token is not None
    new_label = rotation.identity.token.key_label
    assert new_label.startswith(f"{token.key_label}-")
    on_token = pkcs11.lib(str(SOFTHSM_MODULE)).get_token(token_label=token.token_label)
    try:
        opened = on_token.open(user_pin=pin)
    except pkcs11.UserAlreadyLoggedIn:  # the login is per token and process
        opened = on_token.open()
    with opened as session:
        assert list(session.get_objects({Attribute.LABEL: token.key_label})) == []
        private = session.get_key(ObjectClass.PRIVATE_KEY, KeyType.EC, label=new_label)
        assert private[Attribute.SENSITIVE] is True
        assert private[Attribute.EXTRACTABLE] is False
    assert _works_with_its_identity(store_path, backend)
    # A second rotation replaces the suffix rather than growing the label.
    again = rotate_key(store_path, backend=backend)
    assert again.identity.token is not None
    assert again.identity.token.key_label.count("-") == new_label.count("-")
    assert _works_with_its_identity(store_path, backend)
