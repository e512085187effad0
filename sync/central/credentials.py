"""Who may talk to the central service: enrolled workstation keys, one-time enrollment codes, tokens
for the kiosk, booking systems, displays, capture terminals and administrators, clerk PIN verifiers,
clerk sessions and the keys that resume a clerk's offline login at a workstation.

Secrets are never stored: codes, tokens and session ids are random (256 bits) and kept as their
SHA-256 digest, so a copy of the database lets no one in; PINs are kept as argon2id verifiers
(`sync.pins`). Each function here runs inside the caller's transaction.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from cryptography.exceptions import UnsupportedAlgorithm
from sqlalchemy import ForeignKey, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from sync import pins
from sync.central import presence, store
from sync.central.errors import CentralRefusal, InvalidReference, Locked, NotFound, Unauthenticated
from sync.signatures import (
    MAX_AGE_SECONDS,
    MAX_CLOCK_SKEW,
    load_public_key,
    verify_key_possession,
    verify_offline_login,
)

log = logging.getLogger(__name__)

ENROLLMENT_CODE_LIFETIME = timedelta(hours=24)
ADMIN_TOKEN_LIFETIME = timedelta(minutes=30)
CLERK_SESSION_LIFETIME = timedelta(hours=12)  # a working day; logging out ends it earlier
MAX_PIN_FAILURES, LOCKOUT = pins.MAX_PIN_FAILURES, pins.LOCKOUT


class TokenKind(StrEnum):
    ADMIN = "admin"  # every office's data and reference data; never pushes as a workstation
    KIOSK = "kiosk"  # issue tickets and check in, for one office
    BOOKING = "booking"  # create, list and cancel appointments, for one office
    DISPLAY = "display"  # the waiting-room display of one office
    CAPTURE = "capture"  # the capture terminal of one office: reports that a capture was taken


class Role(StrEnum):
    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    ADMINISTRATOR = "administrator"


class WorkstationKey(store.CentralBase):
    __tablename__ = "workstation_keys"

    workstation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    desk_id: Mapped[str | None] = mapped_column(String(64))  # None: any desk of the office
    public_key_pem: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(200), default="")
    enrolled_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class EnrollmentCode(store.CentralBase):
    __tablename__ = "enrollment_codes"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    desk_id: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    workstation_id: Mapped[str | None] = mapped_column(String(64))


class AccessToken(store.CentralBase):
    __tablename__ = "access_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    office_id: Mapped[str | None] = mapped_column(String(64))  # None only for administrators
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]


class ClerkCredential(store.CentralBase):
    __tablename__ = "clerk_credentials"

    clerk_id: Mapped[str] = mapped_column(ForeignKey("clerks.id"), primary_key=True)
    verifier: Mapped[str] = mapped_column(String(200))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]


class ClerkSession(store.CentralBase):
    __tablename__ = "clerk_sessions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    clerk_id: Mapped[str] = mapped_column(ForeignKey("clerks.id"))
    workstation_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime]


class ClerkOfflineKey(store.CentralBase):
    """The public half of the key a workstation made at a clerk's online login there and keeps sealed
    under that clerk's PIN: after an offline login it proves the PIN was known, and the central service
    gives the clerk a session (`resume_offline_session`). Gone when the PIN changes."""

    __tablename__ = "clerk_offline_keys"

    clerk_id: Mapped[str] = mapped_column(ForeignKey("clerks.id"), primary_key=True)
    workstation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


# --- administrators' side ------------------------------------------------------------------------------


def create_enrollment_code(session: Session, office_id: str, desk_id: str | None, now: datetime) -> str:
    """A one-time code binding the next workstation that uses it to `office_id` (and `desk_id`)."""
    _office_exists(session, office_id)
    if desk_id is not None:
        desk = session.get(store.Desk, desk_id)
        if desk is None or desk.office_id != office_id:
            raise NotFound(f"no desk {desk_id} in office {office_id}")
    code = new_secret()
    session.add(
        EnrollmentCode(
            digest=digest_of(code),
            office_id=office_id,
            desk_id=desk_id,
            expires_at=now + ENROLLMENT_CODE_LIFETIME,
            used_at=None,
        )
    )
    return code


def create_token(
    session: Session,
    kind: TokenKind,
    office_id: str | None,
    now: datetime,
    *,
    lifetime: timedelta | None = None,
    label: str = "",
) -> str:
    if kind is TokenKind.ADMIN:
        office_id = None
        lifetime = lifetime or ADMIN_TOKEN_LIFETIME
    elif office_id is None:
        raise InvalidReference(f"a {kind} token needs an office")
    else:
        _office_exists(session, office_id)
    token = new_secret()
    session.add(
        AccessToken(
            digest=digest_of(token),
            kind=kind.value,
            office_id=office_id,
            label=label,
            created_at=now,
            expires_at=now + lifetime if lifetime else None,
        )
    )
    return token


def set_clerk_pin(session: Session, clerk_id: str, pin: str, *, verifier: str | None = None) -> None:
    """Store the verifier of `pin` (or a verifier made already, e.g. by the seed) for a clerk."""
    if session.get(store.Clerk, clerk_id) is None:
        raise NotFound(f"no clerk {clerk_id}")
    value = verifier if verifier is not None else pins.make_verifier(pin)
    credential = session.get(ClerkCredential, clerk_id)
    if credential is None:
        session.add(ClerkCredential(clerk_id=clerk_id, verifier=value, failures=0, locked_until=None))
    else:
        credential.verifier, credential.failures, credential.locked_until = value, 0, None
    # Sealed under the old PIN: whoever knew that one must not resume offline logins with it.
    session.execute(delete(ClerkOfflineKey).where(ClerkOfflineKey.clerk_id == clerk_id))


# --- enrollment ----------------------------------------------------------------------------------------


def enroll(session: Session, code: str, public_key_pem: str, label: str, now: datetime) -> WorkstationKey:
    """Use a code once: bind a new workstation identity with this public key to the code's office."""
    entry = session.get(EnrollmentCode, digest_of(code), with_for_update=True)
    if entry is None or entry.used_at is not None or entry.expires_at <= now:
        # One answer for unknown, used and expired: the caller learns nothing about other codes.
        raise Unauthenticated("enrollment code unknown, used or expired")
    try:
        load_public_key(public_key_pem)
    except ValueError:
        raise InvalidReference("public key is not a PEM P-256 key") from None
    key = register_workstation(
        session, f"ws-{uuid.uuid4()}", entry.office_id, entry.desk_id, public_key_pem, now, label=label
    )
    entry.used_at, entry.workstation_id = now, key.workstation_id
    return key


