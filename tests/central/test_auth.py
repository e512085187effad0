"""Issue 8: only enrolled workstations, logged-in clerks and narrow tokens get answers.

An unauthenticated sweep over every operation of /openapi.json, another office's data, replayed,
forged, stale and tampered signatures, enrollment codes used twice or expired, a desk-bound
workstation at another desk, the clerk login with its lockout, and each token kind's narrow scope."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from http_message_signatures import HTTPMessageSigner
from sqlalchemy import select

from sync.central import credentials
from sync.central.credentials import TokenKind
from sync.protocol import API_PREFIX, MAX_PUSH_BATCH
from sync.signatures import ALGORITHM, SESSION_HEADER, FileRequestKey, SignedRequests, sign_request
from tests.central.conftest import DESK, OFFICE, WORKSTATION
from tests.credentials import bearer, clerk_auth, signed_client, workstation_auth

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from tests.central.postgres_server import PostgresServer

API = API_PREFIX
PUBLIC = {("GET", f"{API}/health")}  # and the OpenAPI document itself, which lists no operation for itself
CODE_GUARDED = {("POST", f"{API}/enrollments")}  # needs no credential but a one-time code


def _operations(client: TestClient) -> list[tuple[str, str]]:
    paths: dict[str, dict[str, Any]] = client.get("/openapi.json").json()["paths"]
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "x", path))
        for path, methods in paths.items()
        for method in methods
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_without_credentials_every_operation_but_health_is_refused(anonymous: TestClient) -> None:
    operations = _operations(anonymous)
    assert len(operations) >= 14
    for method, path in operations:
        if (method, path) in PUBLIC:
            assert anonymous.request(method, path).status_code == 200
            continue
        body = {"code": "x" * 43, "public_key_pem": "-----BEGIN PUBLIC KEY-----" + "A" * 100}
        answer = anonymous.request(method, path, json=body if (method, path) in CODE_GUARDED else {})
        assert answer.status_code == 401, (method, path, answer.status_code, answer.text)
        assert "x" * 43 not in answer.text
    assert anonymous.get("/openapi.json").status_code == 200
    # The waiting-room pages outside the document: the display needs its key, the status page its token.
    assert anonymous.get(f"/display/{OFFICE}").status_code == 401
    assert anonymous.get(f"/display/{OFFICE}/events").status_code == 401


def test_a_bearer_token_that_is_unknown_or_expired_is_refused(
    central_app: FastAPI, anonymous: TestClient
) -> None:
    central = central_app.state.store
    assert anonymous.get(f"{API}/offices", headers={"Authorization": "Bearer nope"}).status_code == 401
    with central.write() as session:
        token = credentials.create_token(
            session,
            TokenKind.ADMIN,
            None,
            datetime.now(UTC) - timedelta(hours=2),
            lifetime=timedelta(hours=1),
        )
    assert anonymous.get(f"{API}/offices", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_workstation_of_one_office_gets_403_for_another_offices_data(client: TestClient) -> None:
    other = "zl-sued"
    refused = [
        client.get(f"{API}/offices/{other}"),
        client.get(f"{API}/appointments", params={"office_id": other, "date": "2026-03-02"}),
        client.get(f"{API}/sync/changes", params={"office_id": other}),
        client.post(f"{API}/tickets", json={"office_id": other, "service_ids": ["zl-sued-zu"]}),
        client.post(f"{API}/check-ins", json={"office_id": other, "booking_reference": "ABCD-1234"}),
        client.post(
            f"{API}/desks/zl-sued-d1/call-next",
            json={"workstation_id": WORKSTATION, "clerk_id": "zl-sued-c2", "call_id": "c"},
        ),
        client.post(
            f"{API}/sync/push", json={"workstation_id": WORKSTATION, "office_id": other, "operations": []}
        ),
    ]
    assert [answer.status_code for answer in refused] == [403] * len(refused)
    # Statistics need a supervisor: a workstation without one is refused before any office is looked at.
    assert client.get(f"{API}/statistics/offices/{OFFICE}/live").status_code == 403


def test_each_token_kind_has_its_narrow_scope(central_app: FastAPI, anonymous: TestClient) -> None:
    central = central_app.state.store
    kiosk, booking, display, admin = (
        bearer(central, TokenKind.KIOSK, OFFICE),
        bearer(central, TokenKind.BOOKING, OFFICE),
        bearer(central, TokenKind.DISPLAY, OFFICE),
        bearer(central, TokenKind.ADMIN),
    )
    listing = {"office_id": OFFICE, "date": "2026-03-02"}
    ticket = {"office_id": OFFICE, "service_ids": ["ba-mitte-pa"]}
    push = {"workstation_id": WORKSTATION, "office_id": OFFICE, "operations": []}
    assert anonymous.post(f"{API}/tickets", json=ticket, headers=kiosk).status_code == 201
    assert anonymous.get(f"{API}/appointments", params=listing, headers=kiosk).status_code == 403
    assert anonymous.get(f"{API}/appointments", params=listing, headers=booking).status_code == 200
    assert anonymous.post(f"{API}/tickets", json=ticket, headers=booking).status_code == 403
    assert anonymous.get(f"/display/{OFFICE}", headers=display).status_code == 200
    assert anonymous.get(f"{API}/appointments", params=listing, headers=display).status_code == 403
    assert anonymous.get("/display/zl-sued", headers=display).status_code == 403
    # An administrator reads every office and the figures, but never acts as a desk.
    assert {o["id"] for o in anonymous.get(f"{API}/offices", headers=admin).json()} == {OFFICE, "zl-sued"}
    assert anonymous.get(f"{API}/statistics/offices/{OFFICE}/live", headers=admin).status_code == 200
    assert anonymous.post(f"{API}/sync/push", json=push, headers=admin).status_code == 403
    assert anonymous.post(f"{API}/tickets", json=ticket, headers=admin).status_code == 403


# --- signatures ----------------------------------------------------------------------------------------


def _signed(auth: SignedRequests, method: str, path: str, **kwargs: Any) -> httpx.Request:
    request = httpx.Request(method, f"http://testserver{path}", **kwargs)
    sign_request(request, auth.key, auth.key_id, auth.session() if auth.session else None)
    return request


def _send(anonymous: TestClient, request: httpx.Request) -> httpx.Response:
    answer: httpx.Response = anonymous.request(
        request.method, request.url.raw_path.decode(), content=request.content, headers=request.headers
    )
    return answer


def test_a_replayed_request_is_refused(central_app: FastAPI, anonymous: TestClient) -> None:
    auth = workstation_auth(central_app.state.store, WORKSTATION, OFFICE)
    request = _signed(auth, "GET", f"{API}/offices/{OFFICE}")
    assert _send(anonymous, request).status_code == 200
    again = _send(anonymous, request)
    assert again.status_code == 401
    assert again.json()["detail"] == "signature refused: replayed"


def test_a_signature_by_another_key_is_refused(central_app: FastAPI, anonymous: TestClient) -> None:
    workstation_auth(central_app.state.store, WORKSTATION, OFFICE)
    forged = SignedRequests(FileRequestKey.generate(), WORKSTATION)  # the right id, a foreign key
    answer = _send(anonymous, _signed(forged, "GET", f"{API}/offices/{OFFICE}"))
    assert answer.status_code == 401
    unknown = SignedRequests(FileRequestKey.generate(), "ws-never-enrolled")
    assert _send(anonymous, _signed(unknown, "GET", f"{API}/offices/{OFFICE}")).status_code == 401


def test_a_body_changed_after_signing_is_refused(central_app: FastAPI, anonymous: TestClient) -> None:
    auth = workstation_auth(central_app.state.store, WORKSTATION, OFFICE)
    request = _signed(
        auth, "POST", f"{API}/tickets", json={"office_id": OFFICE, "service_ids": ["ba-mitte-pa"]}
    )
    tampered = request.content.replace(b"ba-mitte-pa", b"ba-mitte-an")
    answer = anonymous.request("POST", f"{API}/tickets", content=tampered, headers=request.headers)
    assert answer.status_code == 401
    moved = anonymous.request("POST", f"{API}/appointments", content=request.content, headers=request.headers)
    assert moved.status_code == 401  # the path is signed too


def test_an_old_signature_is_refused(central_app: FastAPI, anonymous: TestClient) -> None:
    auth = workstation_auth(central_app.state.store, WORKSTATION, OFFICE)
    request = httpx.Request("GET", f"http://testserver{API}/offices/{OFFICE}")
    signer = HTTPMessageSigner(signature_algorithm=ALGORITHM)

    class View:
        method, url, headers = request.method, str(request.url), request.headers

    prepared = signer.prepare(
        View,
        key_id=WORKSTATION,
        created=datetime.now(UTC) - timedelta(minutes=20),
        nonce="an-old-nonce-of-enough-length",
        label="tresen",
        covered_component_ids=["@method", "@path", "@query"],
        body=b"",
    )
    signer.apply(View, prepared, auth.key.sign(prepared.signature_base))
    assert _send(anonymous, request).status_code == 401


def test_a_session_header_outside_the_signature_is_refused(
    central_app: FastAPI, anonymous: TestClient
) -> None:
    auth = workstation_auth(central_app.state.store, WORKSTATION, OFFICE)
    request = _signed(auth, "GET", f"{API}/offices/{OFFICE}")
    request.headers[SESSION_HEADER] = "smuggled-in-after-signing"
    assert _send(anonymous, request).status_code == 401


# --- enrollment ----------------------------------------------------------------------------------------


def _enroll(anonymous: TestClient, code: str, key: FileRequestKey) -> httpx.Response:
    answer: httpx.Response = anonymous.post(
        f"{API}/enrollments", json={"code": code, "public_key_pem": key.public_key_pem()}
    )
    return answer


def test_an_enrollment_code_works_once_and_binds_office_and_desk(
    central_app: FastAPI, anonymous: TestClient
) -> None:
    central = central_app.state.store
    with central.write() as session:
        code = credentials.create_enrollment_code(session, OFFICE, DESK, datetime.now(UTC))
    key = FileRequestKey.generate()
    first = _enroll(anonymous, code, key)
    assert first.status_code == 201
    identity = first.json()
    assert (identity["office_id"], identity["desk_id"]) == (OFFICE, DESK)
    assert identity["workstation_id"].startswith("ws-")
    again = _enroll(anonymous, code, FileRequestKey.generate())
    assert again.status_code == 401
    assert code not in again.text
    # The enrolled key signs; at another desk than its own, the workstation is refused.
    enrolled = signed_client(central_app, SignedRequests(key, identity["workstation_id"]))
    assert enrolled.get(f"{API}/offices/{OFFICE}").status_code == 200
    elsewhere = enrolled.post(
        f"{API}/desks/ba-mitte-d2/call-next",
        json={"workstation_id": identity["workstation_id"], "clerk_id": "ba-mitte-c2", "call_id": "c"},
    )
    assert elsewhere.status_code == 403
    assert (
        enrolled.post(
            f"{API}/desks/{DESK}/call-next",
            json={"workstation_id": identity["workstation_id"], "clerk_id": "ba-mitte-c2", "call_id": "c"},
        ).status_code
        == 200
    )


def test_an_expired_code_and_a_key_that_is_no_p256_key_are_refused(
    central_app: FastAPI, anonymous: TestClient
) -> None:
    central = central_app.state.store
    with central.write() as session:
        expired = credentials.create_enrollment_code(
            session, OFFICE, None, datetime.now(UTC) - timedelta(days=2)
        )
        fresh = credentials.create_enrollment_code(session, OFFICE, None, datetime.now(UTC))
    assert _enroll(anonymous, expired, FileRequestKey.generate()).status_code == 401
    garbage = anonymous.post(
        f"{API}/enrollments", json={"code": fresh, "public_key_pem": "-----BEGIN PUBLIC KEY-----" + "A" * 200}
    )
    assert garbage.status_code == 422
    assert _enroll(anonymous, fresh, FileRequestKey.generate()).status_code == 201  # still unused


# --- clerks --------------------------------------------------------------------------------------------


def _pin_login(central_app: FastAPI, clerk_id: str, pin: str) -> httpx.Response:
    auth = workstation_auth(central_app.state.store, "ws-login", OFFICE)
    with signed_client(central_app, auth) as workstation:
        answer: httpx.Response = workstation.post(f"{API}/sessions", json={"clerk_id": clerk_id, "pin": pin})
    return answer


@pytest.mark.usefixtures("client")  # the app running
def test_a_clerk_logs_in_with_the_pin_and_is_locked_after_five_wrong_ones(central_app: FastAPI) -> None:
    from sync.central.seed import DEMO_PINS

    clerk = "ba-mitte-c2"
    good = _pin_login(central_app, clerk, DEMO_PINS["clerk"])
    assert good.status_code == 201
    assert good.json()["role"] == "clerk"
    assert DEMO_PINS["clerk"] not in good.text
    wrong = [_pin_login(central_app, clerk, "0000").status_code for _ in range(credentials.MAX_PIN_FAILURES)]
    assert wrong == [401] * credentials.MAX_PIN_FAILURES
    locked = _pin_login(central_app, clerk, DEMO_PINS["clerk"])
    assert locked.status_code == 423  # the right PIN too, until the lockout ends
    assert _pin_login(central_app, "nobody", "1234").status_code == 401
    assert _pin_login(central_app, "zl-sued-c2", DEMO_PINS["clerk"]).status_code == 401  # not of this office


@pytest.mark.usefixtures("client")
def test_the_session_carries_the_role_the_statistics_need(central_app: FastAPI) -> None:
    central = central_app.state.store
    supervisor = signed_client(central_app, clerk_auth(central, "ws-lead", OFFICE, "ba-mitte-c1"))
    clerk = signed_client(central_app, clerk_auth(central, "ws-clerk", OFFICE, "ba-mitte-c2"))
    assert supervisor.get(f"{API}/statistics/offices/{OFFICE}/live").status_code == 200
    assert clerk.get(f"{API}/statistics/offices/{OFFICE}/live").status_code == 403
    # A session is bound to the workstation it was opened at.
    stolen = credentials.new_secret()
    with central.write() as session:
        session.add(
            credentials.ClerkSession(
                digest=credentials.digest_of(stolen),
                clerk_id="ba-mitte-c1",
                workstation_id="ws-lead",
                role="supervisor",
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
        )
    elsewhere = signed_client(
        central_app, workstation_auth(central, "ws-clerk", OFFICE, session=lambda: stolen)
    )
    assert elsewhere.get(f"{API}/statistics/offices/{OFFICE}/live").status_code == 401


def test_a_push_batch_is_bounded(client: TestClient) -> None:
    too_many = [
        {
            "op_id": f"op-{n}",
            "seq": n + 1,
            "kind": "ticket.no_show",
            "args": {},
            "created_at": "2026-03-02T08:00:00Z",
        }
        for n in range(MAX_PUSH_BATCH + 1)
    ]
    answer = client.post(
        f"{API}/sync/push", json={"workstation_id": WORKSTATION, "office_id": OFFICE, "operations": too_many}
    )
    assert answer.status_code == 422


@pytest.mark.postgres
def test_a_replay_to_another_central_process_on_the_same_database_is_refused(
    postgres_server: PostgresServer,
) -> None:
    """Several central processes behind one PostgreSQL share the nonces (two apps stand for two)."""
    from fastapi.testclient import TestClient

    from sync.central.app import create_app
    from sync.central.seed import generate_day, seed_central
    from tests.central.conftest import DAY

    url = postgres_server.create_database()
    first, second = create_app(url), create_app(url)
    with first.state.store.write() as session:
        seed_central(session, generate_day(DAY, seed=3))
    auth = workstation_auth(first.state.store, WORKSTATION, OFFICE)
    request = _signed(auth, "GET", f"{API}/offices/{OFFICE}")
    with TestClient(first) as one, TestClient(second) as other:
        assert _send(one, request).status_code == 200
        replayed = _send(other, request)
    assert replayed.status_code == 401
    assert replayed.json()["detail"] == "signature refused: replayed"


def test_a_revoked_workstation_is_refused(
    central_app: FastAPI, anonymous: TestClient, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tresen.cli import main as tresen

    auth = workstation_auth(central_app.state.store, "ws-lost", OFFICE)
    assert _send(anonymous, _signed(auth, "GET", f"{API}/offices/{OFFICE}")).status_code == 200
    assert tresen(["central", "revoke", "--db", db_url, "--workstation", "ws-lost"]) == 0
    assert "gesperrt" in capsys.readouterr().out
    refused = _send(anonymous, _signed(auth, "GET", f"{API}/offices/{OFFICE}"))
    assert refused.status_code == 401
    assert tresen(["central", "revoke", "--db", db_url, "--workstation", "ws-unknown"]) == 2


@pytest.mark.postgres
def test_another_process_honours_a_rotation_a_revocation_and_a_logout_at_once(
    postgres_server: PostgresServer,
) -> None:
    """Each process keeps the parsed keys it has seen (`sync.central.request_check`); the database
    still decides on every request, so what one process (or the CLI) changed counts in the other at
    its next request, with no wait."""
    from fastapi.testclient import TestClient

    from sync.central.app import create_app
    from sync.central.seed import generate_day, seed_central
    from sync.signatures import key_possession_proof
    from tests.central.conftest import DAY

    url = postgres_server.create_database()
    first, second = create_app(url), create_app(url)
    central = first.state.store
    with central.write() as session:
        seed_central(session, generate_day(DAY, seed=3))
    old = FileRequestKey.generate()
    old_auth = workstation_auth(central, "ws-two", OFFICE, key=old)
    clerk = clerk_auth(central, "ws-clerk-two", OFFICE, "ba-mitte-c2")
    doomed = workstation_auth(central, "ws-doomed", OFFICE)
    office = f"{API}/offices/{OFFICE}"
    with TestClient(first) as one, TestClient(second) as other:
        for auth in (old_auth, clerk, doomed):  # both processes have seen each key
            assert _send(one, _signed(auth, "GET", office)).status_code == 200
            assert _send(other, _signed(auth, "GET", office)).status_code == 200
        new = FileRequestKey.generate()
        body = {"public_key_pem": new.public_key_pem(), "proof": key_possession_proof(new, "ws-two")}
        assert (
            _send(one, _signed(old_auth, "PUT", f"{API}/workstations/current/key", json=body)).status_code
            == 200
        )
        assert _send(other, _signed(old_auth, "GET", office)).status_code == 401
        assert _send(other, _signed(SignedRequests(new, "ws-two"), "GET", office)).status_code == 200

        assert _send(one, _signed(clerk, "DELETE", f"{API}/sessions/current")).status_code == 204
        logged_out = _send(other, _signed(clerk, "GET", office))
        assert logged_out.status_code == 401
        assert logged_out.json()["detail"] == "clerk session unknown or expired; log in again"

        with central.write() as session:
            credentials.revoke_workstation(session, "ws-doomed", datetime.now(UTC))
        assert _send(other, _signed(doomed, "GET", office)).status_code == 401
        assert _send(one, _signed(doomed, "GET", office)).status_code == 401


def test_an_expired_clerk_session_is_refused_after_it_was_used(central_app: FastAPI) -> None:
    central = central_app.state.store
    auth = clerk_auth(central, "ws-expiring", OFFICE, "ba-mitte-c2")
    with signed_client(central_app, auth) as client:
        assert client.get(f"{API}/offices/{OFFICE}").status_code == 200
        with central.write() as session:
            for entry in session.scalars(
                select(credentials.ClerkSession).where(
                    credentials.ClerkSession.workstation_id == "ws-expiring"
                )
            ):
                entry.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        refused = client.get(f"{API}/offices/{OFFICE}")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "clerk session unknown or expired; log in again"
