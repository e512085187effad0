"""Documents at the desk: what a finished visit produces, kept for a reprint, printed off the UI thread.

`finish_with_documents` finishes the case and issues the receipt's Kassenzeichen in ONE local
transaction (the finish never waits for a printer or a token). `DocumentDesk.produce` then renders,
seals (official documents, when a seal token is configured), keeps and prints each document; call
it from a thread worker. A printer that is missing, stopped or rejecting is reported in German and
the document stays kept for `reprint`. Every print and reprint is an audit event.

Kept documents hold personal data: files 0600 in a 0700 directory per case, deleted by `purge`
together with the case data (workstation.retention).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select

from forms.layout import IssuingOffice
from forms.pickup_slip import PickupSlip, render_pickup_slip
from forms.receipt import PaymentMethod, Receipt, ReceiptLine, render_receipt
from forms.registration import (
    Address,
    RegisteredPerson,
    RegistrationCertificate,
    render_registration_certificate,
)
from forms.ticket_slip import TicketSlip, render_ticket_slip
from workstation import audit, commands, queries
from workstation.errors import CommandRefused
from workstation.i18n import _
from workstation.kassenzeichen_ranges import issue_kassenzeichen
from workstation.models import Appointment, Case, Clerk, ServiceOutcome, Ticket

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import datetime
    from pathlib import Path

    from sqlalchemy.orm import Session

    from forms.preview import PagePreview
    from workstation.commands import FinishResult, IssueResult
    from workstation.config import PrintingSettings
    from workstation.counter import Counter
    from workstation.db import LocalStore

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
# Services whose outcome "completed" produces a document (by service code; the catalogue's codes).
REGISTRATION_CODES = frozenset({"AN", "ANM", "MB"})
ID_APPLICATION_CODES = frozenset({"PA", "RP"})


@dataclass(frozen=True)
class FinishInputs:
    """What the finish dialog asks for besides the outcomes: only what a document of these services
    needs (the address for a Meldebescheinigung, the new document's number for an Abholschein)."""

    address: bool
    document_number: bool


def finish_inputs(service_codes: Iterable[str]) -> FinishInputs:
    codes = {code.upper() for code in service_codes}
    return FinishInputs(
        address=bool(codes & REGISTRATION_CODES), document_number=bool(codes & ID_APPLICATION_CODES)
    )


class PrinterKind(StrEnum):
    RECEIPT = "receipt"
    A4 = "a4"
    THERMAL = "thermal"


class DocumentKind(StrEnum):
    RECEIPT = "quittung"
    REGISTRATION = "meldebescheinigung"
    PICKUP = "abholschein"
    TICKET = "wartenummer"

    @property
    def printer(self) -> PrinterKind:
        return {"quittung": PrinterKind.RECEIPT, "wartenummer": PrinterKind.THERMAL}.get(
            self.value, PrinterKind.A4
        )

    @property
    def personal(self) -> bool:
        return self is not DocumentKind.TICKET


@dataclass(frozen=True)
class PrintTargets:
    """CUPS queue per document kind; `folder` instead writes the PDFs there (demo, no CUPS)."""

    receipt: str | None = None
    a4: str | None = None
    thermal: str | None = None
    folder: Path | None = None

    def queue(self, kind: PrinterKind) -> str | None:
        return {
            PrinterKind.RECEIPT: self.receipt,
            PrinterKind.A4: self.a4,
            PrinterKind.THERMAL: self.thermal,
        }[kind]


class Printer(Protocol):
    """Sends one PDF; raises an error whose `str()` is the German reason (devices.printing.PrintError)."""

    def __call__(self, pdf: bytes, queue: str, title: str) -> str: ...


def cups_printer(pdf: bytes, queue: str, title: str) -> str:
    from devices.printing import print_pdf, wait_for_job

    job = print_pdf(pdf, queue, title)
    return wait_for_job(job.job_id, timeout=30).message


class Sealer(Protocol):
    def __call__(self, pdf: bytes) -> bytes: ...


@dataclass(frozen=True)
class PendingDocument:
    """A document the finish decided on, with its data (personal: memory only, never logged)."""

    kind: DocumentKind
    case_id: str | None
    data: Receipt | RegistrationCertificate | PickupSlip | TicketSlip = field(repr=False)

    def render(self) -> bytes:
        data = self.data
        if isinstance(data, Receipt):
            return render_receipt(data)
        if isinstance(data, RegistrationCertificate):
            return render_registration_certificate(data)
        if isinstance(data, PickupSlip):
            return render_pickup_slip(data)
        return render_ticket_slip(data)


@dataclass(frozen=True)
class DocumentOutcome:
    kind: DocumentKind
    kept: Path | None
    printed: bool
    message: str  # German, for the clerk
    sealed: bool = False


@dataclass(frozen=True)
class FinishRequest:
    outcomes: Mapping[str, ServiceOutcome | str]
    notes: str = ""
    payment: PaymentMethod = PaymentMethod.CARD
    address: str = ""  # the Hauptwohnung for a Meldebescheinigung, typed from the register
    status_check_number: str | None = None  # of the new ID document, for the Abholschein


@dataclass(frozen=True)
class Letterhead:
    office: IssuingOffice
    place: str
    cash_office: str


# --- the finish ------------------------------------------------------------------------------------


def finish_with_documents(
    counter: Counter, request: FinishRequest, letterhead: Letterhead
) -> tuple[FinishResult, list[PendingDocument]]:
    """Finish the desk's case and decide its documents, in one local transaction."""
    with counter.store.write() as session:
        result, documents = _finish_in(session, counter, request, letterhead)
    if counter.numbers is not None:  # after the commit, as for walk-in numbers
        for document in documents:
            if isinstance(document.data, Receipt):
                prefix, running_number, _check = document.data.kassenzeichen.split("-")
                counter.numbers.record_kassenzeichen(prefix, int(running_number))
    return result, documents


@dataclass(frozen=True)
class DocumentPage:
    """A document's first page for the preview (`forms.preview`), with its German name."""

    kind: DocumentKind
    label: str
    page: PagePreview


def preview_finish(counter: Counter, request: FinishRequest, letterhead: Letterhead) -> list[DocumentPage]:
    """The documents this finish would print, decided as `finish_with_documents` decides them, in a
    transaction that is rolled back: nothing is finished, no Kassenzeichen is used (the receipt
    shows the one the finish would issue now). Unsealed; blocking: call from a thread worker.
    Refusals are the finish's own (`CommandRefused`, German)."""
    from forms.preview import preview_pdf

    with counter.store.dry_run() as session:
        _result, documents = _finish_in(session, counter, request, letterhead)
    return [
        DocumentPage(document.kind, document_label(document.kind), preview_pdf(document.render()))
        for document in documents
    ]


def _finish_in(
    session: Session, counter: Counter, request: FinishRequest, letterhead: Letterhead
) -> tuple[FinishResult, list[PendingDocument]]:
    now = counter.clock()
    ticket = queries.current_ticket_row(session, counter.ctx.office_id, counter.ctx.desk_id)
    result = commands.finish(session, counter.ctx, request.outcomes, request.notes, now)
    case = session.get(Case, result.case_id)
    assert case is not None
    assert ticket is not None
    return result, _documents_of(session, counter, case, ticket, request, letterhead, now)


def _documents_of(
    session: Session,
    counter: Counter,
    case: Case,
    ticket: Ticket,
    request: FinishRequest,
    letterhead: Letterhead,
    now: datetime,
) -> list[PendingDocument]:
    completed = [cs.service for cs in case.services if cs.outcome == ServiceOutcome.COMPLETED]
    if not completed:
        return []
    appointment = session.get(Appointment, ticket.appointment_id) if ticket.appointment_id else None
    payer = f"{appointment.given_name} {appointment.family_name}" if appointment else _("Barzahler/in")
    clerk = session.get(Clerk, counter.ctx.clerk_id)
    initials = "".join(part[0] for part in (clerk.name if clerk else "?").split() if part) or "?"
    documents = [
        PendingDocument(
            DocumentKind.RECEIPT,
            case.id,
            Receipt(
                office=letterhead.office,
                cash_office=letterhead.cash_office,
                kassenzeichen=str(issue_kassenzeichen(session, counter.ctx.desk_id, counter.numbers)),
                payer=payer,
                lines=tuple(ReceiptLine(service.name, service.fee_cents) for service in completed),
                payment_method=request.payment,
                paid_at=now,
                place=letterhead.place,
                clerk_initials=initials.upper(),
            ),
        )
    ]
    codes = {service.code.upper() for service in completed}
    if codes & REGISTRATION_CODES and appointment is not None and appointment.birth_date is not None:
        address = parse_address(request.address)
        if address is None:
            raise CommandRefused(_("Für die Meldebescheinigung fehlt die Anschrift (Hauptwohnung)."))
        first_names = tuple(appointment.given_name.split())
        documents.append(
            PendingDocument(
                DocumentKind.REGISTRATION,
                case.id,
                RegistrationCertificate(
                    office=letterhead.office,
                    person=RegisteredPerson(
                        appointment.family_name, first_names, first_names[0], appointment.birth_date
                    ),
                    addresses=(address,),
                    issued_at=now,
                    place=letterhead.place,
                    file_reference=f"{ticket.number}-{case.id[:8]}",
                ),
            )
        )
    if codes & ID_APPLICATION_CODES and request.status_check_number:
        documents.append(
            PendingDocument(
                DocumentKind.PICKUP,
                case.id,
                PickupSlip(
                    office=letterhead.office,
                    document_kind=_("Personalausweis"),
                    applicant_name=payer,
                    applied_on=now.date(),
                    status_check_number=request.status_check_number,
                    pickup_code=f"ABH-{secrets.token_hex(2).upper()}-{secrets.token_hex(2).upper()}",
                    issued_at=now,
                ),
            )
        )
    return documents


# --- keeping, printing, reprinting -----------------------------------------------------------------


class KeptDocuments:
    """The PDFs of a case, kept for a reprint until the case data is purged."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _case_dir(self, case_id: str) -> Path:
        if not case_id or "/" in case_id or case_id.startswith("."):
            raise ValueError("invalid case id")
        path = self.root / case_id
        for directory in (self.root, path):
            directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            directory.chmod(DIR_MODE)
        return path

    def keep(self, case_id: str, kind: DocumentKind, pdf: bytes) -> Path:
        path = self._case_dir(case_id) / f"{kind.value}.pdf"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pdf)
        path.chmod(FILE_MODE)
        return path

    def of_case(self, case_id: str) -> list[Path]:
        directory = self.root / case_id
        return sorted(directory.glob("*.pdf")) if directory.is_dir() else []

    def case_ids(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []

    def purge(self, case_ids: Iterable[str]) -> int:
        removed = 0
        for case_id in case_ids:
            directory = self.root / case_id
            if directory.is_dir():
                shutil.rmtree(directory)
                removed += 1
        return removed


class DocumentDesk:
    """Renders, seals, keeps and prints a desk's documents; blocking: call from a thread worker."""

    def __init__(
        self,
        store: LocalStore,
        clerk_id: str,
        kept: KeptDocuments,
        targets: PrintTargets,
        *,
        printer: Printer = cups_printer,
        sealer: Sealer | None = None,
    ) -> None:
        self.store = store
        self.clerk_id = clerk_id
        self.kept = kept
        self.targets = targets
        self.printer = printer
        self.sealer = sealer

    def produce(self, documents: Sequence[PendingDocument]) -> list[DocumentOutcome]:
        return [self._produce(document) for document in documents]

    def _produce(self, document: PendingDocument) -> DocumentOutcome:
        pdf = document.render()
        sealed = False
        note = ""
        if document.kind is DocumentKind.REGISTRATION:
            pdf, sealed, note = self._seal(pdf)
        kept = self.kept.keep(document.case_id, document.kind, pdf) if document.case_id else None
        printed, message = self._print(document.kind, pdf, document.case_id, reprint=False, sealed=sealed)
        return DocumentOutcome(document.kind, kept, printed, f"{message}{note}", sealed)

    def _seal(self, pdf: bytes) -> tuple[bytes, bool, str]:
        """A clerk expects the Meldebescheinigung to come out: unsealed (without a token, or when
        the token fails) it is still printed, and the clerk is told to stamp and sign it by hand."""
        from devices.seal.errors import SealError

        if self.sealer is None:
            return (
                pdf,
                False,
                _(" – nicht elektronisch gesiegelt: bitte mit Dienstsiegel und Unterschrift versehen."),
            )
        try:
            return self.sealer(pdf), True, ""
        except SealError as error:
            log.warning("sealing failed: %s", error.failure.name)
            return (
                pdf,
                False,
                _(" – NICHT gesiegelt ({reason}); bitte mit Dienstsiegel und Unterschrift versehen.").format(
                    reason=error.user_message
                ),
            )

    def _print(
        self, kind: DocumentKind, pdf: bytes, case_id: str | None, *, reprint: bool, sealed: bool = False
    ) -> tuple[bool, str]:
        from devices.printing import PrintError

        label = document_label(kind)
        title = f"tresen-{kind.value}-{secrets.token_hex(4)}"
        queue = self.targets.queue(kind.printer)
        try:
            if self.targets.folder is not None:
                self.targets.folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
                target = self.targets.folder / f"{title}.pdf"
                descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
                with os.fdopen(descriptor, "wb") as file:
                    file.write(pdf)
                status = _("als PDF abgelegt: {path}").format(path=target)
                queue = str(self.targets.folder)
            elif queue is None:
                raise _NoPrinterConfigured(kind.printer)
            else:
                status = self.printer(pdf, queue, title)
            printed, message = True, _("{label} gedruckt ({status}).").format(label=label, status=status)
        except (PrintError, _NoPrinterConfigured, OSError) as error:
            printed = False
            message = _(
                "{label} nicht gedruckt: {reason} Das Dokument ist für den Nachdruck aufbewahrt."
            ).format(label=label, reason=str(error) if not isinstance(error, OSError) else error.strerror)
        if kind.personal:
            with self.store.write() as session:
                audit.record(
                    session,
                    self.clerk_id,
                    case_id,
                    "document.reprint" if reprint else "document.print",
                    {"document": kind.value, "printer": queue, "printed": printed, "sealed": sealed},
                )
        return printed, message

    def reprint(self, case_id: str, kind: DocumentKind) -> DocumentOutcome:
        """Print the kept document again (Nachdruck); audited as a reprint."""
        path = self.kept.root / case_id / f"{kind.value}.pdf"
        if not path.is_file():
            return DocumentOutcome(kind, None, False, _("Dieses Dokument ist nicht (mehr) aufbewahrt."))
        printed, message = self._print(kind, path.read_bytes(), case_id, reprint=True)
        return DocumentOutcome(kind, path, printed, message)

    def preview(self, case_id: str, kind: DocumentKind) -> PagePreview:
        """The kept document's first page, shown before a reprint; audited like every read of a
        personal document (`document.preview`). CommandRefused (German) when it is no longer kept,
        PreviewError when it cannot be read."""
        from forms.preview import preview_pdf

        path = self.kept.root / case_id / f"{kind.value}.pdf"
        if not path.is_file():
            raise CommandRefused(_("Dieses Dokument ist nicht (mehr) aufbewahrt."))
        preview = preview_pdf(path.read_bytes())
        with self.store.write() as session:
            audit.record(session, self.clerk_id, case_id, "document.preview", {"document": kind.value})
        return preview

    def print_ticket(self, slip: TicketSlip) -> DocumentOutcome:
        """The Wartenummer slip (Strg+N) on the thermal printer; not personal, not kept."""
        printed, message = self._print(DocumentKind.TICKET, render_ticket_slip(slip), None, reprint=False)
        return DocumentOutcome(DocumentKind.TICKET, None, printed, message)


class _NoPrinterConfigured(Exception):
    def __init__(self, kind: PrinterKind) -> None:
        super().__init__(
            _("Für „{kind}“ ist kein Drucker eingestellt ([printing] in der Konfiguration).").format(
                kind=kind.value
            )
        )


def document_label(kind: DocumentKind) -> str:
    return {
        DocumentKind.RECEIPT: _("Quittung"),
        DocumentKind.REGISTRATION: _("Meldebescheinigung"),
        DocumentKind.PICKUP: _("Abholschein"),
        DocumentKind.TICKET: _("Wartenummer"),
    }[kind]


def purge_kept_documents(session: Session, kept: KeptDocuments, cutoff: datetime) -> int:
    """Delete kept documents of cases finished before `cutoff` or no longer in the store."""
    known: dict[str, datetime | None] = {
        row[0]: row[1] for row in session.execute(select(Case.id, Case.finished_at))
    }

    def due(case_id: str) -> bool:
        finished = known.get(case_id)
        return case_id not in known or (finished is not None and finished < cutoff)

    return kept.purge(cid for cid in kept.case_ids() if due(cid))


@dataclass(frozen=True)
class DocumentSetup:
    """What a desk needs to produce its documents; the App builds a `DocumentDesk` per opened desk."""

    targets: PrintTargets
    kept: KeptDocuments
    letterhead: Letterhead
    printer: Printer = cups_printer
    sealer: Sealer | None = None
    queue_status_url: str = "https://warteschlange.example/status"  # open: not in [printing] yet

    @classmethod
    def from_settings(
        cls, settings: PrintingSettings, office_name: str, sealer: Sealer | None
    ) -> DocumentSetup:
        office = IssuingOffice(
            settings.authority, office_name, settings.street, settings.postal_code_and_city
        )
        return cls(
            PrintTargets(settings.receipt, settings.a4, settings.thermal, settings.folder),
            KeptDocuments(settings.kept_dir),
            Letterhead(office, settings.place or office_name, settings.cash_office or office_name),
            sealer=sealer,
        )

    def for_desk(self, store: LocalStore, clerk_id: str) -> DocumentDesk:
        return DocumentDesk(
            store, clerk_id, self.kept, self.targets, printer=self.printer, sealer=self.sealer
        )


def token_sealer() -> Sealer | None:
    """The office seal on the configured PKCS#11 token, or None when no seal token is configured
    (no trust root known: `tresen seal demo-token` or TRESEN_SEAL_CA)."""
    from devices.seal.config import SealConfig

    config = SealConfig.from_env()
    if not config.trust_roots:
        return None

    def seal(pdf: bytes) -> bytes:
        from devices.seal.seal import seal_pdf

        return seal_pdf(pdf, config)

    return seal


def ticket_slip_of(counter: Counter, issued: IssueResult, status_url: str) -> TicketSlip:
    """The Wartenummer slip of a ticket the desk just issued (Strg+N)."""
    from workstation.models import Office, Service

    with counter.store.session() as session:
        office = session.get(Office, counter.ctx.office_id)
        names = tuple(
            session.scalars(
                select(Service.name).where(Service.id.in_(issued.service_ids)).order_by(Service.name)
            )
        )
    return TicketSlip(
        office_name=office.name if office else "",
        ticket_number=issued.number,
        services=names,
        issued_at=counter.clock(),
        status_url=f"{status_url}?t={issued.ticket_id}",
    )


_ADDRESS = re.compile(r"^\s*(?P<street>[^,]+?)\s*,\s*(?P<code>\d{5})\s+(?P<city>.+?)\s*$")


def parse_address(text: str) -> Address | None:
    """'Heidestraße 17, 51147 Köln' as the clerk types it from the register; None when not given."""
    match = _ADDRESS.match(text)
    if match is None:
        if text.strip():
            raise CommandRefused(_("Die Anschrift bitte als „Straße Nr., PLZ Ort“ eingeben."))
        return None
    return Address(match["street"], match["code"], match["city"])


def reprint_case_of(store: LocalStore, office_id: str, desk_id: str) -> str | None:
    """The case a Nachdruck is about: the desk's open case, else the one it finished last."""
    with store.session() as session:
        case_id: str | None = session.scalar(
            select(Case.id)
            .where(Case.office_id == office_id, Case.desk_id == desk_id)
            .order_by(Case.finished_at.is_not(None), Case.finished_at.desc(), Case.opened_at.desc())
            .limit(1)
        )
        return case_id


def kept_kinds(kept: KeptDocuments, case_id: str) -> list[DocumentKind]:
    kinds = {kind.value: kind for kind in DocumentKind}
    return [kinds[path.stem] for path in kept.of_case(case_id) if path.stem in kinds]