def register_workstation(
    session: Session,
    workstation_id: str,
    office_id: str,
    desk_id: str | None,
    public_key_pem: str,
    now: datetime,
    *,
    label: str = "",
) -> WorkstationKey:
    """Bind a public key to a workstation id of an office: what an enrollment does once its code checks
    out (and what the tests use to set up workstations with ids of their choosing)."""
    key = WorkstationKey(
        workstation_id=workstation_id,
        office_id=office_id,
        desk_id=desk_id,
        public_key_pem=public_key_pem,
        label=label,
        enrolled_at=now,
        revoked_at=None,
    )
    session.add(key)
    return key


def rotate_workstation_key(
    session: Session, workstation_id: str, public_key_pem: str, proof: str, now: datetime
) -> WorkstationKey:
    """Bind a new public key to an enrolled workstation (the caller has checked that the request was
    signed with its current key) once `proof` shows the new key signs: from the commit on, the old
    key's signatures are refused. The same key again changes nothing, so a workstation that missed
    the answer can ask again with either key."""
    if not verify_key_possession(public_key_pem, workstation_id, proof):
        # 401 like any credential that does not verify (also for what is no P-256 key at all).
        raise Unauthenticated("new key: proof of possession does not verify")
    key = session.get(WorkstationKey, workstation_id, with_for_update=True)
    if key is None or key.revoked_at is not None:
        raise Unauthenticated("workstation unknown or revoked")
    if key.public_key_pem != public_key_pem:
        key.public_key_pem = public_key_pem
        log.info("workstation %s: key rotated at %s", workstation_id, now.isoformat(timespec="seconds"))
    return key


def revoke_workstation(session: Session, workstation_id: str, now: datetime) -> None:
    """A lost or replaced workstation: its key signs nothing any more, and its clerk sessions end."""
    key = session.get(WorkstationKey, workstation_id)
    if key is None:
        raise NotFound(f"no workstation {workstation_id}")
    key.revoked_at = key.revoked_at or now
    presence.end_workstation_presence(session, workstation_id, now)
    for clerk_session in session.scalars(
        select(ClerkSession).where(ClerkSession.workstation_id == workstation_id)
    ):
        session.delete(clerk_session)
    session.execute(delete(ClerkOfflineKey).where(ClerkOfflineKey.workstation_id == workstation_id))


# --- clerk sessions ------------------------------------------------------------------------------------


