"""Personal data purged on schedule (DESIGN §6): what goes, what stays, idempotence, the audit event,
the outbox, SQLite's zeroing of freed pages, the schedule in a Textual thread worker, and the CLI."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, select
from textual.app import App

from tests.core.conftest import CLERK_1, DESK_1, NOW, OFFICE, PA, SmallOffice, build_small_office
from tests.waiting import wait_until_async
from tresen.cli import main as tresen
from workstation import audit
from workstation.db import LocalStore
from workstation.models import (
    Appointment,
    AuditEvent,
    CardRead,
    Case,
    CaseService,
    OperationStatus,
    OutboxOperation,
    Ticket,
    TicketState,
)
from workstation.retention import (
    AUDIT_ACTION,
    RetentionPolicy,
    RetentionSchedule,
    purge_personal_data,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# NOW is Monday 2026-03-02 10:00 in Berlin: today's office day began 2026-03-01 23:00 UTC.
TODAY_START = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)
CHIP_MARKER = "QUAPPENDORF"  # a family name on the chip no other data contains
PHOTO_MARKER = b"FACE-IMAGE-BYTES"


def add_card_read(store: LocalStore, case_id: str, read_at: datetime, read_id: str | None = None) -> str:
    read_id = read_id or f"read-{case_id}"
    with store.write() as session:
        session.add(
            CardRead(
                id=read_id,
                case_id=case_id,
                clerk_id=CLERK_1,
                read_at=read_at,
                access_protocol="PACE",
                document_code="ID",
                document_number_hash="0" * 64,
                chip_data={"family_name": CHIP_MARKER, "given_name": "Jürgen", "birth_date": "1980-05-17"},
                photo=PHOTO_MARKER * 400,
                photo_mime="image/jpeg",
                verdict="VERIFIED",
                verification_steps=[{"name": "sod_signature", "ok": True, "detail": ""}],
            )
        )
    return read_id


def visit(
    office: SmallOffice,
    ticket_id: str,
    at: datetime,
    *,
    end: str = "finish",
    notes: str = "Bürger bringt Geburtsurkunde nach",
    card_read: bool = True,
    appointment: bool = True,
) -> str:
    """A citizen served at `at` through the real counter commands; returns the case id."""
    office.clock.now = at
    office.add_ticket(
        ticket_id, f"A{len(ticket_id)}{ticket_id[-2:]}", 5, slot_in_minutes=0 if appointment else None
    )
    counter = office.counter()
    counter.call_ticket(ticket_id)
    case_id = counter.citizen_arrived().case_id
    if card_read:
        add_card_read(office.store, case_id, at + timedelta(minutes=2))
    office.clock.now = at + timedelta(minutes=12)
    if end == "finish":
        counter.finish({PA: "completed"}, notes=notes)
    elif end == "park":
        counter.park()
    office.clock.now = NOW
    return case_id


def end_ticket_centrally(store: LocalStore, ticket_id: str, state: TicketState) -> None:
    """What a pull does when the supervisor cancels a ticket elsewhere."""
    with store.write() as session:
        session.get_one(Ticket, ticket_id).state = state


def card_read_cases(store: LocalStore) -> set[str]:
    with store.session() as session:
        return set(session.scalars(select(CardRead.case_id)))


def appointment(store: LocalStore, appointment_id: str) -> Appointment:
    with store.session() as session:
        return session.get_one(Appointment, appointment_id)


def case(store: LocalStore, case_id: str) -> Case:
    with store.session() as session:
        return session.get_one(Case, case_id)


def table_dump(store: LocalStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to compare a store before and after a run."""
    with sqlite3.connect(store.path) as connection:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: sorted(map(tuple, connection.execute(f'SELECT * FROM "{t}"')), key=repr) for t in tables}


# --- what is purged, what is kept ------------------------------------------------------------------------


