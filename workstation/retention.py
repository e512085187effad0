"""Personal data kept locally only as long as the case needs it (DESIGN §6), purged on schedule.

What goes, and when:
- chip data and photo (`CardRead` rows) — needed only while the citizen is served: purged once the
  case finished before `card_data_cutoff` (default: the start of today's office day), at once when
  its ticket ended otherwise (no-show, cancelled, transferred: the visit at this case is over), and
  in any case when the read itself is older than the citizen data (an abandoned case keeps nothing);
- the citizen's name, birth date, e-mail and phone on appointments whose slot lies before
  `citizen_data_cutoff` (default: kept for the appointment's office day and the next) — ids, times,
  services, status and the booking reference stay, so statistics and the sync still work;
- the free-text notes of cases finished before that cutoff;
- captures (photo, signature, fingerprints, encrypted) as soon as the case's finish was accepted by
  the central service (`purge_synced_captures`, right after the push), when its ticket ended
  otherwise, and at the latest with the citizen data (a case left open keeps no capture).
- plain sha256 identifiers in audit events an older Tresen wrote (reversed by guessing), re-keyed
  before each purge (`audit.rekey_legacy_identifiers`); the events themselves stay.
Rows of tickets still in the queue (waiting, called, serving, parked) are never touched, and the
outbox is left alone: a pending operation is never lost.

Each batch is one `LocalStore.write()` transaction with `PRAGMA secure_delete=ON`, so SQLite zeroes
the freed cells and pages (many platform builds leave them as they were); a TRUNCATE checkpoint then
moves the zeroed pages into the database file and empties the WAL, which still held the old page
images. No VACUUM: the freelist is zeroed already, and VACUUM would rewrite the whole file under an
exclusive lock. The last batch records one audit event with counts only.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Select, delete, func, or_, select, update

from sync.clock import OFFICE_ZONE
from workstation import audit
from workstation.audit_key import AuditKeyError
from workstation.errors import TresenError
from workstation.i18n import _
from workstation.models import (
    Appointment,
    CardRead,
    Case,
    CaseCapture,
    OperationStatus,
    OutboxOperation,
    Ticket,
    TicketState,
)
from workstation.operation_kinds import OperationKind

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import Session

    from workstation.config import PrivacySettings
    from workstation.db import LocalStore
    from workstation.documents import KeptDocuments

log = logging.getLogger(__name__)

AUDIT_ACTION = "personal_data.purged"
SYSTEM_ACTOR = "system:retention"  # the audit trail's "who" when the schedule purges
BATCH_SIZE = 500  # rows of each kind per transaction: short writer locks, the clerk never waits long
DEFAULT_CITIZEN_DATA_DAYS = 2
SCHEDULE_INTERVAL_SECONDS = 3600.0

# The ticket's visit at this case is over without a finish: its chip data is no longer needed.
ENDED_OTHERWISE = (TicketState.NO_SHOW, TicketState.CANCELLED, TicketState.TRANSFERRED)
# The ticket is still being handled: its citizen's data stays, however old the appointment.
IN_QUEUE = (TicketState.WAITING, TicketState.CALLED, TicketState.SERVING, TicketState.PARKED)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long personal data stays in the local store."""

    card_data_hours: float | None = None  # None: until the office day of the finish is over
    citizen_data_days: int = DEFAULT_CITIZEN_DATA_DAYS  # office days, the appointment's own included
    zone: tzinfo = OFFICE_ZONE  # where office days begin

    def __post_init__(self) -> None:
        if self.card_data_hours is not None and self.card_data_hours < 0:
            raise ValueError("card_data_hours must not be negative")
        if self.citizen_data_days < 1:
            raise ValueError("citizen_data_days must be at least 1")

    @classmethod
    def from_settings(cls, settings: PrivacySettings) -> RetentionPolicy:
        return cls(card_data_hours=settings.card_data_hours, citizen_data_days=settings.citizen_data_days)

    def card_data_cutoff(self, now: datetime) -> datetime:
        """Card reads of cases finished before this moment are purged."""
        if self.card_data_hours is None:
            return self._start_of_office_day(now, days_back=0)
        return now.astimezone(UTC) - timedelta(hours=self.card_data_hours)

    def citizen_data_cutoff(self, now: datetime) -> datetime:
        """Appointments with a slot (and cases finished) before this moment are history."""
        return self._start_of_office_day(now, days_back=self.citizen_data_days - 1)

    def _start_of_office_day(self, now: datetime, *, days_back: int) -> datetime:
        day = now.astimezone(self.zone).date() - timedelta(days=days_back)
        return datetime.combine(day, time(0, 0), self.zone).astimezone(UTC)


