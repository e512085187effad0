"""The workstation's local store: a replica of the office's reference data and queue, plus what
only this workstation knows (its outbox, its sync position, its audit trail).

Times are stored as naive UTC and returned as aware UTC (`UtcDateTime`): SQLite keeps no zone, and
the device clock never orders events anyway (DESIGN §4) — server versions and sequence numbers do.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from sync.sqltypes import UtcDateTime
from sync.states import TicketState as TicketState  # noqa: PLC0414  (explicit re-export for the models' users)

SCHEMA_VERSION = 1


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


# `tickets.state` stays VARCHAR(20) holding the enum's values (no CHECK constraint, as the schema
# has always been), but rows load as `TicketState` members, so the annotation tells the truth.
TICKET_STATE_TYPE = Enum(
    TicketState,
    native_enum=False,
    length=20,
    values_callable=lambda states: [state.value for state in states],
)


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    FINISHED = "finished"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class ServiceOutcome(StrEnum):
    COMPLETED = "completed"  # erledigt
    DOCUMENTS_MISSING = "documents_missing"  # Unterlagen fehlen
    REJECTED = "rejected"  # abgelehnt
    NOT_DONE = "not_done"  # nicht bearbeitet


class ClerkRole(StrEnum):
    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    ADMINISTRATOR = "administrator"


class OperationStatus(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    REJECTED = "rejected"


desk_services = Table(
    "desk_services",
    Base.metadata,
    Column("desk_id", ForeignKey("desks.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
)

appointment_services = Table(
    "appointment_services",
    Base.metadata,
    Column("appointment_id", ForeignKey("appointments.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
)

ticket_services = Table(
    "ticket_services",
    Base.metadata,
    Column("ticket_id", ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
)


class Office(Base):
    __tablename__ = "offices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), default="buergeramt")
    max_calls: Mapped[int] = mapped_column(default=3)
    recall_block_minutes: Mapped[int] = mapped_column(default=5)
    early_window_minutes: Mapped[int] = mapped_column(default=5)
    service_level_minutes: Mapped[int] = mapped_column(default=15)
    version: Mapped[int] = mapped_column(default=0)


class Service(Base):
    __tablename__ = "services"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    duration_minutes: Mapped[int] = mapped_column(default=10)
    fee_cents: Mapped[int] = mapped_column(default=0)
    required_documents: Mapped[list[str]] = mapped_column(default=list)
    needs_card_read: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_capture: Mapped[bool] = mapped_column(Boolean, default=False)
    ticket_prefix: Mapped[str] = mapped_column(String(4), default="A")
    version: Mapped[int] = mapped_column(default=0)


class Desk(Base):
    __tablename__ = "desks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(default=0)
    services: Mapped[list[Service]] = relationship(secondary=desk_services, lazy="selectin")


class Clerk(Base):
    __tablename__ = "clerks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[ClerkRole] = mapped_column(String(20), default=ClerkRole.CLERK)
    version: Mapped[int] = mapped_column(default=0)


class Appointment(Base):
    __tablename__ = "appointments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    booking_reference: Mapped[str] = mapped_column(String(32), unique=True)
    slot_start: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[AppointmentStatus] = mapped_column(String(20), default=AppointmentStatus.BOOKED)
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200), index=True)
    birth_date: Mapped[date | None] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    version: Mapped[int] = mapped_column(default=0)
    services: Mapped[list[Service]] = relationship(secondary=appointment_services, lazy="selectin")


class Ticket(Base):
    """A place in the queue. `issued_at` is the arrival (check-in for appointments)."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_office_state", "office_id", "state"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    number: Mapped[str] = mapped_column(String(16), index=True)
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointments.id"), index=True)
    issued_at: Mapped[datetime]
    priority: Mapped[int] = mapped_column(default=0)  # 1 = urgent, set by reception
    state: Mapped[TicketState] = mapped_column(TICKET_STATE_TYPE, default=TicketState.WAITING)
    called_count: Mapped[int] = mapped_column(default=0)
    first_called_at: Mapped[datetime | None]
    last_called_at: Mapped[datetime | None]
    desk_id: Mapped[str | None] = mapped_column(ForeignKey("desks.id"))  # calling/serving desk
    clerk_id: Mapped[str | None] = mapped_column(ForeignKey("clerks.id"))
    target_desk_id: Mapped[str | None] = mapped_column(ForeignKey("desks.id"))  # transfer to a desk
    transferred_from_id: Mapped[str | None] = mapped_column(ForeignKey("tickets.id"))
    origin: Mapped[str] = mapped_column(String(16), default="kiosk")  # kiosk | desk | appointment
    version: Mapped[int] = mapped_column(default=0)
    services: Mapped[list[Service]] = relationship(secondary=ticket_services, lazy="selectin")
    appointment: Mapped[Appointment | None] = relationship(lazy="joined")


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    desk_id: Mapped[str] = mapped_column(ForeignKey("desks.id"))
    clerk_id: Mapped[str] = mapped_column(ForeignKey("clerks.id"))
    called_at: Mapped[datetime]
    is_recall: Mapped[bool] = mapped_column(Boolean, default=False)


