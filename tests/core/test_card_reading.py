"""The card-reading domain service and its rules: name comparison with the appointment (ICAO
transliteration, MRZ truncation), the expiry reminder, the verdict wording, and `CardReading.read`
against the real local store, the real LDS parsers and passive authentication on generated test
documents; at the end the same service through pyscard → pcscd → vpcd → our emulated chip.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from devices.card import lds
from devices.card.access import AccessKey, CanKey, InvalidAccessKey, MrzKey
from devices.card.emulator.personalization import TestDocument, TestHolder, make_test_document
from devices.card.errors import CardError, CardErrorReason
from devices.card.mrz import build_td1, build_td3, parse_mrz
from devices.card.passive_auth import PassiveAuthResult, passive_authentication
from devices.card.service import DocumentRead, ProgressCallback, ReadFigures, ReadProgress
from devices.card.transport import list_readers
from workstation import audit
from workstation.card_reading import (
    AccessKind,
    CardReading,
    CaseNotFound,
    ReaderFn,
    hash_document_number,
    load_trust_store,
    make_access_key,
)
from workstation.card_rules import (
    ExpiryKind,
    NameComparison,
    NameMatch,
    add_months,
    compare_names,
    expiry_notice,
    mrz_tokens,
)
from workstation.card_verdict import VerdictStatus, describe_verification
from workstation.db import LocalStore
from workstation.models import (
    Appointment,
    AuditEvent,
    CardRead,
    Case,
    Clerk,
    Desk,
    Office,
    Ticket,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from devices.card.service import Step
    from devices.card.trust import TrustStore
    from tests.card.conftest import VirtualReader

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TODAY = date(2026, 3, 2)


# --- name comparison -------------------------------------------------------------------------------


def test_booked_names_are_spelled_as_the_mrz_spells_them() -> None:
    assert mrz_tokens("Müller-Lüdenscheidt") == ["MUELLER", "LUEDENSCHEIDT"]
    assert mrz_tokens("Weiß") == ["WEISS"]
    assert mrz_tokens("O'Brien") == ["OBRIEN"]
    assert mrz_tokens("José  Ångström") == ["JOSE", "AANGSTROEM"]
    assert mrz_tokens("ERIKA<<MARIA") == ["ERIKA", "MARIA"]


def compare(
    chip_surname: str,
    chip_given: str,
    booked_surname: str | None,
    booked_given: str,
    *,
    chip_birth: date | None = None,
    mrz_format: str = "TD1",
    booked_birth: date | None = None,
) -> NameComparison:
    return compare_names(
        chip_surname=chip_surname,
        chip_given_names=chip_given,
        chip_birth_date=chip_birth,
        mrz_format=mrz_format,
        booked_surname=booked_surname,
        booked_given_names=booked_given,
        booked_birth_date=booked_birth,
    )


def test_umlauts_and_sharp_s_match_their_transliteration() -> None:
    result = compare("MUELLER", "JUERGEN", "Müller", "Jürgen")
    assert result.status is NameMatch.MATCH
    assert not result.mismatch
    assert compare("GROSS", "ANNA", "Groß", "Anna").status is NameMatch.MATCH


def test_a_booking_without_middle_names_still_matches_and_says_so() -> None:
    result = compare("SCHMIDT", "ANNA MARIA", "Schmidt", "Anna")
    assert result.status is NameMatch.MATCH
    assert "weitere Vornamen" in result.message


def test_a_different_surname_is_a_highlighted_mismatch() -> None:
    result = compare("SCHMIDT", "ANNA", "Schmitt", "Anna")
    assert result.mismatch
    assert result.surname_matches is False
    assert result.given_names_match is True
    assert "Familienname" in result.message


def test_a_booking_typed_without_umlaut_is_not_the_chip_name() -> None:
    # "Muller" is not how the MRZ spells Müller (MUELLER): the clerk must look.
    assert compare("MUELLER", "HANS", "Muller", "Hans").mismatch


def test_a_short_name_is_only_tolerated_when_the_mrz_field_is_full() -> None:
    assert compare("MUELL", "HANS", "Müller", "Hans").mismatch  # field has room: no truncation
    # TD1 name field: 30 characters. Surname 20 + "<<" + given names cut to 8 = 30.
    surname = "MEYERHOFF SCHNEIDERS"
    result = compare(surname, "KARL THE", "Meyerhoff-Schneiders", "Karl Theodor Friedrich")
    assert result.status is NameMatch.MATCH
    assert "gekürzt" in result.message
    # …and cut down to initials (ICAO 9303-3 truncation), still the same person: 25 + "<<" + "K<T".
    longer = "MEYERHOFF SCHNEIDERSBACHE"
    assert not compare(longer, "K T", "Meyerhoff-Schneidersbache", "Karl Theodor Friedrich").mismatch
    assert compare(longer, "K T", "Meyerhoff-Schneidersbache", "Karl Friedrich").mismatch


def test_birth_date_from_the_booking_is_compared_too() -> None:
    result = compare(
        "MUELLER", "HANS", "Müller", "Hans", chip_birth=date(1980, 1, 2), booked_birth=date(1980, 2, 1)
    )
    assert result.mismatch
    assert result.birth_date_matches is False
    assert "Geburtsdatum" in result.message


def test_a_walk_in_without_appointment_has_nothing_to_compare() -> None:
    result = compare("MUELLER", "HANS", None, "")
    assert result.status is NameMatch.NO_APPOINTMENT
    assert not result.mismatch


GERMAN_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÜabcdefghijklmnopqrstuvwxyzäöüß"
name_word = st.text(alphabet=GERMAN_LETTERS, min_size=1, max_size=12)
names = st.lists(name_word, min_size=1, max_size=3)


def chip_names(surname: list[str], given: list[str], kind: str) -> tuple[str, str]:
    """Surname and given names as a chip holds them: LDS's real MRZ builder (transliteration, the
    field cut to 30/39 characters) read back by its real parser."""
    build = build_td1 if kind == "TD1" else build_td3
    text = build(
        document_code="ID" if kind == "TD1" else "P",
        issuing_state="D",
        document_number="T22000129",
        surname=" ".join(surname),
        given_names=" ".join(given),
        nationality="D",
        birth_date=date(1980, 1, 2),
        sex="F",
        expiry_date=date(2031, 1, 2),
    )
    parsed = parse_mrz(text, today=TODAY)
    assert parsed.format == kind
    return parsed.surname, parsed.given_names


@settings(max_examples=200, deadline=None)
@given(surname=names, given_names=names, kind=st.sampled_from(["TD1", "TD3"]))
def test_any_booking_matches_the_chip_made_from_it(
    surname: list[str], given_names: list[str], kind: str
) -> None:
    chip_surname, chip_given = chip_names(surname, given_names, kind)
    result = compare(chip_surname, chip_given, " ".join(surname), " ".join(given_names), mrz_format=kind)
    assert result.status is NameMatch.MATCH, result.message


@settings(max_examples=200, deadline=None)
@given(surname=names, given_names=names, data=st.data())
def test_a_changed_surname_letter_is_always_noticed(
    surname: list[str], given_names: list[str], data: st.DataObject
) -> None:
    chip_surname, chip_given = chip_names(surname, given_names, "TD1")
    booked_surname = " ".join(surname)
    spelled = "".join(mrz_tokens(booked_surname))
    if len(chip_surname.replace(" ", "")) < len(spelled) or not chip_given:
        return  # truncated surname: a change beyond the cut is invisible by design
    position = data.draw(st.integers(0, len(chip_surname) - 1))
    if chip_surname[position] == " ":
        return
    replacement = "Q" if chip_surname[position] != "Q" else "X"
    changed = chip_surname[:position] + replacement + chip_surname[position + 1 :]
    assert compare(changed, chip_given, booked_surname, " ".join(given_names)).mismatch


# --- expiry reminder -------------------------------------------------------------------------------


def test_expired_document_is_reported_with_its_date() -> None:
    notice = expiry_notice(date(2026, 3, 1), TODAY)
    assert notice is not None
    assert notice.kind is ExpiryKind.EXPIRED
    assert notice.days_left == -1
    assert "ABGELAUFEN" in notice.message
    assert "01.03.2026" in notice.message


def test_expiry_within_three_months_asks_for_a_reminder() -> None:
    today = expiry_notice(TODAY, TODAY)
    assert today is not None
    assert today.kind is ExpiryKind.EXPIRES_SOON
    assert "heute" in today.message
    edge = expiry_notice(date(2026, 6, 2), TODAY)
    assert edge is not None
    assert edge.kind is ExpiryKind.EXPIRES_SOON
    assert edge.days_left == 92
    assert expiry_notice(date(2026, 6, 3), TODAY) is None


def test_months_are_added_with_the_month_end_clamped() -> None:
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert add_months(date(2026, 10, 15), 3) == date(2027, 1, 15)


@given(
    today=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
    offset=st.integers(min_value=-400, max_value=400),
)
def test_expiry_notice_agrees_with_the_three_month_rule(today: date, offset: int) -> None:
    expiry = today + timedelta(days=offset)
    notice = expiry_notice(expiry, today)
    if expiry < today:
        assert notice is not None
        assert notice.kind is ExpiryKind.EXPIRED
    elif expiry <= add_months(today, 3):
        assert notice is not None
        assert notice.kind is ExpiryKind.EXPIRES_SOON
        assert 0 <= notice.days_left <= 92
    else:
        assert notice is None


# --- verdict wording with real passive authentication ----------------------------------------------


def pa_result(document: TestDocument, *, trusted: bool) -> PassiveAuthResult:
    groups = {n: document.files[lds.dg_file_id(n)] for n in (1, 2)}
    trust = document.trust_store() if trusted else None
    return passive_authentication(document.files[lds.EF_SOD], groups, trust)


def test_verified_document_reads_echtheit_bestaetigt() -> None:
    verdict = describe_verification(pa_result(make_test_document("td1", seed=1), trusted=True))
    assert verdict.status is VerdictStatus.VERIFIED
    assert verdict.headline == "Echtheit bestätigt"
    assert verdict.steps
    assert all(step.ok for step in verdict.steps)


def test_without_trust_anchor_the_verdict_says_not_verified_and_why() -> None:
    verdict = describe_verification(pa_result(make_test_document("td1", seed=1), trusted=False))
    assert verdict.status is VerdictStatus.NOT_VERIFIED
    assert verdict.headline.startswith("NICHT geprüft: ")
    assert len(verdict.headline) > len("NICHT geprüft: ")


def test_tampered_data_group_fails_loudly() -> None:
    verdict = describe_verification(pa_result(make_test_document("td1", seed=1, tamper_dg=1), trusted=True))
    assert verdict.status is VerdictStatus.FAILED
    assert verdict.headline.startswith("Prüfung FEHLGESCHLAGEN: ")
    assert any(step.ok is False for step in verdict.steps)


# --- the service against the local store -----------------------------------------------------------


@dataclass(frozen=True)
class Desk1:
    clerk_id: str = "clerk-1"


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    local = LocalStore(tmp_path / "tresen.sqlite3")
    local.migrate()
    return local


Booking = tuple[str, str, date | None]  # family name, given names, birth date


def open_case(store: LocalStore, *, booked: Booking | None, case_id: str = "case-1") -> str:
    with store.session() as session:
        if session.get(Office, "office-1") is None:
            session.add(Office(id="office-1", name="Bürgeramt Mitte"))
            session.flush()  # no ORM relationships to order the inserts by
            session.add(Desk(id="desk-1", office_id="office-1", number=1, name="Schalter 1"))
            session.add(Clerk(id="clerk-1", office_id="office-1", name="Sachbearbeiterin"))
            session.flush()
        appointment_id = None
        if booked is not None:
            appointment_id = f"appt-{case_id}"
            session.add(
                Appointment(
                    id=appointment_id,
                    office_id="office-1",
                    booking_reference=f"REF-{case_id}",
                    slot_start=NOW,
                    family_name=booked[0],
                    given_name=booked[1],
                    birth_date=booked[2],
                )
            )
        session.add(
            Ticket(
                id=f"ticket-{case_id}",
                office_id="office-1",
                number="A101",
                appointment_id=appointment_id,
                issued_at=NOW,
            )
        )
        session.flush()
        session.add(
            Case(
                id=case_id,
                ticket_id=f"ticket-{case_id}",
                office_id="office-1",
                desk_id="desk-1",
                clerk_id="clerk-1",
                opened_at=NOW,
                serving_since=NOW,
            )
        )
        session.commit()
    return case_id


def parsing_reader(document: TestDocument, calls: list[str] | None = None) -> ReaderFn:
    """A reader_fn without a reader: the real LDS parsers and passive authentication on the files
    of a generated document, with the progress a real read reports."""

    def read(
        reader: str | None,  # noqa: ARG001  (no reader: the files are the document's)
        access_key: AccessKey,
        progress: ProgressCallback | None = None,
        *,
        trust: TrustStore | None = None,
        wait_for_card: float = 0.0,  # noqa: ARG001  (the document is always there)
    ) -> DocumentRead:
        if calls is not None:
            calls.append(type(access_key).__name__)
        if isinstance(access_key, CanKey) and access_key.can != document.can:
            raise CardError(CardErrorReason.ACCESS_DENIED, "wrong CAN")
        report = progress or (lambda _p: None)
        files: tuple[tuple[Step, int], ...] = (("DG1", lds.DG1), ("DG2", lds.DG2), ("SOD", lds.EF_SOD))
        for step, file_id in files:
            size = len(document.files[file_id])
            report(ReadProgress(step, size, size))
        faces = lds.parse_dg2(document.files[lds.DG2])
        groups = {n: document.files[lds.dg_file_id(n)] for n in (1, 2)}
        verification = passive_authentication(document.files[lds.EF_SOD], groups, trust)
        figures = ReadFigures(
            apdus=0, bytes_sent=0, bytes_received=0, wall_seconds=0.0, card_seconds=0.0, host_seconds=0.0
        )
        return DocumentRead(
            lds.parse_dg1(document.files[lds.DG1]), faces[0] if faces else None, verification, "PACE", figures
        )

    return read


HOLDER = TestHolder(surname="Müller-Lüdenscheidt", given_names="Jürgen Weiß", birth_date=date(1980, 5, 17))


@pytest.fixture(scope="module")
def td1() -> TestDocument:
    return make_test_document("td1", holder=HOLDER, expiry=date(2026, 4, 30), seed=7)


def service(
    store: LocalStore,
    document: TestDocument,
    *,
    trusted: bool = True,
    calls: list[str] | None = None,
    readers_fn: Callable[[], list[str]] = list_readers,
) -> CardReading:
    return CardReading(
        store,
        Desk1(),
        parsing_reader(document, calls),
        trust=document.trust_store() if trusted else None,
        clock=lambda: NOW,
        readers_fn=readers_fn,
    )


def test_a_read_is_kept_with_the_case_and_compared_with_the_booking(
    store: LocalStore, td1: TestDocument
) -> None:
    case_id = open_case(store, booked=("Müller-Lüdenscheidt", "Jürgen", date(1980, 5, 17)))
    steps: list[ReadProgress] = []
    outcome = service(store, td1).read(case_id, CanKey(td1.can), steps.append)

    assert [p.step for p in steps] == ["DG1", "DG2", "SOD"]
    assert outcome.verdict.status is VerdictStatus.VERIFIED
    assert outcome.verdict.headline == "Echtheit bestätigt"
    assert outcome.names.status is NameMatch.MATCH
    assert outcome.names.birth_date_matches is True
    assert outcome.chip.surname.replace("<", " ").split() == ["MUELLER", "LUEDENSCHEIDT"]
    assert outcome.chip.birth_date == date(1980, 5, 17)
    assert outcome.photo is not None
    assert outcome.photo.data
    assert outcome.photo.mime.startswith("image/")
    assert outcome.expiry is not None
    assert outcome.expiry.kind is ExpiryKind.EXPIRES_SOON

    with store.session() as session:
        row = session.scalars(select(CardRead).where(CardRead.case_id == case_id)).one()
        assert row.id == outcome.card_read_id
        assert row.clerk_id == "clerk-1"
        assert row.read_at == NOW
        assert row.verdict == "VERIFIED"
        assert row.access_protocol == "PACE"
        assert row.chip_data["document_number"] == outcome.chip.document_number
        assert row.photo == outcome.photo.data
        assert row.document_number_hash == hash_document_number(outcome.chip.document_number)
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "card.read")).one()
    assert event.case_id == case_id
    assert event.clerk_id == "clerk-1"
    assert event.detail["document_number_hash"] == audit.IDENTIFIER_PREFIX + row.document_number_hash
    assert outcome.chip.document_number not in repr(event.detail)  # hashed, never in clear


def test_the_stored_read_comes_back_for_the_case(store: LocalStore, td1: TestDocument) -> None:
    case_id = open_case(store, booked=("Schmidt", "Jürgen", None))
    reading = service(store, td1)
    first = reading.read(case_id, CanKey(td1.can))
    again = reading.latest(case_id)
    assert again is not None
    assert again.card_read_id == first.card_read_id
    assert again.chip == first.chip
    assert again.verdict == first.verdict
    assert again.names.mismatch  # Schmidt is not Müller-Lüdenscheidt
    assert reading.latest(open_case(store, booked=None, case_id="case-2")) is None


def test_unknown_csca_is_not_verified_and_says_so(store: LocalStore, td1: TestDocument) -> None:
    case_id = open_case(store, booked=None)
    outcome = service(store, td1, trusted=False).read(case_id, CanKey(td1.can))
    assert outcome.verdict.status is VerdictStatus.NOT_VERIFIED
    assert outcome.verdict.headline.startswith("NICHT geprüft")
    assert outcome.names.status is NameMatch.NO_APPOINTMENT


def test_tampered_chip_fails_and_is_kept_as_failed(store: LocalStore) -> None:
    document = make_test_document("td1", holder=HOLDER, tamper_dg=2, seed=8)
    case_id = open_case(store, booked=None)
    outcome = service(store, document).read(case_id, CanKey(document.can))
    assert outcome.verdict.status is VerdictStatus.FAILED
    with store.session() as session:
        assert session.scalars(select(CardRead.verdict)).one() == "FAILED"


def test_a_failed_read_is_audited_without_keeping_chip_data(store: LocalStore, td1: TestDocument) -> None:
    case_id = open_case(store, booked=None)
    wrong = "000000" if td1.can != "000000" else "111111"
    with pytest.raises(CardError) as raised:
        service(store, td1).read(case_id, CanKey(wrong))
    assert raised.value.reason is CardErrorReason.ACCESS_DENIED
    assert "CAN" in raised.value.user_message
    with store.session() as session:
        assert session.scalars(select(CardRead)).all() == []
        event = session.scalars(select(AuditEvent)).one()
    assert event.action == "card.read_failed"
    assert event.detail == {"reason": "access_denied"}


def test_no_card_is_touched_for_an_unknown_case(store: LocalStore, td1: TestDocument) -> None:
    calls: list[str] = []
    with pytest.raises(CaseNotFound):
        service(store, td1, calls=calls).read("no-such-case", CanKey(td1.can))
    assert calls == []


def test_chip_data_is_purged_with_its_case(store: LocalStore, td1: TestDocument) -> None:
    case_id = open_case(store, booked=None)
    service(store, td1).read(case_id, CanKey(td1.can))
    with store.session() as session:
        session.execute(delete(Case).where(Case.id == case_id))
        session.commit()
        assert session.scalars(select(CardRead)).all() == []


def test_nothing_personal_reaches_the_log(
    store: LocalStore, td1: TestDocument, caplog: pytest.LogCaptureFixture
) -> None:
    case_id = open_case(store, booked=("Müller-Lüdenscheidt", "Jürgen", None))
    with caplog.at_level(logging.DEBUG):
        outcome = service(store, td1).read(case_id, CanKey(td1.can))
        with pytest.raises(CardError):
            service(store, td1).read(case_id, CanKey("999999" if td1.can != "999999" else "888888"))
    text = caplog.text + repr(outcome)
    for secret in ("MUELLER", "Müller", outcome.chip.document_number, td1.can, "1980"):
        assert secret not in text


def test_reader_status_in_the_clerks_words(store: LocalStore, td1: TestDocument) -> None:
    def no_pcscd() -> list[str]:
        raise CardError(CardErrorReason.READER_UNAVAILABLE, "no service")

    assert service(store, td1, readers_fn=lambda: []).reader_status().message.startswith("Kein Kartenleser")
    ready = service(store, td1, readers_fn=lambda: ["Reader A"]).reader_status()
    assert ready.available
    assert "Reader A" in ready.message
    down = service(store, td1, readers_fn=no_pcscd).reader_status()
    assert not down.available
    assert down.error is not None
    assert down.message == down.error.user_message


def test_access_keys_from_the_form_are_validated() -> None:
    assert make_access_key(AccessKind.CAN, can=" 123456 ") == CanKey("123456")
    with pytest.raises(InvalidAccessKey) as short:
        make_access_key(AccessKind.CAN, can="12345")
    assert "6 Ziffern" in short.value.user_message
    key = make_access_key(
        AccessKind.DOCUMENT_DATA, document_number="l01x00t47", birth="800517", expiry="300430"
    )
    assert isinstance(key, MrzKey)
    assert key.document_number == "L01X00T47"
    with pytest.raises(InvalidAccessKey):
        make_access_key(
            AccessKind.DOCUMENT_DATA, document_number="L01X00T47", birth="801317", expiry="300430"
        )
    with pytest.raises(InvalidAccessKey):
        make_access_key(AccessKind.MRZ, mrz="IDD<<T22000129\nshort")


# --- through the real PC/SC stack ------------------------------------------------------------------

from tests.card.conftest import pcsc_stack, virtual_reader  # noqa: E402, F401  (fixtures)

pcsc = [pytest.mark.serial, pytest.mark.pcsc, pytest.mark.xdist_group("pcsc")]


def pcsc_reading(store: LocalStore, document: TestDocument) -> CardReading:
    """The service with its default reader: the real `read_document` through pcscd."""
    return CardReading(store, Desk1(), trust=document.trust_store(), clock=lambda: NOW, card_wait_seconds=5)


@pytest.fixture
def card_on_reader(virtual_reader: VirtualReader, td1: TestDocument) -> TestDocument:  # noqa: F811
    from devices.card.emulator.card import card_for_document

    virtual_reader.insert(card_for_document(td1))
    return td1


@pytest.mark.serial
@pytest.mark.pcsc
@pytest.mark.xdist_group("pcsc")
def test_pace_can_read_through_pcscd_is_kept_and_verified(
    store: LocalStore, card_on_reader: TestDocument
) -> None:
    document = card_on_reader
    case_id = open_case(store, booked=("Müller-Lüdenscheidt", "Jürgen Weiß", date(1980, 5, 17)))
    reading = pcsc_reading(store, document)
    steps: list[ReadProgress] = []
    outcome = reading.read(case_id, CanKey(document.can), steps.append)
    assert outcome.access_protocol == "PACE"
    assert outcome.verdict.status is VerdictStatus.VERIFIED
    assert outcome.names.status is NameMatch.MATCH
    assert outcome.figures is not None
    assert outcome.figures.apdus > 5
    assert {"PACE", "DG1", "DG2", "SOD", "PA"} <= {p.step for p in steps}
    dg2 = [p for p in steps if p.step == "DG2"]
    assert dg2[-1].done == dg2[-1].total == len(document.files[lds.DG2])


@pytest.mark.serial
@pytest.mark.pcsc
@pytest.mark.xdist_group("pcsc")
def test_wrong_can_through_pcscd_is_a_german_message_and_an_audit_event(
    store: LocalStore, card_on_reader: TestDocument
) -> None:
    document = card_on_reader
    case_id = open_case(store, booked=None)
    reading = pcsc_reading(store, document)
    wrong = "000000" if document.can != "000000" else "111111"
    with pytest.raises(CardError) as raised:
        reading.read(case_id, CanKey(wrong))
    assert raised.value.reason is CardErrorReason.ACCESS_DENIED
    with store.session() as session:
        assert session.scalars(select(AuditEvent.action)).all() == ["card.read_failed"]


def test_the_sites_csca_folder_makes_reads_verifiable(
    store: LocalStore, td1: TestDocument, tmp_path: Path
) -> None:
    assert load_trust_store(tmp_path / "missing") is None
    folder = tmp_path / "csca"
    folder.mkdir()
    assert load_trust_store(folder) is None  # an empty folder trusts nobody: reads say "NICHT geprüft"
    (folder / "test-csca.der").write_bytes(td1.csca_der)
    trust = load_trust_store(folder)
    assert trust is not None
    case_id = open_case(store, booked=None)
    reading = CardReading(store, Desk1(), parsing_reader(td1), trust=trust, clock=lambda: NOW)
    assert reading.read(case_id, CanKey(td1.can)).verdict.status is VerdictStatus.VERIFIED


@pytest.mark.serial
@pytest.mark.pcsc
@pytest.mark.xdist_group("pcsc")
def test_bac_passport_typed_from_its_data_page_through_pcscd(
    store: LocalStore,
    virtual_reader: VirtualReader,  # noqa: F811  (the fixture imported above)
) -> None:
    from devices.card.emulator.card import card_for_document

    passport = make_test_document("td3", holder=HOLDER, seed=9)
    virtual_reader.insert(card_for_document(passport, pace_parameter_id=None))  # an older, BAC-only passport
    case_id = open_case(store, booked=("Müller-Lüdenscheidt", "Jürgen", None))
    key = make_access_key(
        AccessKind.DOCUMENT_DATA,
        document_number=passport.mrz_key.document_number,
        birth=passport.mrz_key.birth_date,
        expiry=passport.mrz_key.expiry_date,
    )
    outcome = pcsc_reading(store, passport).read(case_id, key)
    assert outcome.access_protocol == "BAC"
    assert outcome.chip.mrz_format == "TD3"
    assert outcome.verdict.verified
    assert outcome.names.status is NameMatch.MATCH