@dataclass(frozen=True)
class PurgeReport:
    """What one run purged (or, on a dry run, would purge); counts only, never personal data."""

    card_reads: int
    appointments: int
    case_notes: int
    card_data_before: datetime
    citizen_data_before: datetime
    dry_run: bool = False
    batches: int = 0
    wal_truncated: bool | None = None  # None: no checkpoint was needed (dry run, nothing purged)
    captures: int = 0

    @property
    def total(self) -> int:
        return self.card_reads + self.appointments + self.case_notes + self.captures

    def audit_detail(self) -> dict[str, Any]:
        return {
            "card_reads": self.card_reads,
            "appointments": self.appointments,
            "case_notes": self.case_notes,
            "captures": self.captures,
            "card_data_before": self.card_data_before.isoformat(),
            "citizen_data_before": self.citizen_data_before.isoformat(),
            "batches": self.batches,
        }


@dataclass(frozen=True)
class _Cutoffs:
    card: datetime
    citizen: datetime


def _rekey_legacy_identifiers(store: LocalStore, actor: str, now: datetime) -> None:
    """Never in the purge's way: a broken chain or an unusable keyring is logged, the purge goes on."""
    try:
        with store.write() as session:
            audit.rekey_legacy_identifiers(session, actor, at=now)
    except audit.ChainBroken as broken:
        log.error("legacy audit identifiers left as they are: %s", broken)
    except AuditKeyError as error:
        log.warning("legacy audit identifiers not rekeyed: %s", error)


def purge_personal_data(
    store: LocalStore,
    now: datetime,
    policy: RetentionPolicy | None = None,
    *,
    dry_run: bool = False,
    actor: str = SYSTEM_ACTOR,
    batch_size: int = BATCH_SIZE,
    kept_documents: KeptDocuments | None = None,
) -> PurgeReport:
    """Purge what the policy no longer allows to keep; idempotent (a second run finds nothing).

    Documents kept for a reprint (`kept_documents`) go with the citizen data of their case.

    `actor` is who the audit event names (the schedule, or the administrator's CLI)."""
    policy = policy or RetentionPolicy()
    cutoffs = _Cutoffs(policy.card_data_cutoff(now), policy.citizen_data_cutoff(now))
    if dry_run:
        with store.session() as session:
            return PurgeReport(
                card_reads=_count(session, _card_reads_due(cutoffs)),
                appointments=_count(session, _appointments_due(cutoffs)),
                case_notes=_count(session, _case_notes_due(cutoffs)),
                captures=_count(session, _captures_due(cutoffs)),
                card_data_before=cutoffs.card,
                citizen_data_before=cutoffs.citizen,
                dry_run=True,
            )
    _rekey_legacy_identifiers(store, actor, now)
    totals = [0, 0, 0, 0]
    batches = 0
    while True:
        with store.write() as session:
            with _secure_delete(session):
                done = _purge_batch(session, cutoffs, batch_size)
            totals = [total + count for total, count in zip(totals, done, strict=True)]
            batches += 1
            last = max(done) < batch_size
            if last and any(totals):
                report = _report(totals, cutoffs, batches)
                audit.record(session, actor, None, AUDIT_ACTION, report.audit_detail(), at=now)
        if last:
            break
    if kept_documents is not None:
        # Here, not at the top: the document stack (every form's layout) stays off the start path.
        from workstation.documents import purge_kept_documents

        with store.session() as session:
            removed = purge_kept_documents(session, kept_documents, cutoffs.citizen)
        if removed:
            log.info("purged the kept documents of %d cases", removed)
    report = _report(totals, cutoffs, batches)
    if not report.total:
        return report
    log.info(
        "purged personal data: %d card reads, %d appointments, %d case notes, %d captures in %d batches",
        report.card_reads,
        report.appointments,
        report.case_notes,
        report.captures,
        report.batches,
    )
    return _with_checkpoint(store, report)


def _report(totals: list[int], cutoffs: _Cutoffs, batches: int) -> PurgeReport:
    card_reads, appointments, case_notes, captures = totals
    return PurgeReport(
        card_reads,
        appointments,
        case_notes,
        cutoffs.card,
        cutoffs.citizen,
        batches=batches,
        captures=captures,
    )


