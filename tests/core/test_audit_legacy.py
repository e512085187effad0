"""Issue 8: audit events an older Tresen wrote keep plain sha256 identifiers (`sha256:<hex>` of a name,
a search, a document number, and card reads' bare `document_number_hash`), which hashing guesses
reverses. The retention schedule re-keys them (an HMAC over the old digest under the installation's
secret), re-links the chain, and records that it did; the chain verifies afterwards."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from tests.core.conftest import NOW
from workstation import audit
from workstation.models import AuditEvent
from workstation.retention import purge_personal_data

if TYPE_CHECKING:
    import pytest

    from workstation.db import LocalStore

NAME, NUMBER, SEARCH = "Zoë Ölmüller", "L01X00T47", "ölmüller 1987"


def old_digest(value: str) -> str:
    """The identifier hash of Tresen before keyed hashes: sha256 over a fixed prefix and the value."""
    return hashlib.sha256(b"tresen-audit\x00" + value.encode()).hexdigest()


def _append_as_before(store: LocalStore, action: str, detail: dict[str, Any], minute: int) -> None:
    """An event as the older Tresen stored it: the detail as given, linked into the chain."""
    with store.write() as session:
        last = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
        prev_hash = last or audit.GENESIS_HASH
        at = NOW + timedelta(minutes=minute)
        session.add(
            AuditEvent(
                at=at,
                clerk_id="clerk-1",
                case_id="case-1",
                action=action,
                detail=detail,
                prev_hash=prev_hash,
                hash=audit.event_hash(prev_hash, at, "clerk-1", "case-1", action, detail),
            )
        )


def _legacy_trail(store: LocalStore) -> None:
    _append_as_before(
        store,
        "case.read",
        {
            "purpose": "serving",
            "name": f"sha256:{old_digest(NAME)}",
            "search": {"query": f"sha256:{old_digest(SEARCH)}"},
        },
        0,
    )
    _append_as_before(
        store, "card.read", {"document_number_hash": old_digest(NUMBER), "document_code": "ID"}, 1
    )
    _append_as_before(store, "case.read", {"purpose": "serving", "name": f"sha256:{old_digest(NAME)}"}, 2)
    with store.write() as session:  # and what this Tresen writes, keyed, after them
        audit.record(session, "clerk-1", "case-2", "case.read", {"name": NAME}, at=NOW + timedelta(minutes=3))
        audit.record(
            session,
            "clerk-1",
            "case-2",
            "card.read",
            {"document_number_hash": audit.hash_identifier(NUMBER)},
            at=NOW + timedelta(minutes=4),
        )


def _details(store: LocalStore) -> list[dict[str, Any]]:
    with store.session() as session:
        return [event.detail for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_the_schedule_rekeys_legacy_identifiers_and_the_chain_still_verifies(store: LocalStore) -> None:
    _legacy_trail(store)
    keyed_before = _details(store)[3:]
    purge_personal_data(store, NOW + timedelta(hours=1))

    details = _details(store)
    dumped = json.dumps(details)
    for guessable in (old_digest(NAME), old_digest(SEARCH), old_digest(NUMBER)):
        assert guessable not in dumped  # a guess no longer finds its event
    assert '"sha256:' not in dumped
    first, card, again = details[:3]
    assert first["name"].startswith(audit.REKEYED_PREFIX)
    assert first["search"]["query"].startswith(audit.REKEYED_PREFIX)
    assert card["document_number_hash"].startswith(audit.REKEYED_PREFIX)
    assert card["document_code"] == "ID"
    assert first["purpose"] == "serving"
    assert first["name"] == again["name"]  # legacy events still match each other
    assert details[3:5] == keyed_before  # keyed values are left as they are
    marker = details[5]
    assert marker["events"] == 3
    assert marker["identifiers"] == 4
    with store.session() as session:
        assert audit.verify_chain(session).intact
        assert session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc())).first() == (
            audit.REKEY_ACTION
        )

    purge_personal_data(store, NOW + timedelta(hours=2))  # nothing left to do: no second marker
    assert _details(store) == details


def test_a_store_without_legacy_values_is_left_alone(store: LocalStore) -> None:
    with store.write() as session:
        audit.record(session, "clerk-1", "case-2", "case.read", {"name": NAME}, at=NOW)
        audit.record(
            session,
            "clerk-1",
            "case-2",
            "card.read",
            {"document_number_hash": audit.hash_identifier(NUMBER)},
            at=NOW,
        )
    before = _details(store)
    with store.write() as session:
        assert audit.rekey_legacy_identifiers(session, "system:retention") == audit.Rekeying(0, 0)
    assert _details(store) == before


def test_a_broken_chain_is_not_rewritten_and_the_purge_goes_on(
    store: LocalStore, caplog: pytest.LogCaptureFixture
) -> None:
    _legacy_trail(store)
    with store.write() as session:  # someone edited an event in the file
        session.execute(text("UPDATE audit_events SET clerk_id = 'clerk-9' WHERE id = 2"))
    before = _details(store)
    with caplog.at_level(logging.ERROR, logger="workstation.retention"):
        purge_personal_data(store, NOW + timedelta(hours=1))
    assert "legacy audit identifiers left as they are: audit chain broken at event 2" in caplog.text
    assert _details(store) == before  # the rewrite would have hidden the edit
    with store.session() as session:
        assert audit.verify_chain(session).first_broken_id == 2