def open_clerk_session(
    session: Session,
    workstation: WorkstationKey,
    clerk_id: str,
    pin: str,
    now: datetime,
    *,
    offline_key_pem: str | None = None,
) -> tuple[str, ClerkSession] | CentralRefusal:
    """Check a clerk's PIN for a login at `workstation`: the session's secret, or the refusal. With
    `offline_key_pem`, the key that will prove a later offline login there is kept for the clerk.

    A refusal is returned, not raised, so that the caller commits the failure count before it
    answers (a raised refusal would roll the count back, and the lockout would never come)."""
    clerk = session.get(store.Clerk, clerk_id)
    credential = session.get(ClerkCredential, clerk_id, with_for_update=True)
    if clerk is None or credential is None or clerk.office_id != workstation.office_id:
        pins.verify(pins.dummy_verifier(), pin)  # the same work as a real check: no timing oracle
        return Unauthenticated("clerk unknown or PIN wrong")
    if credential.locked_until is not None and credential.locked_until > now:
        return Locked("clerk locked after repeated wrong PINs")
    if not pins.verify(credential.verifier, pin):
        credential.failures += 1
        if credential.failures >= MAX_PIN_FAILURES:
            credential.failures, credential.locked_until = 0, now + LOCKOUT
        return Unauthenticated("clerk unknown or PIN wrong")
    credential.failures, credential.locked_until = 0, None
    if offline_key_pem is not None:
        _keep_offline_key(session, clerk_id, workstation.workstation_id, offline_key_pem, now)
    return _new_clerk_session(session, clerk, workstation.workstation_id, now)


def _new_clerk_session(
    session: Session, clerk: store.Clerk, workstation_id: str, now: datetime
) -> tuple[str, ClerkSession]:
    secret = new_secret()
    clerk_session = ClerkSession(
        digest=digest_of(secret),
        clerk_id=clerk.id,
        workstation_id=workstation_id,
        role=clerk.role,
        expires_at=now + CLERK_SESSION_LIFETIME,
    )
    session.add(clerk_session)
    return secret, clerk_session


def _keep_offline_key(
    session: Session, clerk_id: str, workstation_id: str, public_key_pem: str, now: datetime
) -> None:
    try:
        load_public_key(public_key_pem)
    except (ValueError, UnsupportedAlgorithm):
        # Not refused: the login itself is fine; only an offline login there will not resume.
        log.info("clerk login at %s: the offline key is no P-256 key, not kept", workstation_id)
        return
    entry = session.get(ClerkOfflineKey, (clerk_id, workstation_id))
    if entry is None:
        session.add(
            ClerkOfflineKey(
                clerk_id=clerk_id,
                workstation_id=workstation_id,
                public_key_pem=public_key_pem,
                created_at=now,
            )
        )
    else:
        entry.public_key_pem, entry.created_at = public_key_pem, now


OFFLINE_PROOF_AGE = timedelta(seconds=MAX_AGE_SECONDS) + MAX_CLOCK_SKEW


def resume_offline_session(
    session: Session, workstation: WorkstationKey, clerk_id: str, signed_at: int, proof: str, now: datetime
) -> tuple[str, ClerkSession]:
    """A session for a clerk who logged in at `workstation` while the central service was away: the
    workstation signed this request, and `proof` is the signature of the key it keeps sealed under the
    clerk's PIN (unsealed by that offline login) over the workstation, the clerk and `signed_at`
    (Unix seconds, recent). No PIN travels, none is kept in memory; a PIN changed since, a lockout or
    a clerk of another office is refused as an online login would be."""
    clerk = session.get(store.Clerk, clerk_id)
    entry = session.get(ClerkOfflineKey, (clerk_id, workstation.workstation_id))
    if clerk is None or entry is None or clerk.office_id != workstation.office_id:
        raise Unauthenticated("no offline login key for this clerk at this workstation")
    if abs(now.timestamp() - signed_at) > OFFLINE_PROOF_AGE.total_seconds():
        raise Unauthenticated("offline login proof too old or from the future")
    if not verify_offline_login(entry.public_key_pem, proof, workstation.workstation_id, clerk_id, signed_at):
        raise Unauthenticated("offline login proof does not verify")
    credential = session.get(ClerkCredential, clerk_id)
    if credential is None:
        raise Unauthenticated("clerk has no PIN")
    if credential.locked_until is not None and credential.locked_until > now:
        raise Locked("clerk locked after repeated wrong PINs")
    return _new_clerk_session(session, clerk, workstation.workstation_id, now)


def end_clerk_session(session: Session, secret: str) -> None:
    entry = session.get(ClerkSession, digest_of(secret))
    if entry is not None:
        session.delete(entry)


def _office_exists(session: Session, office_id: str) -> None:
    if session.scalar(select(store.Office.id).where(store.Office.id == office_id)) is None:
        raise NotFound(f"no office {office_id}")