def _purge_batch(session: Session, cutoffs: _Cutoffs, limit: int) -> tuple[int, int, int, int]:
    """One batch of each kind, chosen and changed under the writer lock (so nothing changes between)."""
    read_ids = session.scalars(_card_reads_due(cutoffs).limit(limit)).all()
    if read_ids:
        session.execute(delete(CardRead).where(CardRead.id.in_(read_ids)))
    appointment_ids = session.scalars(_appointments_due(cutoffs).limit(limit)).all()
    if appointment_ids:
        session.execute(
            update(Appointment)
            .where(Appointment.id.in_(appointment_ids))
            .values(given_name="", family_name="", birth_date=None, email=None, phone=None)
        )
    case_ids = session.scalars(_case_notes_due(cutoffs).limit(limit)).all()
    if case_ids:
        session.execute(update(Case).where(Case.id.in_(case_ids)).values(notes=""))
    capture_ids = session.scalars(_captures_due(cutoffs).limit(limit)).all()
    if capture_ids:
        session.execute(delete(CaseCapture).where(CaseCapture.id.in_(capture_ids)))
    return len(read_ids), len(appointment_ids), len(case_ids), len(capture_ids)


def _finish_synced() -> Any:
    """The case's finish is in the outbox and the central service applied it."""
    return (
        select(OutboxOperation.seq)
        .where(
            OutboxOperation.kind == str(OperationKind.CASE_FINISH),
            OutboxOperation.status == OperationStatus.APPLIED,
            OutboxOperation.args["case_id"].as_string() == Case.id,
        )
        .exists()
    )


def _captures_due(cutoffs: _Cutoffs | None) -> Select[str]:
    """Captures whose case is finished and synced (or ended otherwise); with `cutoffs`, also the
    schedule's backstop: attached or finished before the citizen data's cutoff."""
    due = [Case.finished_at.is_not(None) & _finish_synced(), Ticket.state.in_(ENDED_OTHERWISE)]
    if cutoffs is not None:
        due += [CaseCapture.attached_at < cutoffs.citizen, Case.finished_at < cutoffs.citizen]
    return (
        select(CaseCapture.id)
        .join(Case, Case.id == CaseCapture.case_id)
        .join(Ticket, Ticket.id == Case.ticket_id)
        .where(or_(*due))
        .order_by(CaseCapture.id)
    )


CAPTURES_AUDIT_ACTION = "capture.purged"


def purge_synced_captures(session: Session, now: datetime, *, actor: str = SYSTEM_ACTOR) -> int:
    """In the caller's write transaction (the sync engine's, right after the push answer marked a
    finish applied): delete the captures whose case is finished and synced, zeroing the freed pages;
    one audit event with the count."""
    capture_ids = session.scalars(_captures_due(None)).all()
    if not capture_ids:
        return 0
    with _secure_delete(session):
        session.execute(delete(CaseCapture).where(CaseCapture.id.in_(capture_ids)))
    audit.record(session, actor, None, CAPTURES_AUDIT_ACTION, {"captures": len(capture_ids)}, at=now)
    log.info("purged %d captures of finished, synced cases", len(capture_ids))
    return len(capture_ids)


def _card_reads_due(cutoffs: _Cutoffs) -> Select[str]:
    return (
        select(CardRead.id)
        .join(Case, Case.id == CardRead.case_id)
        .join(Ticket, Ticket.id == Case.ticket_id)
        .where(
            or_(
                Case.finished_at < cutoffs.card,
                Ticket.state.in_(ENDED_OTHERWISE),
                # A case left open (e.g. parked overnight) keeps no chip data beyond the citizen data.
                CardRead.read_at < cutoffs.citizen,
            )
        )
        .order_by(CardRead.id)
    )


def _appointments_due(cutoffs: _Cutoffs) -> Select[str]:
    still_in_queue = select(Ticket.id).where(
        Ticket.appointment_id == Appointment.id, Ticket.state.in_(IN_QUEUE)
    )
    return (
        select(Appointment.id)
        .where(
            Appointment.slot_start < cutoffs.citizen,
            or_(
                Appointment.given_name != "",
                Appointment.family_name != "",
                Appointment.birth_date.is_not(None),
                Appointment.email.is_not(None),
                Appointment.phone.is_not(None),
            ),
            ~still_in_queue.exists(),
        )
        .order_by(Appointment.id)
    )


def _case_notes_due(cutoffs: _Cutoffs) -> Select[str]:
    return select(Case.id).where(Case.finished_at < cutoffs.citizen, Case.notes != "").order_by(Case.id)


