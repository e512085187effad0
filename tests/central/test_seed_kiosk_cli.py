"""The seeded day, the kiosk simulator against a real server, and the `tresen central` commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.central import store
from sync.central.embedded import start_embedded
from sync.central.kiosk import kiosk_for
from sync.central.seed import generate_day, seed_central
from tests.central.conftest import DAY, OFFICE, OPENING
from tresen.cli import main as tresen

if TYPE_CHECKING:
    from pathlib import Path

    from sync.protocol import AppointmentSnapshot, TicketSnapshot


def test_the_day_is_realistic_and_deterministic() -> None:
    day = generate_day(DAY, seed=5)
    assert day == generate_day(DAY, seed=5)
    assert day != generate_day(DAY, seed=6)
    assert len(day.appointments) == 150
    assert len(day.tickets) == 8
    assert {o.kind for o in day.offices} == {"buergeramt", "zulassungsstelle"}
    assert len([d for d in day.desks if d.office_id == OFFICE]) == 8
    fees = {s.name: s.fee_cents for s in day.services}
    assert fees["Personalausweis beantragen"] == 4600
    assert fees["Reisepass beantragen"] == 7000
    assert fees["Meldebescheinigung"] == 900
    assert fees["Anmeldung / Ummeldung"] == 0
    assert any(set("äöüß") & set(a.family_name + a.given_name) for a in day.appointments)
    assert any(len(a.service_ids) > 1 and a.office_id == "zl-sued" for a in day.appointments)
    assert len({a.booking_reference for a in day.appointments}) == 150
    assert all(OPENING <= a.slot_start < OPENING + timedelta(hours=8) for a in day.appointments)
    assert all(t.issued_at < OPENING and t.state == "waiting" for t in day.tickets)


def test_a_benchmark_day_has_5000_appointments_and_2000_waiting() -> None:
    day = generate_day(DAY, appointments=5000, waiting=2000)
    assert len(day.appointments) == 5000
    assert len(day.tickets) == 2000
    assert len({t.id for t in day.tickets}) == 2000
    checked_in = {t.appointment_id for t in day.tickets if t.appointment_id}
    assert all(a.status == "checked_in" for a in day.appointments if a.id in checked_in)
    numbers = {(t.office_id, t.number) for t in day.tickets}
    assert len(numbers) == 2000  # no number twice in one office


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), appointments=st.integers(1, 400), waiting=st.integers(0, 60))
def test_any_generated_day_keeps_its_references_consistent(
    seed: int, appointments: int, waiting: int
) -> None:
    day = generate_day(DAY, seed=seed, appointments=appointments, waiting=waiting)
    services = {s.id: s.office_id for s in day.services}
    rows: list[AppointmentSnapshot | TicketSnapshot] = [*day.appointments, *day.tickets]
    for row in rows:
        assert all(services[service_id] == row.office_id for service_id in row.service_ids)
    assert len(day.appointments) == appointments
    assert len(day.tickets) == waiting


def test_seeding_twice_writes_nothing_new(tmp_path: Path) -> None:
    central = store.CentralStore(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    central.create_schema()
    with central.write() as session:
        first = seed_central(session, generate_day(DAY))
    with central.write() as session:
        assert seed_central(session, generate_day(DAY)) == 0
        # Every row written got its own version in its office: the counters add up to the rows.
        assert store.current_version(session, OFFICE) + store.current_version(session, "zl-sued") == first
    central.dispose()


def test_the_kiosk_issues_walk_ins_and_checks_in_due_appointments(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    now = datetime.now(UTC)
    central_store = store.CentralStore(db_url)
    central_store.create_schema()
    with central_store.write() as session:
        seed_central(session, generate_day(now.date(), waiting=0))
    central_store.dispose()
    with start_embedded(db_url) as central:
        kiosk = kiosk_for(central.store, central.url, OFFICE, seed=1)
        slot_day = datetime.combine(now.date(), datetime.min.time(), UTC)
        tickets = [kiosk.issue_once(slot_day + timedelta(hours=8, minutes=5 * n)) for n in range(40)]
        kiosk.stop()
    assert len({t.id for t in tickets}) == 40
    assert {t.origin for t in tickets} == {"kiosk", "appointment"}
    assert all(t.office_id == OFFICE and t.state == "waiting" for t in tickets)


def test_cli_seed_then_refuses_a_bad_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db_url = f"sqlite:///{tmp_path / 'sub' / 'central.sqlite3'}"
    assert tresen(["central", "seed", "--db", db_url, "--date", "2026-03-02"]) == 0
    assert "150 Termine" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        tresen(["central", "seed", "--db", db_url, "--date", "2026-13-02"])
    assert exit_info.value.code == 2
    assert "kein gültiges Datum" in capsys.readouterr().err


def test_cli_reports_an_unreachable_database_in_german(capsys: pytest.CaptureFixture[str]) -> None:
    unreachable = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    assert tresen(["central", "seed", "--db", unreachable]) == 2
    assert "Datenbank nicht erreichbar" in capsys.readouterr().err