class Case(Base):
    """The visit at the desk, from show-up to finish; service time sums the serving segments."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    desk_id: Mapped[str] = mapped_column(ForeignKey("desks.id"))
    clerk_id: Mapped[str] = mapped_column(ForeignKey("clerks.id"))
    opened_at: Mapped[datetime]  # show-up
    serving_since: Mapped[datetime | None]  # None while parked or finished
    served_seconds: Mapped[float] = mapped_column(default=0.0)
    finished_at: Mapped[datetime | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    services: Mapped[list[CaseService]] = relationship(
        back_populates="case", cascade="all, delete-orphan", lazy="selectin"
    )


class CaseService(Base):
    __tablename__ = "case_services"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), primary_key=True)
    outcome: Mapped[ServiceOutcome | None] = mapped_column(String(24))
    documents_checked: Mapped[list[str]] = mapped_column(default=list)
    case: Mapped[Case] = relationship(back_populates="services")
    service: Mapped[Service] = relationship(lazy="joined")


class OutboxOperation(Base):
    """A business command waiting to reach (or already applied by) the central service."""

    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)  # per-workstation sequence
    op_id: Mapped[str] = mapped_column(String(36), unique=True)  # UUIDv7, client-generated
    workstation_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    args: Mapped[dict[str, Any]]
    base_version: Mapped[int | None]
    schema_version: Mapped[int] = mapped_column(default=SCHEMA_VERSION)
    created_at: Mapped[datetime]
    status: Mapped[OperationStatus] = mapped_column(String(12), default=OperationStatus.PENDING, index=True)
    result: Mapped[dict[str, Any] | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class SyncState(Base):
    """One row: where this workstation stands with the central service."""

    __tablename__ = "sync_state"

    workstation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(String(64))
    cursor: Mapped[int] = mapped_column(default=0)
    epoch: Mapped[str | None] = mapped_column(String(64))
    acked_seq: Mapped[int] = mapped_column(default=0)
    last_push_at: Mapped[datetime | None]
    last_pull_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class AuditEvent(Base):
    """Who read or changed personal data, when, for which case; hash-chained against tampering."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    clerk_id: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]]  # never personal data in clear; hash identifiers
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class CardRead(Base):
    """Chip data read from the citizen's ID card or passport; stays with the case, purged with it."""

    __tablename__ = "card_reads"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    clerk_id: Mapped[str] = mapped_column(String(64))
    read_at: Mapped[datetime]
    access_protocol: Mapped[str] = mapped_column(String(8))  # PACE | BAC
    document_code: Mapped[str] = mapped_column(String(4))  # e.g. ID, P
    document_number_hash: Mapped[str] = mapped_column(String(64))  # for audit and matching only
    chip_data: Mapped[dict[str, Any]]  # DG1 fields as read; personal data
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)
    photo_mime: Mapped[str | None] = mapped_column(String(32))
    verdict: Mapped[str] = mapped_column(String(16))  # VERIFIED | NOT_VERIFIED | FAILED
    verification_steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class KassenzeichenRangeRow(Base):
    """The running numbers this desk may put on receipts (offline too): reserved for it alone.

    Reserved by the central service during sync (`SyncEngine`, `sync.central.cash_ranges`) or seeded
    (`documents.reserve_range`, tests and administrators). `next_*` is the range fetched while this
    one ran low; issuing moves on to it when this one is used up."""

    __tablename__ = "kassenzeichen_ranges"

    desk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(8))
    first: Mapped[int]
    last: Mapped[int]
    last_issued: Mapped[int | None]
    next_prefix: Mapped[str | None] = mapped_column(String(8))
    next_first: Mapped[int | None]
    next_last: Mapped[int | None]


class ClerkVerifier(Base):
    """A clerk's PIN verifier (argon2id, `sync.pins`), made at the last online login at this
    workstation, so the clerk can log in while the central service is unreachable; with the
    offline lockout's count."""

    __tablename__ = "clerk_verifiers"

    clerk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    verifier: Mapped[str] = mapped_column(String(200))
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]


class DeskLease(Base):
    """A waiting ticket the central service holds for this desk (`sync.central.leases`): F2 calls
    it locally, with its fencing token. `valid_until` is on this workstation's clock, counted from
    when the lease arrived (the central service's clock may differ)."""

    __tablename__ = "desk_leases"

    ticket_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    desk_id: Mapped[str] = mapped_column(String(64), index=True)
    token: Mapped[int]
    valid_until: Mapped[datetime]


class CaseCapture(Base):
    """A capture (photo, signature image, fingerprints) fetched from the office's terminal or a
    photographer's cloud and attached to a case (`workstation.captures`). The images are in
    `payload` only AES-GCM-encrypted under the installation's capture key; everything else here is
    what the clerk and the document application need to know about it, no image byte. Purged with
    the case (`workstation.retention`)."""

    __tablename__ = "case_captures"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    clerk_id: Mapped[str] = mapped_column(String(64))
    attached_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16))  # terminal | cloud
    reference: Mapped[str] = mapped_column(String(128))  # the source's transfer / photo id
    bundle_sha256: Mapped[str] = mapped_column(String(64))  # what the source signed
    signer: Mapped[str] = mapped_column(String(200))
    uploader_id: Mapped[str | None] = mapped_column(String(200))  # TR-03170 Nutzerkennung (cloud)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # kind, media type, size, sha256, finger
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # the check report, German lines
    passed: Mapped[bool] = mapped_column(Boolean)
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # nonce ‖ AES-GCM(images), never plain


class StoreInstance(Base):
    """One row: which instance of the store this file is (`workstation.store_instance`). The same
    id is kept outside the file, beside the user's state; a file whose id is not the one kept there
    for its place was copied (or moved), and is another instance."""

    __tablename__ = "store_instance"

    instance_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    copied_from: Mapped[str | None] = mapped_column(String(36))  # the instance this one is a copy of
    copied_at: Mapped[datetime | None]
    # Workstation identities the store held before it was copied: the original may still use them,
    # so this instance syncs under none of them (it needs its own enrollment).
    retired_workstation_ids: Mapped[list[str]] = mapped_column(default=list)
    # Walk-in numbers of a copy carry this letter after the desk number (S3K-07): the original and
    # other copies go on counting the desk's range, and cannot meet this one's numbers.
    number_mark: Mapped[str | None] = mapped_column(String(2))