def _count(session: Session, query: Select[str]) -> int:
    return int(session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)


class _secure_delete:  # noqa: N801 — used like a function: `with _secure_delete(session):`
    """SQLite zeroes what this transaction frees; the connection's own setting comes back afterwards
    (it returns to the pool, and other writers need not pay for the zeroing)."""

    def __init__(self, session: Session) -> None:
        self._connection = session.connection()
        self._previous = 0

    def __enter__(self) -> None:
        self._previous = int(self._connection.exec_driver_sql("PRAGMA secure_delete").scalar() or 0)
        self._connection.exec_driver_sql("PRAGMA secure_delete=ON")

    def __exit__(self, *exc_info: object) -> None:
        self._connection.exec_driver_sql(f"PRAGMA secure_delete={self._previous}")


def _with_checkpoint(store: LocalStore, report: PurgeReport) -> PurgeReport:
    """Copy the zeroed pages into the database file and empty the WAL, whose older frames still
    hold the purged data. A reader holding an old snapshot makes this give up (busy): the next run's
    checkpoint, or SQLite's own, finishes it."""
    try:
        with store.engine.connect() as connection:
            busy, _log_frames, _copied = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    except TresenError:
        log.warning("checkpoint after the purge failed", exc_info=True)
        return replace(report, wal_truncated=False)
    if busy:
        log.warning("checkpoint after the purge was blocked by a reader; the WAL keeps old frames for now")
    return replace(report, wal_truncated=not busy)


def describe_purge(report: PurgeReport, zone: tzinfo = OFFICE_ZONE) -> str:
    """The administrator's summary of a run, in the UI language (counts and cutoffs only)."""
    counts = _(
        "{card_reads} Ausweis-Auslesungen (Chipdaten, Lichtbild), Bürgerdaten von {appointments} Terminen, "
        "Notizen von {case_notes} Vorgängen"
    ).format(card_reads=report.card_reads, appointments=report.appointments, case_notes=report.case_notes)
    if report.captures:
        counts += _(", {captures} Aufnahmen (Lichtbild, Unterschrift, Fingerabdrücke)").format(
            captures=report.captures
        )
    rules = _(
        "Fristen: Chipdaten von Vorgängen, die vor {card} endeten; Bürgerdaten von Terminen vor {citizen}."
    ).format(
        card=report.card_data_before.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
        citizen=report.citizen_data_before.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
    )
    if report.dry_run:
        return (
            _("Probelauf, nichts gelöscht. Zu löschen wären: {counts}.").format(counts=counts) + "\n" + rules
        )
    return _("Gelöscht: {counts}.").format(counts=counts) + "\n" + rules


# --- the schedule ------------------------------------------------------------------------------------


class WorkerHost(Protocol):
    """What the schedule needs of the Textual app (kept structural: this module imports no Textual)."""

    def run_worker(self, work: Callable[[], object], *args: Any, **kwargs: Any) -> object: ...

    def set_interval(
        self, interval: float, callback: Callable[[], object], *args: Any, **kwargs: Any
    ) -> object: ...


@dataclass
class RetentionSchedule:
    """Runs the purge at app start and then every `interval_seconds`, off the UI thread.

    Overlapping runs are skipped (not queued), and a failed run is logged, never raised: the clerk's
    work must not stop because a purge could not run; the next one catches up."""

    store: LocalStore
    policy: RetentionPolicy = field(default_factory=RetentionPolicy)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    interval_seconds: float = SCHEDULE_INTERVAL_SECONDS
    kept_documents: KeptDocuments | None = None
    last_report: PurgeReport | None = None
    _running: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def run_now(self) -> PurgeReport | None:
        """One purge; None when another run is still busy or the run failed."""
        if not self._running.acquire(blocking=False):
            log.info("purge skipped: the previous run is still busy")
            return None
        try:
            self.last_report = purge_personal_data(
                self.store, self.clock(), self.policy, kept_documents=self.kept_documents
            )
            return self.last_report
        except TresenError as error:
            log.warning("purge failed: %s", error)
            return None
        except Exception:
            log.exception("purge failed")
            return None
        finally:
            self._running.release()

    def attach(self, host: WorkerHost) -> None:
        """Start now and every interval in a thread worker of `host` (the Textual app)."""
        self._start_worker(host)
        host.set_interval(self.interval_seconds, lambda: self._start_worker(host), name="retention")

    def _start_worker(self, host: WorkerHost) -> None:
        host.run_worker(self.run_now, name="retention", group="retention", thread=True, exit_on_error=False)
