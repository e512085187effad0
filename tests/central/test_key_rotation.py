"""Issue 8: an enrolled workstation rotates its key. The request is signed with the current key and
carries the new public key; from the answer on the old key's signatures are refused and the new key's
accepted. A foreign key cannot rotate, nor can one workstation rotate another's key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sync.protocol import API_PREFIX
from sync.signatures import FileRequestKey, SignedRequests, key_possession_proof
from tests.central.conftest import OFFICE
from tests.credentials import signed_client, workstation_auth

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

KEY = f"{API_PREFIX}/workstations/current/key"
OFFICE_DATA = f"{API_PREFIX}/offices/{OFFICE}"


def _get(app: FastAPI, auth: httpx.Auth, path: str = OFFICE_DATA) -> httpx.Response:
    with signed_client(app, auth) as client:
        answer: httpx.Response = client.get(path)
    return answer


def _rotate(
    app: FastAPI, auth: SignedRequests, new: FileRequestKey, *, proof: str | None = None
) -> httpx.Response:
    body = {"public_key_pem": new.public_key_pem(), "proof": proof or key_possession_proof(new, auth.key_id)}
    with signed_client(app, auth) as client:
        answer: httpx.Response = client.put(KEY, json=body)
    return answer


def test_after_a_rotation_the_old_key_is_refused_and_the_new_one_accepted(central_app: FastAPI) -> None:
    old = FileRequestKey.generate()
    old_auth = workstation_auth(central_app.state.store, "ws-rotating", OFFICE, key=old)
    new = FileRequestKey.generate()
    new_auth = SignedRequests(new, "ws-rotating")
    assert _get(central_app, new_auth).status_code == 401  # not before the rotation

    answer = _rotate(central_app, old_auth, new)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"workstation_id": "ws-rotating", "office_id": OFFICE, "desk_id": None}

    refused = _get(central_app, old_auth)
    assert refused.status_code == 401
    assert refused.json()["detail"].startswith("signature refused")
    assert _get(central_app, new_auth).status_code == 200
    # The old key cannot take the workstation back, and asking again with the new key changes nothing.
    assert _rotate(central_app, old_auth, old).status_code == 401
    assert _rotate(central_app, new_auth, new).status_code == 200
    assert _get(central_app, new_auth).status_code == 200


def test_a_rotation_signed_with_a_foreign_key_is_refused(central_app: FastAPI) -> None:
    owner = FileRequestKey.generate()
    owner_auth = workstation_auth(central_app.state.store, "ws-owned", OFFICE, key=owner)
    intruder = FileRequestKey.generate()
    refused = _rotate(central_app, SignedRequests(intruder, "ws-owned"), intruder)
    assert refused.status_code == 401
    assert refused.json()["detail"].startswith("signature refused")
    assert _get(central_app, owner_auth).status_code == 200  # still the owner's key
    assert _get(central_app, SignedRequests(intruder, "ws-owned")).status_code == 401


def test_a_workstation_rotates_only_its_own_key(central_app: FastAPI) -> None:
    mine = workstation_auth(central_app.state.store, "ws-mine", OFFICE, key=FileRequestKey.generate())
    theirs_key = FileRequestKey.generate()
    theirs = workstation_auth(central_app.state.store, "ws-theirs", OFFICE, key=theirs_key)
    new = FileRequestKey.generate()
    assert _rotate(central_app, mine, new).status_code == 200
    # The rotation names no workstation: it is always the signer's. The other keeps its key.
    assert _get(central_app, theirs).status_code == 200
    assert _get(central_app, SignedRequests(new, "ws-theirs")).status_code == 401


def test_a_new_key_without_a_valid_proof_of_possession_is_refused(central_app: FastAPI) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    from sync.signatures import public_pem

    key = FileRequestKey.generate()
    auth = workstation_auth(central_app.state.store, "ws-careful", OFFICE, key=key)
    new, other = FileRequestKey.generate(), FileRequestKey.generate()
    refusals = {
        "signed by another key": key_possession_proof(other, "ws-careful"),
        "made for another workstation": key_possession_proof(new, "ws-other"),
        "no signature at all": "A" * 86,
    }
    for why, proof in refusals.items():
        answer = _rotate(central_app, auth, new, proof=proof)
        assert answer.status_code == 401, why
        assert answer.json()["detail"] == "new key: proof of possession does not verify", why
    p384 = public_pem(ec.generate_private_key(ec.SECP384R1()).public_key())
    for pem in (p384, "-----BEGIN PUBLIC KEY-----" + "A" * 100):
        with signed_client(central_app, auth) as client:
            answer = client.put(KEY, json={"public_key_pem": pem, "proof": "A" * 86})
        assert answer.status_code == 401
        assert "A" * 86 not in answer.text
    assert _get(central_app, auth).status_code == 200  # the old key still holds
    assert _get(central_app, SignedRequests(new, "ws-careful")).status_code == 401


def test_a_token_cannot_rotate_a_workstation_key(central_app: FastAPI, anonymous: TestClient) -> None:
    from sync.central.credentials import TokenKind
    from tests.credentials import bearer

    new = FileRequestKey.generate()
    answer = anonymous.put(
        KEY,
        json={"public_key_pem": new.public_key_pem(), "proof": key_possession_proof(new, "ws-x")},
        headers=bearer(central_app.state.store, TokenKind.ADMIN),
    )
    assert answer.status_code == 403
