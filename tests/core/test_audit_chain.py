"""The audit trail: hash-chained, tamper-evident, and without personal data in clear."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from sqlalchemy import select, text

from devices.secret_store import KEYRING_FILE_ENV, file_backend
from tests.core.conftest import NOW
from workstation import audit, audit_key
from workstation.models import AuditEvent

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

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


# --- the keyed identifier hashes ----------------------------------------------------------------------


class MemoryKeyring(KeyringBackend):
    """A keyring in a dict that counts its reads; `failing` makes every read fail as a locked one."""

    # Defining a backend registers it with keyring; 0 is below keyrings.alt's file backends (0.5), so
    # keyring never picks this one for the machine, and devices.secret_store refuses a priority of 0.
    priority = 0

    def __init__(self, *, failing: bool = False) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring leaves it unannotated
        self.entries: dict[tuple[str, str], str] = {}
        self.reads = 0
        self.failing = failing

    def get_password(self, service: str, username: str) -> str | None:
        self.reads += 1
        if self.failing:
            raise keyring.errors.KeyringLocked("locked")
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.entries[(service, username)]


@pytest.fixture
def key_from(suite_keyring: KeyringBackend) -> Iterator[Callable[[KeyringBackend], None]]:
    """Switch the audit key's keyring within a test (as another installation, or a new process);
    the session's keyring is back afterwards."""
    yield audit_key.use_backend
    audit_key.use_backend(suite_keyring)


def stored_key(backend: KeyringBackend) -> bytes:
    text = backend.get_password("tresen-audit", "hmac-key")
    assert text is not None
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_an_identifier_hashes_alike_under_one_secret_and_apart_under_two(
    tmp_path: Path, key_from: Callable[[KeyringBackend], None]
) -> None:
    first, second = file_backend(tmp_path / "first.cfg"), file_backend(tmp_path / "second.cfg")
    key_from(first)
    under_first = audit.hash_identifier("L01X00T47")
    key_from(second)
    under_second = audit.hash_identifier("L01X00T47")
    key_from(file_backend(tmp_path / "first.cfg"))  # the first installation again, in a new process
    assert audit.hash_identifier("L01X00T47") == under_first
    assert under_first != under_second
    assert stored_key(first) != stored_key(second)


def test_the_stored_value_is_the_hmac_under_the_keyrings_secret_not_a_plain_sha256(
    store: LocalStore, tmp_path: Path, key_from: Callable[[KeyringBackend], None]
) -> None:
    backend = file_backend(tmp_path / "keyring.cfg")
    key_from(backend)
    fill(store, 1)
    with store.session() as session:
        stored = session.scalars(select(AuditEvent)).one().detail["document_number"]
    key = stored_key(backend)  # created in the keyring at the first hash
    assert len(key) == 32
    assert stored == "hmac-sha256:" + hmac.new(key, b"L01X00T47", hashlib.sha256).hexdigest()
    plain = hashlib.sha256(b"tresen-audit\x00L01X00T47").hexdigest()  # what an older Tresen stored
    assert plain not in stored
    assert hashlib.sha256(b"L01X00T47").hexdigest() not in stored


def test_the_secret_is_read_from_the_keyring_once_per_process(
    key_from: Callable[[KeyringBackend], None],
) -> None:
    backend = MemoryKeyring()
    key_from(backend)
    hashes = {audit.hash_identifier("Zoë Ölmüller") for _ in range(50)}
    assert len(hashes) == 1
    assert backend.reads == 1
    assert len(backend.entries) == 1


def test_an_unreadable_keyring_stops_the_action_in_german(key_from: Callable[[KeyringBackend], None]) -> None:
    key_from(MemoryKeyring(failing=True))
    with pytest.raises(audit_key.AuditKeyError) as failed:
        audit.hash_identifier("Zoë Ölmüller")
    assert "Schlüsselbund nicht lesbar" in failed.value.user_message


@pytest.mark.parametrize("damaged", ["", "kurz", "!" * 43])
def test_a_damaged_secret_is_refused_not_used(
    damaged: str, key_from: Callable[[KeyringBackend], None]
) -> None:
    backend = MemoryKeyring()
    backend.set_password("tresen-audit", "hmac-key", damaged)
    key_from(backend)
    with pytest.raises(audit_key.AuditKeyError) as failed:
        audit.hash_identifier("Zoë Ölmüller")
    assert "beschädigt" in failed.value.user_message
    assert backend.entries[("tresen-audit", "hmac-key")] == damaged  # not silently replaced


def test_the_suite_keeps_the_audit_key_in_a_keyring_file_of_its_own(suite_keyring: KeyringBackend) -> None:
    """tests/conftest.py: whoever runs the tests finds no audit key of theirs created or used."""
    hashed = audit.hash_identifier("Zoë Ölmüller")
    key = stored_key(suite_keyring)
    assert hashed == "hmac-sha256:" + hmac.new(key, "Zoë Ölmüller".encode(), hashlib.sha256).hexdigest()
    # The same file the processes tests start are pointed at.
    assert stored_key(file_backend(Path(os.environ[KEYRING_FILE_ENV]))) == key