def test_the_purge_removes_what_the_case_no_longer_needs_and_keeps_the_rest(office: SmallOffice) -> None:
    store = office.store
    old = visit(office, "t-old", NOW - timedelta(days=3))
    yesterday = visit(office, "t-yesterday", NOW - timedelta(days=1))
    today = visit(office, "t-today", NOW - timedelta(hours=1))
    parked = visit(office, "t-parked", NOW - timedelta(minutes=30), end="park")
    cancelled = visit(office, "t-cancelled", NOW - timedelta(minutes=20), end="park")
    end_ticket_centrally(store, "t-cancelled", TicketState.CANCELLED)
    # A ticket of an old appointment still in the queue keeps its citizen's data.
    office.clock.now = NOW - timedelta(days=4)
    office.add_ticket("t-waiting", "A900", 5, slot_in_minutes=0)
    office.clock.now = NOW

    report = purge_personal_data(store, NOW)

    assert (report.card_reads, report.appointments, report.case_notes) == (3, 1, 1)
    assert report.card_data_before == TODAY_START
    assert report.citizen_data_before == TODAY_START - timedelta(days=1)
    assert card_read_cases(store) == {today, parked}
    assert cancelled not in card_read_cases(store)
    assert old not in card_read_cases(store)

    blanked = appointment(store, "apt-t-old")
    assert (blanked.given_name, blanked.family_name, blanked.birth_date) == ("", "", None)
    assert (blanked.email, blanked.phone) == (None, None)
    assert blanked.booking_reference == "REF-t-old"
    assert blanked.status == "finished"
    assert [s.id for s in blanked.services] == [PA]
    assert blanked.slot_start == NOW - timedelta(days=3)
    assert case(store, old).notes == ""
    old_case = case(store, old)
    assert old_case.finished_at is not None
    assert old_case.served_seconds == 12 * 60
    assert [(s.service_id, s.outcome) for s in old_case.services] == [(PA, "completed")]

    for kept in ("apt-t-yesterday", "apt-t-today", "apt-t-waiting"):
        assert appointment(store, kept).family_name.startswith("Müller-")
        assert appointment(store, kept).birth_date == date(1980, 5, 17)
    assert case(store, yesterday).notes == "Bürger bringt Geburtsurkunde nach"


def test_card_data_hours_purges_chip_data_the_same_day(office: SmallOffice) -> None:
    store = office.store
    early = visit(office, "t-early", NOW - timedelta(hours=3))
    recent = visit(office, "t-recent", NOW - timedelta(minutes=40))
    report = purge_personal_data(store, NOW, RetentionPolicy(card_data_hours=1))
    assert report.card_reads == 1
    assert report.card_data_before == NOW - timedelta(hours=1)
    assert card_read_cases(store) == {recent}
    assert early not in card_read_cases(store)


def test_citizen_data_days_counts_office_days(office: SmallOffice) -> None:
    store = office.store
    visit(office, "t-sun", TODAY_START - timedelta(minutes=30), card_read=False)  # Sunday 23:30 in Berlin
    visit(office, "t-mon", TODAY_START + timedelta(minutes=5), card_read=False)  # Monday 00:05 in Berlin
    # One office day: only today's appointments keep their citizens.
    report = purge_personal_data(store, NOW, RetentionPolicy(citizen_data_days=1))
    assert report.citizen_data_before == TODAY_START
    assert appointment(store, "apt-t-sun").family_name == ""
    assert appointment(store, "apt-t-mon").family_name == "Müller-t-mon"
    with pytest.raises(ValueError, match="citizen_data_days must be at least 1"):
        RetentionPolicy(citizen_data_days=0)


def test_an_abandoned_case_keeps_no_chip_data_beyond_the_citizen_data(office: SmallOffice) -> None:
    parked_long_ago = visit(office, "t-parked-old", NOW - timedelta(days=3), end="park")
    report = purge_personal_data(office.store, NOW)
    assert report.card_reads == 1
    assert parked_long_ago not in card_read_cases(office.store)
    assert appointment(office.store, "apt-t-parked-old").family_name.startswith("Müller-")  # still queued


# --- idempotence, audit, outbox ---------------------------------------------------------------------------


def test_a_second_run_finds_nothing_and_changes_nothing(office: SmallOffice) -> None:
    visit(office, "t-old", NOW - timedelta(days=3))
    visit(office, "t-mid", NOW - timedelta(days=1))
    first = purge_personal_data(office.store, NOW)
    assert first.total == 4
    assert first.batches == 1
    before = table_dump(office.store)
    second = purge_personal_data(office.store, NOW)
    assert second.total == 0
    assert second.wal_truncated is None
    assert table_dump(office.store) == before


def test_small_batches_purge_everything_and_audit_once(office: SmallOffice) -> None:
    for day in range(3, 8):
        visit(office, f"t-day{day}", NOW - timedelta(days=day))
    report = purge_personal_data(office.store, NOW, batch_size=2)
    assert (report.card_reads, report.appointments, report.case_notes) == (5, 5, 5)
    assert report.batches == 3
    with office.store.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == AUDIT_ACTION)).all()
        assert len(events) == 1
        assert events[0].detail["card_reads"] == 5


