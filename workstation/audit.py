"""The audit trail of personal-data access (DESIGN §6): who, when, which case, why — tamper-evident.

Each event's hash is sha256 over the previous event's hash and the event's canonical JSON, so
changing, removing or reordering an event breaks every later hash. Personal identifiers (names,
document numbers, search terms …) never enter in clear: they are stored as HMAC-SHA256 under the
installation's secret (`workstation.audit_key`): without it, a guess cannot be checked.
Verifying the chain needs no secret: it hashes what is stored.
Call `record` inside a `LocalStore.write()` session: the writer lock keeps the chain from forking.

Events an older Tresen wrote keep plain sha256 values (`sha256:<hex>`, and card reads' bare
`document_number_hash`), which a guess reverses: `rekey_legacy_identifiers` (run by the retention
schedule) replaces each with an HMAC over it and re-links the chain from there, recording that it did.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, and_, cast, func, or_, select

from workstation.audit_key import identifier_key
from workstation.models import AuditEvent

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
# "hmac-sha256:" tells the keyed hashes from the plain "sha256:" ones an older Tresen stored.
IDENTIFIER_PREFIX = "hmac-sha256:"
LEGACY_PREFIX = "sha256:"
# A legacy value made unguessable: HMAC over the old digest (so legacy events still match each
# other), told apart from `hash_identifier`'s, which is over the value itself.
REKEYED_PREFIX = "hmac-sha256-rekeyed:"
REKEY_ACTION = "audit.legacy_identifiers_rekeyed"
# Detail keys whose value the recorder hashed itself (`card_reading.hash_document_number`): older
# card reads stored the bare sha256 hex there; since the rekeying, card reads store it prefixed.
HASHED_KEYS = frozenset({"document_number_hash"})
_HEX64 = re.compile(r"[0-9a-f]{64}")

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


# --- legacy identifiers -------------------------------------------------------------------------------


class ChainBroken(Exception):
    """The chain does not verify: legacy values are not rewritten, so the rewrite cannot hide a change."""

    def __init__(self, first_broken_id: int | None) -> None:
        super().__init__(f"audit chain broken at event {first_broken_id}")
        self.first_broken_id = first_broken_id


@dataclass(frozen=True)
class Rekeying:
    events: int  # events whose detail changed
    identifiers: int  # values replaced


def _legacy_value(key: str, value: object) -> str | None:
    """The old digest (hex) if `value` is a plain sha256 identifier, else None."""
    if not isinstance(value, str):
        return None
    if key in PERSONAL_KEYS and value.startswith(LEGACY_PREFIX):  # what the old `protect` hashed
        return value.removeprefix(LEGACY_PREFIX)
    if key in HASHED_KEYS and _HEX64.fullmatch(value):
        return value
    return None


def _rekeyed(detail: Mapping[str, Any], key: bytes) -> tuple[dict[str, Any], int]:
    changed: dict[str, Any] = {}
    count = 0
    for name, value in detail.items():
        if isinstance(value, Mapping):
            changed[name], inner = _rekeyed(value, key)
            count += inner
            continue
        old = _legacy_value(name, value)
        if old is None:
            changed[name] = value
        else:
            digest = hmac.new(key, b"legacy\x00" + old.encode(), hashlib.sha256).hexdigest()
            changed[name] = REKEYED_PREFIX + digest
            count += 1
    return changed, count


def _legacy_events() -> ColumnElement[bool]:
    """Events that may hold a legacy value, found by SQL so that a store without any costs one scan:
    a JSON string starting "sha256: (never "hmac-sha256:), or a bare document number hash."""
    document_hash = func.json_extract(AuditEvent.detail, "$.document_number_hash")
    return or_(
        cast(AuditEvent.detail, Text).like('%"sha256:%'),
        and_(document_hash.is_not(None), document_hash.not_like("hmac-sha256%")),  # keyed or rekeyed
    )


def rekey_legacy_identifiers(session: Session, actor: str, *, at: datetime | None = None) -> Rekeying:
    """Replace every plain sha256 identifier with an HMAC over it under the installation's secret,
    re-link the chain from the first changed event, and record one event saying so (with the head
    it replaced). Nothing to do costs one query and never reads the secret. Refuses a chain that does
    not verify (`ChainBroken`): the rewrite must not launder a change. Call in a `write()` session."""
    first = session.scalar(select(func.min(AuditEvent.id)).where(_legacy_events()))
    if first is None:
        return Rekeying(0, 0)
    check = verify_chain(session)
    if not check.intact:
        raise ChainBroken(check.first_broken_id)
    key = identifier_key()
    head_before = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    prev_hash = session.scalar(
        select(AuditEvent.hash).where(AuditEvent.id < first).order_by(AuditEvent.id.desc()).limit(1)
    )
    prev_hash = prev_hash or GENESIS_HASH
    later = session.scalars(select(AuditEvent).where(AuditEvent.id >= first).order_by(AuditEvent.id))
    rewritten = [(event, *_rekeyed(event.detail, key)) for event in later]
    identifiers = sum(count for _event, _detail, count in rewritten)
    if not identifiers:  # only look-alikes (a non-personal value starting "sha256:"): nothing to do
        return Rekeying(0, 0)
    events = 0
    for event, detail, count in rewritten:
        if count:
            event.detail = detail  # a new dict: the JSON column sees the change
            events += 1
        event.prev_hash = prev_hash
        prev_hash = event.hash = event_hash(
            prev_hash, event.at, event.clerk_id, event.case_id, event.action, event.detail
        )
    session.flush()
    record(
        session,
        actor,
        None,
        REKEY_ACTION,
        {"events": events, "identifiers": identifiers, "chain_head_before": head_before},
        at=at,
    )
    log.info("audit: %d legacy identifiers in %d events rekeyed", identifiers, events)
    return Rekeying(events, identifiers)
