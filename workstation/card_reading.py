"""Reading the citizen's ID card or passport for a case: the domain service the UI calls.

One `read` runs the card stack (slow: call it from a worker thread), keeps the chip data with the
case (a `CardRead` row, purged with the case), writes an audit event with the document number
hashed, compares the chip's names with the appointment and warns about a document that has expired
or expires soon. Nothing personal is logged; results keep personal fields out of their repr.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

import uuid6
from sqlalchemy import select

from devices.card.access import AccessKey, CanKey, MrzKey
from devices.card.errors import CardError
from devices.card.service import ProgressCallback, read_document
from devices.card.transport import list_readers
from devices.card.trust import TrustStore, TrustStoreError
from sync.clock import office_day
from workstation import audit
from workstation.card_rules import ExpiryNotice, NameComparison, compare_names, expiry_notice
from workstation.card_verdict import Verdict, describe_verification, verdict_from_stored
from workstation.config import default_trust_dir
from workstation.errors import TresenError
from workstation.i18n import _
from workstation.models import Appointment, CardRead, Case, Ticket

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager
    from pathlib import Path

    from sqlalchemy.orm import Session

    from devices.card.service import DocumentRead

log = logging.getLogger(__name__)

CARD_WAIT_SECONDS = 20.0  # how long a read waits for the document to be put on the reader
AUDIT_ACTION_READ = "card.read"
AUDIT_ACTION_FAILED = "card.read_failed"


class ReaderFn(Protocol):
    def __call__(
        self,
        reader: str | None,
        access_key: AccessKey,
        progress: ProgressCallback | None = None,
        *,
        trust: TrustStore | None = None,
        wait_for_card: float = 0.0,
    ) -> DocumentRead: ...


class SessionSource(Protocol):
    """The local store (`workstation.db.LocalStore`): `session()` to read, `write()` for one short
    transaction that holds the writer lock and commits at the end (the audit chain needs that)."""

    def session(self) -> AbstractContextManager[Session]: ...

    def write(self) -> AbstractContextManager[Session]: ...


class ClerkContext(Protocol):
    """The desk context (`workstation.commands.DeskContext`); only the clerk matters here."""

    @property
    def clerk_id(self) -> str: ...  # read-only, so the frozen DeskContext matches


@dataclass(frozen=True)
class BookedCitizen:
    """Who the case's appointment was booked for (None fields: a walk-in or not given).
    Personal data: kept out of repr."""

    family_name: str | None = field(repr=False)
    given_name: str | None = field(repr=False)
    birth_date: date | None = field(repr=False)


class CardPreparer(Protocol):
    """Gets a document onto the reader before the clerk reads it; only the demo has one (it puts a
    simulated ID card of the case's citizen on the virtual reader). Returns a German hint for the
    dialog (e.g. the CAN printed on the simulated card) or None. Blocks: call it from a worker."""

    def prepare_card(self, case_id: str, citizen: BookedCitizen) -> str | None: ...


class CaseNotFound(TresenError):
    """The case to read a card for does not exist (any more) in the local store."""

    def __init__(self) -> None:
        super().__init__(_("Der Vorgang wurde nicht gefunden."), "case not found")


@dataclass(frozen=True)
class ChipData:
    """DG1 as the clerk sees it. Personal data: never logged, kept out of repr."""

    document_code: str = field(repr=False)
    issuing_state: str = field(repr=False)
    document_number: str = field(repr=False)
    surname: str = field(repr=False)
    given_names: str = field(repr=False)
    nationality: str = field(repr=False)
    birth_date: date | None = field(repr=False)
    sex: str = field(repr=False)
    expiry_date: date | None = field(repr=False)
    mrz_format: str = field(repr=False)
    check_digits_ok: bool = True

    def as_stored(self) -> dict[str, Any]:
        return {
            "document_code": self.document_code,
            "issuing_state": self.issuing_state,
            "document_number": self.document_number,
            "surname": self.surname,
            "given_names": self.given_names,
            "nationality": self.nationality,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "sex": self.sex,
            "expiry_date": self.expiry_date.isoformat() if self.expiry_date else None,
            "mrz_format": self.mrz_format,
            "check_digits_ok": self.check_digits_ok,
        }

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> ChipData:
        def day(value: str | None) -> date | None:
            return date.fromisoformat(value) if value else None

        return cls(
            document_code=data.get("document_code", ""),
            issuing_state=data.get("issuing_state", ""),
            document_number=data.get("document_number", ""),
            surname=data.get("surname", ""),
            given_names=data.get("given_names", ""),
            nationality=data.get("nationality", ""),
            birth_date=day(data.get("birth_date")),
            sex=data.get("sex", ""),
            expiry_date=day(data.get("expiry_date")),
            mrz_format=data.get("mrz_format", ""),
            check_digits_ok=bool(data.get("check_digits_ok", True)),
        )


@dataclass(frozen=True)
class Photo:
    data: bytes = field(repr=False)
    mime: str  # image/jpeg | image/jp2
    width: int | None = None
    height: int | None = None

    @property
    def description(self) -> str:
        kind = {"image/jpeg": "JPEG", "image/jp2": "JPEG 2000"}.get(self.mime, self.mime)
        size = ""
        if self.width and self.height:
            size = _("{width}×{height} Pixel, ").format(width=self.width, height=self.height)
        kilobytes = f"{len(self.data) / 1000:.1f}".replace(".", ",")
        return _("Lichtbild: {kind}, {size}{kilobytes} kB").format(kind=kind, size=size, kilobytes=kilobytes)


@dataclass(frozen=True)
class ReadFiguresView:
    apdus: int
    wall_seconds: float


@dataclass(frozen=True)
class CardReadOutcome:
    """One completed read, ready for the screen."""

    card_read_id: str
    read_at: datetime
    access_protocol: str
    chip: ChipData
    photo: Photo | None
    verdict: Verdict
    names: NameComparison
    expiry: ExpiryNotice | None
    figures: ReadFiguresView | None  # None for a read loaded from the store


@dataclass(frozen=True)
class ReaderStatus:
    readers: tuple[str, ...]
    message: str  # German
    error: CardError | None = None

    @property
    def available(self) -> bool:
        return bool(self.readers)


class AccessKind(StrEnum):
    CAN = "can"
    MRZ = "mrz"
    DOCUMENT_DATA = "document_data"  # document number + birth + expiry typed separately


def make_access_key(
    kind: AccessKind,
    *,
    can: str = "",
    mrz: str = "",
    document_number: str = "",
    birth: str = "",
    expiry: str = "",
) -> AccessKey:
    """The access key from what the clerk typed; raises InvalidAccessKey (a CardError with a German
    `user_message`) for a CAN that is not six digits, an MRZ with a wrong check digit, etc."""
    if kind is AccessKind.CAN:
        return CanKey(can.strip())
    if kind is AccessKind.MRZ:
        return MrzKey.from_mrz(mrz)
    return MrzKey(document_number.strip(), birth.strip(), expiry.strip())


def default_trust_folder() -> Path:
    """Where a site puts its CSCA certificates and master lists when nothing else is configured."""
    return default_trust_dir()


def load_trust_store(folder: Path | None = None) -> TrustStore | None:
    """The CSCA trust store from `folder` (default: `default_trust_folder()`), or None when there is
    none — reads then say "NICHT geprüft", as loudly as a success, so a missing store is visible."""
    root = folder or default_trust_folder()
    try:
        store = TrustStore.from_folder(root)
    except TrustStoreError:
        log.warning("no CSCA trust folder; card reads cannot be verified")
        return None
    return store if store.certificates else None


def hash_document_number(document_number: str) -> str:
    """The identifier the audit trail and the CardRead row keep instead of the number itself."""
    hashed = audit.hash_identifier(document_number.strip().upper())
    return hashed.removeprefix(audit.IDENTIFIER_PREFIX)  # the bare hex fits the CardRead column


def chip_data_of(document: DocumentRead) -> ChipData:
    mrz = document.mrz
    return ChipData(
        document_code=mrz.document_code,
        issuing_state=mrz.issuing_state,
        document_number=mrz.document_number,
        surname=mrz.surname,
        given_names=mrz.given_names,
        nationality=mrz.nationality,
        birth_date=mrz.birth_date,
        sex=mrz.sex,
        expiry_date=mrz.expiry_date,
        mrz_format=mrz.format,
        check_digits_ok=mrz.check_digits_ok,
    )


class CardReading:
    """Reads a document for a case. `read` blocks on the card: run it in a worker thread.

    The CSCA trust anchors are `trust`, or — with `trust_folder` — loaded from that folder for each
    read, so certificates an administrator adds count without a restart. `reader` is the configured
    reader (`[card] reader`); None means the only one attached, or the first with a card on it.
    """

    def __init__(
        self,
        store: SessionSource,
        ctx: ClerkContext,
        reader_fn: ReaderFn = read_document,
        trust: TrustStore | None = None,
        *,
        trust_folder: Path | None = None,
        reader: str | None = None,
        preparer: CardPreparer | None = None,
        readers_fn: Callable[[], list[str]] = list_readers,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        card_wait_seconds: float = CARD_WAIT_SECONDS,
    ) -> None:
        self._store = store
        self._ctx = ctx
        self._reader_fn = reader_fn
        self._trust = trust
        self._trust_folder = trust_folder
        self._reader = reader
        self._preparer = preparer
        self._readers_fn = readers_fn
        self._clock = clock
        self._card_wait_seconds = card_wait_seconds

    @property
    def prepares_cards(self) -> bool:
        return self._preparer is not None

    def prepare(self, case_id: str) -> str | None:
        """Let the preparer (demo only) put a document for the case's citizen on the reader; returns
        its hint for the dialog, or None when there is no preparer."""
        if self._preparer is None:
            return None
        return self._preparer.prepare_card(case_id, self._booking(case_id))

    def reader_status(self) -> ReaderStatus:
        """Which readers are attached, in the clerk's words (blocks briefly on PC/SC)."""
        try:
            readers = tuple(self._readers_fn())
        except CardError as error:
            return ReaderStatus((), error.user_message, error)
        if not readers:
            return ReaderStatus((), _("Kein Kartenleser gefunden. Bitte Lesegerät anschließen."))
        if self._reader is not None:
            if self._reader not in readers:
                return ReaderStatus(
                    (),
                    _("Der eingestellte Kartenleser „{reader}“ ist nicht angeschlossen.").format(
                        reader=self._reader
                    ),
                )
            readers = (self._reader,)
        return ReaderStatus(readers, _("Kartenleser bereit: {readers}").format(readers=", ".join(readers)))

    def _trust_store(self) -> TrustStore | None:
        if self._trust_folder is not None:
            return load_trust_store(self._trust_folder)
        return self._trust

    def read(
        self,
        case_id: str,
        access_key: AccessKey,
        progress: ProgressCallback | None = None,
        *,
        reader: str | None = None,
    ) -> CardReadOutcome:
        """Read the document on the reader for the case and keep the result with it.

        Raises CardError (German `user_message`) when the read fails — the failure is audited too —
        and CaseNotFound when the case is gone.
        """
        booking = self._booking(case_id)
        trust = self._trust_store()
        try:
            document = self._reader_fn(
                reader or self._reader,
                access_key,
                progress,
                trust=trust,
                wait_for_card=self._card_wait_seconds,
            )
        except CardError as error:
            log.info("card read for a case failed: %s", error.reason.value)
            self._audit_failure(case_id, error)
            raise
        return self._keep(case_id, document, booking)

    def latest(self, case_id: str) -> CardReadOutcome | None:
        """The case's most recent card read, as stored (no figures), or None."""
        with self._store.session() as session:
            row = session.scalars(
                select(CardRead).where(CardRead.case_id == case_id).order_by(CardRead.read_at.desc()).limit(1)
            ).first()
            if row is None:
                return None
            booking = self._booking_in(session, case_id)
            chip = ChipData.from_stored(row.chip_data)
            photo = Photo(row.photo, row.photo_mime or "image/jpeg") if row.photo else None
            verdict = verdict_from_stored(row.verdict, row.verification_steps)
            protocol = row.access_protocol
            return self._outcome(row.id, row.read_at, protocol, chip, photo, verdict, booking, None)

    def _booking(self, case_id: str) -> BookedCitizen:
        with self._store.session() as session:
            return self._booking_in(session, case_id)

    @staticmethod
    def _booking_in(session: Session, case_id: str) -> BookedCitizen:
        row = session.execute(
            select(Appointment.family_name, Appointment.given_name, Appointment.birth_date, Case.id)
            .select_from(Case)
            .join(Ticket, Ticket.id == Case.ticket_id)
            .outerjoin(Appointment, Appointment.id == Ticket.appointment_id)
            .where(Case.id == case_id)
        ).first()
        if row is None:
            raise CaseNotFound()
        return BookedCitizen(row.family_name, row.given_name, row.birth_date)

    def _keep(self, case_id: str, document: DocumentRead, booking: BookedCitizen) -> CardReadOutcome:
        now = self._clock()
        chip = chip_data_of(document)
        face = document.face
        photo = Photo(face.data, face.mime, face.width, face.height) if face is not None else None
        verdict = describe_verification(document.verification)
        number_hash = hash_document_number(chip.document_number)
        read_id = str(uuid6.uuid7())
        with self._store.write() as session:
            session.add(
                CardRead(
                    id=read_id,
                    case_id=case_id,
                    clerk_id=self._ctx.clerk_id,
                    read_at=now,
                    access_protocol=document.access_protocol,
                    document_code=chip.document_code[:4],
                    document_number_hash=number_hash,
                    chip_data=chip.as_stored(),
                    photo=photo.data if photo else None,
                    photo_mime=photo.mime if photo else None,
                    verdict=verdict.status.value,
                    verification_steps=[
                        {"name": step.name, "ok": step.ok, "detail": step.detail}
                        for step in document.verification.steps
                    ],
                )
            )
            audit.record(
                session,
                self._ctx.clerk_id,
                case_id,
                AUDIT_ACTION_READ,
                {
                    "card_read_id": read_id,
                    # Prefixed, as every keyed value in the trail: a bare hex there is a legacy
                    # sha256 (`audit.rekey_legacy_identifiers`).
                    "document_number_hash": audit.IDENTIFIER_PREFIX + number_hash,
                    "document_code": chip.document_code,
                    "access_protocol": document.access_protocol,
                    "verdict": verdict.status.value,
                },
                at=now,
            )
        log.info(
            "card read kept for a case: %s, %s, %d APDUs",
            document.access_protocol,
            verdict.status.value,
            document.figures.apdus,
        )
        figures = ReadFiguresView(document.figures.apdus, document.figures.wall_seconds)
        return self._outcome(read_id, now, document.access_protocol, chip, photo, verdict, booking, figures)

    def _outcome(
        self,
        read_id: str,
        read_at: datetime,
        protocol: str,
        chip: ChipData,
        photo: Photo | None,
        verdict: Verdict,
        booking: BookedCitizen,
        figures: ReadFiguresView | None,
    ) -> CardReadOutcome:
        names = compare_names(
            chip_surname=chip.surname,
            chip_given_names=chip.given_names,
            chip_birth_date=chip.birth_date,
            mrz_format=chip.mrz_format,
            booked_surname=booking.family_name,
            booked_given_names=booking.given_name,
            booked_birth_date=booking.birth_date,
        )
        # "expires within three months" counts office days
        expiry = expiry_notice(chip.expiry_date, office_day(self._clock())) if chip.expiry_date else None
        return CardReadOutcome(read_id, read_at, protocol, chip, photo, verdict, names, expiry, figures)

    def _audit_failure(self, case_id: str, error: CardError) -> None:
        with self._store.write() as session:
            detail = {"reason": error.reason.value}
            audit.record(session, self._ctx.clerk_id, case_id, AUDIT_ACTION_FAILED, detail, at=self._clock())