def test_the_run_is_one_audit_event_with_counts_only(office: SmallOffice) -> None:
    visit(office, "t-old", NOW - timedelta(days=3), notes="Frau Quappendorf, Tel. 0151 2345678")
    purge_personal_data(office.store, NOW)
    with office.store.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == AUDIT_ACTION)).all()
        assert audit.verify_chain(session).intact
    assert len(events) == 1
    purge_event = events[0]
    assert purge_event.clerk_id == "system:retention"
    assert purge_event.case_id is None
    assert purge_event.at == NOW
    assert {k: purge_event.detail[k] for k in ("card_reads", "appointments", "case_notes")} == {
        "card_reads": 1,
        "appointments": 1,
        "case_notes": 1,
    }
    stored = json.dumps(purge_event.detail, ensure_ascii=False)
    for personal in ("Müller", "Jürgen", "1980", CHIP_MARKER, "Quappendorf", "0151", "REF-"):
        assert personal not in stored


def test_outbox_operations_are_never_touched(office: SmallOffice) -> None:
    visit(office, "t-old", NOW - timedelta(days=3))
    visit(office, "t-today", NOW - timedelta(hours=2))
    with office.store.write() as session:  # the older visit's operations reached the central service
        for operation in session.scalars(select(OutboxOperation).order_by(OutboxOperation.seq).limit(3)):
            operation.status = OperationStatus.APPLIED

    def outbox() -> list[tuple[Any, ...]]:
        with office.store.session() as session:
            return [
                (o.seq, o.op_id, o.kind, o.args, o.status, o.base_version)
                for o in session.scalars(select(OutboxOperation).order_by(OutboxOperation.seq))
            ]

    before = outbox()
    assert any(status == OperationStatus.PENDING for *_, status, _base in before)
    assert purge_personal_data(office.store, NOW).total == 3
    assert outbox() == before


def test_a_dry_run_counts_without_changing_anything(office: SmallOffice) -> None:
    visit(office, "t-old", NOW - timedelta(days=3))
    visit(office, "t-mid", NOW - timedelta(days=1))
    before = table_dump(office.store)
    dry = purge_personal_data(office.store, NOW, dry_run=True)
    assert table_dump(office.store) == before
    real = purge_personal_data(office.store, NOW)
    assert dry.dry_run
    assert (dry.card_reads, dry.appointments, dry.case_notes) == (
        real.card_reads,
        real.appointments,
        real.case_notes,
    )


# --- SQLite: the freed pages are zeroed ----------------------------------------------------------------


def test_purged_chip_data_leaves_no_bytes_in_the_database_files(office: SmallOffice) -> None:
    store = office.store
    # As on builds without SQLITE_SECURE_DELETE (Debian's has it on): the purge must switch it on itself.
    store.dispose()
    for engine in (store.engine, store.write_engine):
        event.listen(engine, "connect", _secure_delete_off)
    visit(office, "t-old", NOW - timedelta(days=3))
    files = [store.path, store.path.with_name(store.path.name + "-wal")]
    assert any(PHOTO_MARKER in f.read_bytes() for f in files if f.exists())

    report = purge_personal_data(store, NOW)

    assert report.card_reads == 1
    assert report.wal_truncated is True
    assert store.path.with_name(store.path.name + "-wal").stat().st_size == 0
    for file in files:
        content = file.read_bytes()
        assert PHOTO_MARKER not in content
        assert CHIP_MARKER.encode() not in content
    with store.session() as session:  # and other connections got their own setting back
        assert session.connection().exec_driver_sql("PRAGMA secure_delete").scalar() == 0


