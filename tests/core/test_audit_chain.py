"""The audit trail: hash-chained, tamper-evident, and without personal data in clear."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, text

from tests.core.conftest import NOW
from workstation import audit
from workstation.models import AuditEvent

if TYPE_CHECKING:
    from workstation.db import LocalStore


def fill(store: LocalStore, count: int = 4) -> None:
    with store.write() as session:
        for index in range(count):
            audit.record(
                session,
                "clerk-1",
                f"case-{index}",
                "case.read",
                {"purpose": "serving", "name": "Zoë Ölmüller", "document_number": "L01X00T47", "n": index},
                at=NOW + timedelta(minutes=index),
            )


def test_events_link_and_verify(store: LocalStore) -> None:
    fill(store)
    with store.session() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        assert events[0].prev_hash == audit.GENESIS_HASH
        assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
        assert len({e.hash for e in events}) == 4
        assert audit.verify_chain(session) == audit.ChainCheck(4, None)


def test_personal_identifiers_are_hashed_before_they_go_in(store: LocalStore) -> None:
    fill(store, 1)
    with store.engine.connect() as connection:
        raw = connection.exec_driver_sql("SELECT detail FROM audit_events").scalar()
    assert isinstance(raw, str)
    assert "Ölmüller" not in raw
    assert "\\u00d6lm" not in raw
    assert "L01X00T47" not in raw
    with store.session() as session:
        event = session.scalars(select(AuditEvent)).one()
    assert event.detail["name"] == audit.hash_identifier("Zoë Ölmüller")
    assert event.detail["purpose"] == "serving"
    assert event.detail["n"] == 0


def test_changing_an_event_breaks_the_chain_there(store: LocalStore) -> None:
    fill(store)
    with store.session() as session:
        session.execute(text("UPDATE audit_events SET action = 'case.print' WHERE id = 3"))
        session.commit()
        assert audit.verify_chain(session).first_broken_id == 3


def test_removing_an_event_breaks_the_chain(store: LocalStore) -> None:
    fill(store)
    with store.session() as session:
        session.execute(text("DELETE FROM audit_events WHERE id = 2"))
        session.commit()
        check = audit.verify_chain(session)
        assert not check.intact
        assert check.first_broken_id == 3


def test_rewriting_a_hash_does_not_hide_the_change(store: LocalStore) -> None:
    """Recomputing one event's hash after editing it still breaks the link of the next event."""
    fill(store)
    with store.session() as session:
        event = session.get_one(AuditEvent, 2)
        event.clerk_id = "clerk-9"
        event.hash = audit.event_hash(
            event.prev_hash, event.at, "clerk-9", event.case_id, event.action, event.detail
        )
        session.commit()
        assert audit.verify_chain(session).first_broken_id == 3
