"""The audit trail of personal-data access (DESIGN §6): who, when, which case, why — tamper-evident.

Each event's hash is sha256 over the previous event's hash and the event's canonical JSON, so
changing, removing or reordering an event breaks every later hash. Personal identifiers (names,
document numbers, search terms …) never enter in clear: they are stored as HMAC-SHA256 under the
installation's secret (`workstation.audit_key`): without it, a guess cannot be checked.
Verifying the chain needs no secret: it hashes what is stored.
Call `record` inside a `LocalStore.write()` session: the writer lock keeps the chain from forking.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from workstation.audit_key import identifier_key
from workstation.models import AuditEvent

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

GENESIS_HASH = "0" * 64
# "hmac-sha256:" tells the keyed hashes from the plain "sha256:" ones an older Tresen stored.
IDENTIFIER_PREFIX = "hmac-sha256:"

# Detail keys whose values identify a person; their values are stored hashed.
PERSONAL_KEYS = frozenset(
    {
        "name",
        "given_name",
        "family_name",
        "birth_date",
        "email",
        "phone",
        "address",
        "document_number",
        "mrz",
        "can",
        "booking_reference",
        "query",
    }
)


def hash_identifier(value: object) -> str:
    """A stable, one-way stand-in for a personal identifier (to match events, not to read them):
    stable within the installation, unguessable without its secret."""
    digest = hmac.new(identifier_key(), str(value).encode(), hashlib.sha256).hexdigest()
    return IDENTIFIER_PREFIX + digest


def protect(detail: Mapping[str, Any]) -> dict[str, Any]:
    """The detail with every personal value hashed (nested mappings included)."""
    protected: dict[str, Any] = {}
    for key, value in detail.items():
        if isinstance(value, Mapping):
            protected[key] = protect(value)
        elif key in PERSONAL_KEYS and value is not None:
            protected[key] = hash_identifier(value)
        else:
            protected[key] = value
    return protected


def canonical_json(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(
    prev_hash: str, at: datetime, clerk_id: str, case_id: str | None, action: str, detail: Mapping[str, Any]
) -> str:
    body = canonical_json(
        {
            "at": at.astimezone(UTC).isoformat(),
            "clerk_id": clerk_id,
            "case_id": case_id,
            "action": action,
            "detail": detail,
        }
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def record(
    session: Session,
    clerk_id: str,
    case_id: str | None,
    action: str,
    detail: Mapping[str, Any],
    *,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event to the chain (the caller commits)."""
    moment = (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    last = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    prev_hash = last or GENESIS_HASH
    stored = protect(detail)
    event = AuditEvent(
        at=moment,
        clerk_id=clerk_id,
        case_id=case_id,
        action=action,
        detail=stored,
        prev_hash=prev_hash,
        hash=event_hash(prev_hash, moment, clerk_id, case_id, action, stored),
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainCheck:
    events: int
    first_broken_id: int | None  # None: the chain is intact

    @property
    def intact(self) -> bool:
        return self.first_broken_id is None


def verify_chain(session: Session) -> ChainCheck:
    """Recompute every hash in order; report the first event whose hash or link does not match."""
    prev_hash = GENESIS_HASH
    count = 0
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        count += 1
        expected = event_hash(prev_hash, event.at, event.clerk_id, event.case_id, event.action, event.detail)
        if event.prev_hash != prev_hash or event.hash != expected:
            return ChainCheck(count, event.id)
        prev_hash = event.hash
    return ChainCheck(count, None)