def _secure_delete_off(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    dbapi_connection.execute("PRAGMA secure_delete=OFF")


# --- the schedule ---------------------------------------------------------------------------------------


async def test_the_schedule_purges_at_start_and_on_its_interval_in_a_thread_worker(
    office: SmallOffice,
) -> None:
    store = office.store
    first = visit(office, "t-old", NOW - timedelta(days=3))
    later = visit(office, "t-later", NOW - timedelta(days=2))
    schedule = RetentionSchedule(store, clock=lambda: NOW, interval_seconds=0.2)
    with store.write() as session:  # the second read appears only after the first run
        session.execute(delete(CardRead).where(CardRead.case_id == later))
    app: App[None] = App()
    async with app.run_test():
        schedule.attach(app)
        await app.workers.wait_for_complete()
        assert schedule.last_report is not None
        assert schedule.last_report.card_reads == 1
        assert first not in card_read_cases(store)
        add_card_read(store, later, NOW - timedelta(days=2))
        await wait_until_async(lambda: later not in card_read_cases(store), "a run on the interval purges")
        await app.workers.wait_for_complete()
    assert card_read_cases(store) == set()


def test_a_failed_run_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    broken = tmp_path / "kaputt.sqlite3"
    broken.write_bytes(b"this is not a database" * 100)
    store = LocalStore(broken)
    try:
        assert RetentionSchedule(store, clock=lambda: NOW).run_now() is None
    finally:
        store.dispose()
    assert "purge failed" in caplog.text


# --- the administrator's CLI -----------------------------------------------------------------------------


def test_tresen_purge_on_the_configured_store(
    office: SmallOffice, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    visit(office, "t-old", NOW - timedelta(days=3))
    visit(office, "t-new", datetime.now(UTC) - timedelta(minutes=5))  # today, whenever the test runs
    office.store.dispose()
    config = tmp_path / "tresen.toml"
    config.write_text(f'[store]\npath = "{office.store.path}"\n\n[privacy]\ncitizen_data_days = 2\n')

    assert tresen(["--config", str(config), "purge", "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert "Probelauf" in dry
    assert "1 Ausweis-Auslesungen" in dry
    assert "Bürgerdaten von 1 Terminen" in dry
    assert card_read_cases(office.store) != set()

    assert tresen(["--config", str(config), "purge"]) == 0
    done = capsys.readouterr().out
    assert done.startswith("Gelöscht: 1 Ausweis-Auslesungen")
    assert "Notizen von 1 Vorgängen" in done
    assert "Müller" not in dry + done
    with office.store.session() as session:
        actors = session.scalars(select(AuditEvent.clerk_id).where(AuditEvent.action == AUDIT_ACTION)).all()
    assert actors == ["administrator:cli"]


def test_tresen_purge_names_a_bad_privacy_setting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "tresen.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "s.sqlite3"}"\n[privacy]\ncitizen_data_days = 0\n')
    assert tresen(["--config", str(config), "purge"]) == 2
    assert "Zeile 4" in capsys.readouterr().err


# --- property: old records hold no personal data afterwards, and nothing a figure needs is lost --------

ENDS = ("finished", "no_show", "cancelled", "transferred", "parked", "serving", "waiting")


@st.composite
def visits(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=1, max_value=12))
    return [
        {
            "slot": NOW + timedelta(minutes=draw(st.integers(min_value=-6 * 24 * 60, max_value=24 * 60))),
            "end": draw(st.sampled_from(ENDS)),
            "appointment": draw(st.booleans()),
            "card_read": draw(st.booleans()),
            "notes": draw(st.sampled_from(["", "Bürgerin bringt Urkunde nach", "Tel. 0151 2345678"])),
            "email": draw(st.sampled_from([None, "erika@example.org"])),
            "phone": draw(st.sampled_from([None, "0151 2345678"])),
        }
        for _ in range(count)
    ]


policies = st.builds(
    RetentionPolicy,
    card_data_hours=st.one_of(st.none(), st.floats(min_value=0, max_value=72)),
    citizen_data_days=st.integers(min_value=1, max_value=5),
)


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("retention") / "template.sqlite3"
    store = LocalStore(path)
    store.migrate()
    with store.session() as session:
        build_small_office(session)
        session.commit()
    store.dispose()  # the last connection's close checkpoints the WAL into the file
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM desks").fetchone() == (2,)
    return path


def fill(session: Session, planned: list[dict[str, Any]]) -> None:
    """Rows as the commands and pulls leave them: tickets, cases with outcomes, card reads."""
    for index, plan in enumerate(planned):
        slot: datetime = plan["slot"]
        appointment_id = f"apt-{index}" if plan["appointment"] else None
        if appointment_id:
            session.add(
                Appointment(
                    id=appointment_id,
                    office_id=OFFICE,
                    booking_reference=f"REF-{index}",
                    slot_start=slot,
                    status="finished" if plan["end"] == "finished" else "checked_in",
                    given_name="Erika",
                    family_name=f"Musterfrau-{index}",
                    birth_date=date(1964, 8, 12),
                    email=plan["email"],
                    phone=plan["phone"],
                )
            )
        session.add(
            Ticket(
                id=f"t-{index}",
                office_id=OFFICE,
                number=f"A{100 + index}",
                appointment_id=appointment_id,
                issued_at=slot - timedelta(minutes=10),
                state=plan["end"],
                origin="appointment" if appointment_id else "kiosk",
            )
        )
        session.flush()  # a case names its ticket without a relationship: insert the ticket first
        if plan["end"] == "waiting":
            continue
        finished = plan["end"] == "finished"
        session.add(
            Case(
                id=f"case-{index}",
                ticket_id=f"t-{index}",
                office_id=OFFICE,
                desk_id=DESK_1,
                clerk_id=CLERK_1,
                opened_at=slot,
                serving_since=slot if plan["end"] == "serving" else None,
                served_seconds=300.0,
                finished_at=slot + timedelta(minutes=5) if finished else None,
                notes=plan["notes"] if finished else "",
                services=[CaseService(service_id=PA, outcome="completed" if finished else None)],
            )
        )
        if plan["card_read"]:
            session.flush()
            session.add(
                CardRead(
                    id=f"read-{index}",
                    case_id=f"case-{index}",
                    clerk_id=CLERK_1,
                    read_at=slot + timedelta(minutes=1),
                    access_protocol="PACE",
                    document_code="ID",
                    document_number_hash="0" * 64,
                    chip_data={"family_name": CHIP_MARKER},
                    photo=PHOTO_MARKER,
                    photo_mime="image/jpeg",
                    verdict="VERIFIED",
                    verification_steps=[],
                )
            )


def figures(session: Session) -> dict[str, Any]:
    """What statistics read: tickets and their states, cases and times, outcomes, appointment slots."""
    return {
        "tickets": sorted(session.execute(select(Ticket.id, Ticket.state, Ticket.issued_at))),
        "cases": sorted(
            session.execute(select(Case.id, Case.opened_at, Case.finished_at, Case.served_seconds))
        ),
        "outcomes": sorted(
            session.execute(select(CaseService.case_id, CaseService.service_id, CaseService.outcome)),
            key=repr,
        ),
        "appointments": sorted(
            session.execute(
                select(
                    Appointment.id, Appointment.slot_start, Appointment.status, Appointment.booking_reference
                )
            )
        ),
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planned=visits(), policy=policies)
def test_property_old_records_keep_no_personal_data_and_figures_stay(
    migrated_template: Path, planned: list[dict[str, Any]], policy: RetentionPolicy
) -> None:
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / "tresen.sqlite3"
        shutil.copy(migrated_template, path)
        store = LocalStore(path)
        try:
            with store.write() as session:
                fill(session, planned)
            with store.session() as session:
                before = figures(session)
            purge_personal_data(store, NOW, policy)
            card_cutoff, citizen_cutoff = policy.card_data_cutoff(NOW), policy.citizen_data_cutoff(NOW)
            with store.session() as session:
                assert figures(session) == before
                in_queue = {"waiting", "called", "serving", "parked"}
                for index, plan in enumerate(planned):
                    if plan["appointment"]:
                        row = session.get_one(Appointment, f"apt-{index}")
                        personal = (row.given_name, row.family_name, row.birth_date, row.email, row.phone)
                        old = plan["slot"] < citizen_cutoff and plan["end"] not in in_queue
                        assert not any(personal) if old else row.family_name == f"Musterfrau-{index}"
                    if plan["end"] == "waiting":
                        continue
                    case_row = session.get_one(Case, f"case-{index}")
                    finished_at = case_row.finished_at
                    if finished_at is not None and finished_at < citizen_cutoff:
                        assert case_row.notes == ""
                    elif finished_at is not None:
                        assert case_row.notes == plan["notes"]
                    read = session.get(CardRead, f"read-{index}")
                    must_go = (
                        (finished_at is not None and finished_at < card_cutoff)
                        or plan["end"] in ("no_show", "cancelled", "transferred")
                        or plan["slot"] + timedelta(minutes=1) < citizen_cutoff
                    )
                    assert read is None if (must_go or not plan["card_read"]) else read is not None
            assert purge_personal_data(store, NOW, policy).total == 0  # idempotent
        finally:
            store.dispose()
