"""Who is asking: every request but the public ones is authenticated, then each endpoint says who may.

Two kinds of credentials (docs/architecture.md, "Who may talk to the central service"):
- a workstation signs each request with its enrolled key (`sync.signatures`, RFC 9421); the clerk
  logged in there adds the session the central service gave at login, covered by the signature;
- kiosks, booking systems, waiting-room displays and administrators send a bearer token.

`Authenticator` turns a request into a `Principal` or a 401; the endpoint asks the principal
(`allow`, `office`, `supervisor`, …), which raises 403. Nothing about the request body's content is
trusted before this: the push endpoint also checks each operation against the principal.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import delete, select

from sync.central import credentials, store
from sync.central.credentials import Role, TokenKind
from sync.central.errors import Forbidden, NotFound, Unauthenticated
from sync.clock import utc_now
from sync.signatures import (
    MAX_AGE_SECONDS,
    MAX_CLOCK_SKEW,
    SignatureRefused,
    VerifiedSignature,
    load_public_key,
    verify_request,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from cryptography.hazmat.primitives.asymmetric import ec
    from sqlalchemy.orm import Session

    from sync.clock import Clock

WORKSTATION = "workstation"


@dataclass(frozen=True)
class Principal:
    kind: str  # WORKSTATION or a TokenKind value
    office_id: str | None  # None: an administrator, for every office
    workstation_id: str | None = None
    desk_id: str | None = None  # the desk a workstation is bound to, if any
    clerk_id: str | None = None  # the clerk logged in at the workstation, if any
    role: str | None = None  # that clerk's role

    @property
    def is_admin(self) -> bool:
        return self.kind == TokenKind.ADMIN

    def allow(self, *kinds: str) -> Principal:
        """Only these kinds of caller (administrators only where named)."""
        if self.kind not in kinds:
            raise Forbidden(f"not allowed for a {self.kind} credential")
        return self

    def office(self, office_id: str) -> Principal:
        """The caller's office must be `office_id` (administrators may see every office)."""
        if self.office_id is not None and self.office_id != office_id:
            raise Forbidden("not allowed for another office")
        return self

    def workstation(self, workstation_id: str) -> Principal:
        if self.kind != WORKSTATION or self.workstation_id != workstation_id:
            raise Forbidden("not allowed as another workstation")
        return self

    def desk(self, desk_id: str) -> Principal:
        """A workstation bound to a desk acts only at that desk."""
        if self.desk_id is not None and self.desk_id != desk_id:
            raise Forbidden("this workstation is enrolled for another desk")
        return self

    def own_desk(self, session: Session, desk_id: str) -> store.Desk:
        """The desk `desk_id` of the caller's office (404 unknown, 403
        another office's)."""
        desk = session.get(store.Desk, desk_id)
        if desk is None:
            raise NotFound(f"unknown desk {desk_id!r}")
        if desk.office_id != self.office_id:
            raise Forbidden("not allowed for another office")
        return desk

    def supervisor(self) -> Principal:
        """Supervisors and administrators: a supervisor logged in at a workstation, or an admin token."""
        if self.is_admin:
            return self
        if self.kind == WORKSTATION and self.role in (Role.SUPERVISOR, Role.ADMINISTRATOR):
            return self
        raise Forbidden("needs a supervisor's login")


