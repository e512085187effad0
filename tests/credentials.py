"""Credentials for tests: workstations registered with a key (as an enrollment would), tokens for the
kiosk, booking system, display and administrators. Written straight into the central database, so a
test sets up exactly the identity it needs; `tests/central/test_auth.py` tests enrollment itself."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from sync.central import credentials, store
from sync.clock import utc_now
from sync.signatures import FileRequestKey, SignedRequests

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import httpx
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from keyring.backend import KeyringBackend

    from sync.central.credentials import TokenKind
    from sync.central.store import CentralStore


@cache
def shared_key() -> FileRequestKey:
    """One key for the tests' workstations (a P-256 key per workstation would only cost time); tests
    about forged signatures make keys of their own."""
    return FileRequestKey.generate()


def workstation_auth(
    central: CentralStore,
    workstation_id: str,
    office_id: str,
    *,
    desk_id: str | None = None,
    key: FileRequestKey | None = None,
    session: Callable[[], str | None] | None = None,
) -> SignedRequests:
    """Register `workstation_id` for `office_id` (once) and sign as it."""
    key = key or shared_key()
    with central.write() as db:
        if db.get(credentials.WorkstationKey, workstation_id) is None:
            credentials.register_workstation(
                db, workstation_id, office_id, desk_id, key.public_key_pem(), utc_now()
            )
    return SignedRequests(key, workstation_id, session)


def token(central: CentralStore, kind: TokenKind, office_id: str | None = None) -> str:
    with central.write() as db:
        return credentials.create_token(db, kind, office_id, utc_now(), lifetime=timedelta(hours=12))


def bearer(central: CentralStore, kind: TokenKind, office_id: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(central, kind, office_id)}"}


def clerk_auth(
    central: CentralStore, workstation_id: str, office_id: str, clerk_id: str, *, desk_id: str | None = None
) -> SignedRequests:
    """Sign as `workstation_id` with `clerk_id` logged in there (a session made without the PIN)."""
    secret = credentials.new_secret()
    auth = workstation_auth(central, workstation_id, office_id, desk_id=desk_id, session=lambda: secret)
    with central.write() as db:
        clerk = db.get(store.Clerk, clerk_id)
        assert clerk is not None, clerk_id
        db.add(
            credentials.ClerkSession(
                digest=credentials.digest_of(secret),
                clerk_id=clerk_id,
                workstation_id=workstation_id,
                role=clerk.role,
                expires_at=utc_now() + timedelta(hours=12),
            )
        )
    return auth


def signed_client(app: FastAPI, auth: httpx.Auth) -> TestClient:
    """Starlette's TestClient takes no `auth=` argument; it is an httpx client, so it takes the property."""
    from fastapi.testclient import TestClient

    client = TestClient(app)
    client.auth = auth
    return client


def workstation_auth_at(db_url: str, workstation_id: str, office_id: str, **options: Any) -> SignedRequests:
    """`workstation_auth` for a central database that another process serves."""
    from sync.central.store import CentralStore

    central = CentralStore(db_url)
    try:
        central.create_schema()
        return workstation_auth(central, workstation_id, office_id, **options)
    finally:
        central.dispose()


def enrolled_identity(
    store_path: Path,
    workstation_id: str,
    office_id: str,
    central_url: str,
    backend: KeyringBackend,
    central: CentralStore | None = None,
) -> None:
    """An identity file and key file beside `store_path`, as `tresen enroll` leaves them; with
    `central`, its key replaces whatever key `workstation_id` had there."""
    from devices.workstation_key import create_key_file
    from workstation.identity import KEY_FILE, Identity, save_identity

    key_file = store_path.parent / KEY_FILE
    key = create_key_file(key_file, backend=backend)
    save_identity(store_path, Identity(workstation_id, office_id, None, central_url, key_file=key_file))
    if central is not None:
        with central.write() as db:
            entry = db.get(credentials.WorkstationKey, workstation_id)
            if entry is None:
                credentials.register_workstation(
                    db, workstation_id, office_id, None, key.public_key_pem(), utc_now()
                )
            else:
                entry.public_key_pem = key.public_key_pem()
