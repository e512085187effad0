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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from sync.central import credentials, store
from sync.central.credentials import Role, TokenKind
from sync.central.errors import Forbidden, NotFound, Unauthenticated
from sync.central.request_check import Confirmed, KnownKey, PublicKeys, RequestCheck
from sync.clock import utc_now
from sync.signatures import SignatureRefused, VerifiedSignature, verify_request

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from cryptography.hazmat.primitives.asymmetric import ec
    from sqlalchemy.orm import Session

    from sync.central.loop_checks import LoopChecks
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


class Authenticator:
    """The FastAPI dependency that makes a `Principal` of a request (401 when it cannot).

    A signed request costs one database statement when its key was seen before
    (`sync.central.request_check`): the parsed key is kept, the database confirms it is still current."""

    def __init__(self, central: store.CentralStore, clock: Clock = utc_now) -> None:
        self.central = central
        # Credentials expire in real time, whatever time of day the office's clock is set to (demo, tests).
        self.clock = clock
        self.check = RequestCheck(central)
        self.keys = PublicKeys()
        # PostgreSQL: the check's statement in the event loop (`sync.central.loop_checks`), set by the
        # app's lifespan; None: in a worker thread.
        self.loop_checks: LoopChecks | None = None

    async def authenticate(self, request: Request) -> Principal:
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            token = authorization[7:].strip()
            return await run_in_threadpool(self.token_principal, token)
        if "signature-input" in request.headers:
            body = await request.body()
            if self.loop_checks is not None:
                return await self._signed_principal_in_loop(self.loop_checks, request, body)
            return await run_in_threadpool(self._signed_principal, request, body)
        cookie = request.cookies.get(DISPLAY_COOKIE)
        if cookie:
            return await run_in_threadpool(self.token_principal, cookie)
        raise Unauthenticated("credentials required: a signed request or a bearer token")

    def token_principal(self, token: str) -> Principal:
        if not token or len(token) > 200:
            raise Unauthenticated("token unknown or expired")
        entry = self.check.token(credentials.digest_of(token))
        if entry is None or (entry[2] is not None and entry[2] <= self.clock()):
            raise Unauthenticated("token unknown or expired")
        return Principal(kind=entry[0], office_id=entry[1])

    def _signed_principal(self, request: Request, body: bytes) -> Principal:
        url, headers = _url_as_sent(request), request.headers.items()
        try:
            verified, pem = self._verify(request.method, url, headers, body, use_kept=True)
        except _KeptKeyRefused:
            # The kept key may be the one before a rotation: check against the database's.
            verified, pem = self._verify(request.method, url, headers, body, use_kept=False)
        session_digest = credentials.digest_of(verified.session) if verified.session is not None else None
        now = self.clock()
        confirmed = self.check.confirm(verified.key_id, pem, session_digest, verified.nonce, now)
        return self._principal(verified, confirmed, now)

    async def _signed_principal_in_loop(self, checks: LoopChecks, request: Request, body: bytes) -> Principal:
        """`_signed_principal` without a worker thread when the key is kept (every request of a known
        workstation): the signature is checked in the loop (pure work), its statement on the loop's
        connections. A key to read or to read again goes the thread path."""
        url, headers = _url_as_sent(request), request.headers.items()
        try:
            verified, pem = self._verify(request.method, url, headers, body, use_kept=True, kept_only=True)
        except (_KeptKeyRefused, _KeyNotKept):
            return await run_in_threadpool(self._signed_principal, request, body)
        session_digest = credentials.digest_of(verified.session) if verified.session is not None else None
        now = self.clock()
        confirmed = await self.check.confirm_in_loop(
            checks, verified.key_id, pem, session_digest, verified.nonce, now
        )
        return self._principal(verified, confirmed, now)

    def _principal(
        self, verified: VerifiedSignature, confirmed: Confirmed | None, now: datetime
    ) -> Principal:
        """The workstation (and clerk) of a verified signature as the database confirmed it (401 when not)."""
        if confirmed is None:  # revoked or rotated since the key was read
            self.keys.drop(verified.key_id)
            raise Unauthenticated("signature refused: unknown key id")
        workstation_id = verified.key_id
        clerk_id = role = None
        if verified.session is not None:
            expires_at = confirmed.session_expires_at
            if (
                confirmed.clerk_id is None
                or confirmed.session_workstation_id != workstation_id
                or expires_at is None
                or expires_at <= now
            ):
                raise Unauthenticated("clerk session unknown or expired; log in again")
            clerk_id, role = confirmed.clerk_id, confirmed.role
        if not confirmed.fresh_nonce:
            raise Unauthenticated("signature refused: replayed")
        return Principal(
            kind=WORKSTATION,
            office_id=confirmed.office_id,
            workstation_id=workstation_id,
            desk_id=confirmed.desk_id,
            clerk_id=clerk_id,
            role=role,
        )

    def _verify(
        self,
        method: str,
        url: str,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        *,
        use_kept: bool,
        kept_only: bool = False,
    ) -> tuple[VerifiedSignature, str]:
        """The verified signature and the PEM of the key it verified with (kept, or read now;
        `kept_only`: _KeyNotKept rather than read it)."""
        used: dict[str, KnownKey] = {}
        kept = not_kept = False

        def public_key_of(key_id: str) -> ec.EllipticCurvePublicKey:
            nonlocal kept, not_kept
            known = self.keys.get(key_id) if use_kept else None
            kept = known is not None
            if known is None and kept_only:
                not_kept = True
                raise KeyError(key_id)
            if known is None:
                pem = self.check.current_pem(key_id) if len(key_id) <= 64 else None
                if pem is None:
                    raise KeyError(key_id)
                known = self.keys.put(key_id, pem)
            used[key_id] = known
            return known.key

        try:
            verified = verify_request(method, url, headers, body, public_key_of)
        except SignatureRefused as refusal:
            if not_kept:
                raise _KeyNotKept from None
            if kept:
                raise _KeptKeyRefused from None
            raise Unauthenticated(f"signature refused: {refusal}") from None
        return verified, used[verified.key_id].pem


class _KeptKeyRefused(Exception):
    """A signature did not verify with the key this process kept for its id."""


class _KeyNotKept(Exception):
    """The key id's key is not kept in this process (it has to be read from the database)."""


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