class NonceLedger:
    """Nonces seen within the signature lifetime: a replayed request is refused.

    In memory, for the one process a SQLite central service runs in (`SharedNonceLedger` is the
    PostgreSQL one, for several processes)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._keep = MAX_AGE_SECONDS + 2 * MAX_CLOCK_SKEW.total_seconds()

    def first_use(self, key_id: str, nonce: str) -> bool:
        now = self._monotonic()
        entry = f"{key_id}\x00{nonce}"
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: t for k, t in self._seen.items() if t > now}
            expires = self._seen.get(entry)
            if expires is not None and expires > now:
                return False
            self._seen[entry] = now + self._keep
            return True


class SharedNonceLedger:
    """The nonces in the database, for several central processes behind one PostgreSQL: a replay to
    any of them is refused. One insert per signed request; expired rows go now and then."""

    def __init__(self, central: store.CentralStore, clock: Clock = utc_now) -> None:
        self.central = central
        self.clock = clock
        self._keep = timedelta(seconds=MAX_AGE_SECONDS) + 2 * MAX_CLOCK_SKEW

    def first_use(self, key_id: str, nonce: str) -> bool:
        from sqlalchemy.dialects.postgresql import insert

        now = self.clock()
        digest = hashlib.sha256(f"{key_id}\x00{nonce}".encode()).hexdigest()
        with self.central.write() as session:
            inserted = session.scalar(
                insert(store.RequestNonce)
                .values(digest=digest, expires_at=now + self._keep)
                .on_conflict_do_nothing()
                .returning(store.RequestNonce.digest)
            )
            if secrets.randbelow(PURGE_ONE_IN) == 0:
                session.execute(delete(store.RequestNonce).where(store.RequestNonce.expires_at < now))
        return inserted is not None


PURGE_ONE_IN = 500


class Authenticator:
    """The FastAPI dependency that makes a `Principal` of a request (401 when it cannot)."""

    def __init__(self, central: store.CentralStore, clock: Clock = utc_now) -> None:
        self.central = central
        # Credentials expire in real time, whatever time of day the office's clock is set to (demo, tests).
        self.clock = clock
        # SQLite: one process (the embedded and development service); PostgreSQL: maybe several.
        self.nonces: NonceLedger | SharedNonceLedger = (
            NonceLedger() if central.is_sqlite else SharedNonceLedger(central, clock)
        )

    async def authenticate(self, request: Request) -> Principal:
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            token = authorization[7:].strip()
            return await run_in_threadpool(self.token_principal, token)
        if "signature-input" in request.headers:
            body = await request.body()
            return await run_in_threadpool(self._signed_principal, request, body)
        cookie = request.cookies.get(DISPLAY_COOKIE)
        if cookie:
            return await run_in_threadpool(self.token_principal, cookie)
        raise Unauthenticated("credentials required: a signed request or a bearer token")

    def token_principal(self, token: str) -> Principal:
        if not token or len(token) > 200:
            raise Unauthenticated("token unknown or expired")
        with self.central.read() as session:
            entry = session.get(credentials.AccessToken, credentials.digest_of(token))
            if entry is None or (entry.expires_at is not None and entry.expires_at <= self.clock()):
                raise Unauthenticated("token unknown or expired")
            return Principal(kind=entry.kind, office_id=entry.office_id)

    def _signed_principal(self, request: Request, body: bytes) -> Principal:
        with self.central.read() as session:
            keys: dict[str, credentials.WorkstationKey] = {}

            def public_key_of(key_id: str) -> ec.EllipticCurvePublicKey:
                entry = session.get(credentials.WorkstationKey, key_id) if len(key_id) <= 64 else None
                if entry is None or entry.revoked_at is not None:
                    raise KeyError(key_id)
                keys[key_id] = entry
                return load_public_key(entry.public_key_pem)

            try:
                verified = verify_request(
                    request.method, _url_as_sent(request), request.headers.items(), body, public_key_of
                )
            except SignatureRefused as refusal:
                raise Unauthenticated(f"signature refused: {refusal}") from None
            workstation = keys[verified.key_id]
            clerk_id, role = self._clerk_of(session, verified, workstation.workstation_id, self.clock())
        if not self.nonces.first_use(verified.key_id, verified.nonce):
            raise Unauthenticated("signature refused: replayed")
        return Principal(
            kind=WORKSTATION,
            office_id=workstation.office_id,
            workstation_id=workstation.workstation_id,
            desk_id=workstation.desk_id,
            clerk_id=clerk_id,
            role=role,
        )

    @staticmethod
    def _clerk_of(
        session: Session, verified: VerifiedSignature, workstation_id: str, now: datetime
    ) -> tuple[str | None, str | None]:
        if verified.session is None:
            return None, None
        entry = session.scalar(
            select(credentials.ClerkSession).where(
                credentials.ClerkSession.digest == credentials.digest_of(verified.session)
            )
        )
        if entry is None or entry.workstation_id != workstation_id or entry.expires_at <= now:
            raise Unauthenticated("clerk session unknown or expired; log in again")
        return entry.clerk_id, entry.role


DISPLAY_COOKIE = "tresen_display"


def _url_as_sent(request: Request) -> str:
    """The URL with the path and query exactly as the client encoded them, which the signature
    covers: Starlette's `request.url` is rebuilt from the decoded path and may encode it otherwise
    (`%2C` comes back as `,`)."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode("ascii", "ignore")
    query = request.scope.get("query_string", b"")
    url = f"{request.url.scheme}://{request.url.netloc}{raw_path.decode('latin-1')}"
    return f"{url}?{query.decode('latin-1')}" if query else url


async def authenticated(request: Request) -> Principal:
    """The dependency every non-public endpoint takes (`Caller`); the app holds its Authenticator."""
    authenticator: Authenticator = request.app.state.auth
    return await authenticator.authenticate(request)


Caller = Annotated[Principal, Depends(authenticated)]
