"""The central service's own database (SQLite embedded, PostgreSQL in production).

Separate from the workstation's models on purpose: the central side keeps what only it knows (each
workstation's applied sequence and stored results, the per-office change counter, ticket number
counters) and stores list-valued relations as JSON, which keeps call-next to one table.

Commit order: every writing transaction ends with `stamp()`, which bumps the office's change counter
and gives each touched row its own version. The counter row stays locked until commit, so versions
become visible in commit order and `version > cursor` never skips a row (DESIGN §4).

Lock order on PostgreSQL (several central processes, or threads of one, write at once), in every
writing transaction, so that no two can wait for each other:
1. the caller's own row: the pushing workstation's, or the desk whose leases are granted;
2. tickets, in id order when the transaction waits for them (`lock_tickets`), or claimed one at a
   time with `SKIP LOCKED`, which never waits;
3. a ticket's lease, its case, its appointment: only while holding that ticket's lock (an
   appointment checked in is locked before its ticket exists; nobody else can wait for that one);
4. the office's change counter (`stamp`), last.
Number counters (tickets, Kassenzeichen) are locked by transactions that wait for no ticket after.
A desk's lease rows were once locked before their tickets, and two desks taking over each other's
former leases deadlocked (`tests/central/test_lock_order.py`). What PostgreSQL still aborts as a
deadlock or serialization failure, `CentralStore.run_write` runs again.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    Engine,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    bindparam,
    create_engine,
    event,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
    validates,
)

from sync.sqltypes import UtcDateTime

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterator, Sequence

    from sqlalchemy.sql import FromClause


log = logging.getLogger(__name__)

_Result = TypeVar("_Result")


class CentralBase(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class Versioned:
    """Rows the changes feed serves: `version` is unique within the office and follows commit order."""

    version: Mapped[int] = mapped_column(Integer, default=0)

    if TYPE_CHECKING:
        # Declared by every versioned model itself; named here so code over all of them type-checks.
        id: Mapped[str]
        __table__: ClassVar[FromClause]


class ServerMeta(CentralBase):
    __tablename__ = "server_meta"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class OfficeCounter(CentralBase):
    """The per-office change counter; locked by each writing transaction until it commits."""

    __tablename__ = "office_counters"

    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), primary_key=True)
    last_version: Mapped[int] = mapped_column(Integer, default=0)


class TicketNumberCounter(CentralBase):
    """Kiosk and check-in numbers per office, prefix and day (A101, A102, …)."""

    __tablename__ = "ticket_number_counters"

    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(4), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=100)


class Office(Versioned, CentralBase):
    __tablename__ = "offices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), default="buergeramt")
    max_calls: Mapped[int] = mapped_column(default=3)
    recall_block_minutes: Mapped[int] = mapped_column(default=5)
    early_window_minutes: Mapped[int] = mapped_column(default=5)
    service_level_minutes: Mapped[int] = mapped_column(default=15)

    @property
    def office_id(self) -> str:  # every versioned row answers `office_id`, so `stamp` treats all alike
        return self.id


class Service(Versioned, CentralBase):
    __tablename__ = "services"
    __table_args__ = (Index("ix_services_office_version", "office_id", "version"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    duration_minutes: Mapped[int] = mapped_column(default=10)
    fee_cents: Mapped[int] = mapped_column(default=0)
    required_documents: Mapped[list[str]] = mapped_column(default=list)
    needs_card_read: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_capture: Mapped[bool] = mapped_column(Boolean, default=False)
    ticket_prefix: Mapped[str] = mapped_column(String(4), default="A")


class Desk(Versioned, CentralBase):
    __tablename__ = "desks"
    __table_args__ = (Index("ix_desks_office_version", "office_id", "version"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    service_ids: Mapped[list[str]] = mapped_column(default=list)


class Clerk(Versioned, CentralBase):
    __tablename__ = "clerks"
    __table_args__ = (Index("ix_clerks_office_version", "office_id", "version"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="clerk")


class Appointment(Versioned, CentralBase):
    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_office_version", "office_id", "version"),
        Index("ix_appointments_office_slot", "office_id", "slot_start"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    booking_reference: Mapped[str] = mapped_column(String(32), unique=True)
    slot_start: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="booked")
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    service_ids: Mapped[list[str]] = mapped_column(default=list)


ISSUED_INDEX = "ix_tickets_office_issued"
STATUS_TOKEN_LENGTH = 43  # secrets.token_urlsafe(32): 256 random bits, URL-safe


def new_status_token() -> str:
    """The key of a ticket's public status page (`/q/{token}`, printed in the slip's QR code)."""
    return secrets.token_urlsafe(32)


class Ticket(Versioned, CentralBase):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_office_version", "office_id", "version"),
        Index("ix_tickets_office_state", "office_id", "state"),
        # the day's figures (sync.central.statistics_sql) read one office's tickets by arrival
        Index(ISSUED_INDEX, "office_id", "issued_at"),
        Index("ix_tickets_status_token", "status_token", unique=True),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    number: Mapped[str] = mapped_column(String(16))
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointments.id"))
    issued_at: Mapped[datetime]
    priority: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(20), default="waiting")
    called_count: Mapped[int] = mapped_column(default=0)
    first_called_at: Mapped[datetime | None]
    last_called_at: Mapped[datetime | None]
    desk_id: Mapped[str | None] = mapped_column(ForeignKey("desks.id"))
    clerk_id: Mapped[str | None] = mapped_column(ForeignKey("clerks.id"))
    target_desk_id: Mapped[str | None] = mapped_column(ForeignKey("desks.id"))
    transferred_from_id: Mapped[str | None] = mapped_column(ForeignKey("tickets.id"))
    origin: Mapped[str] = mapped_column(String(16), default="kiosk")
    service_ids: Mapped[list[str]] = mapped_column(default=list)
    # Every ticket gets one, however it is made (kiosk, check-in, transfer, seed); NULL only for rows
    # written before the column existed. Never sent to workstations in the changes feed.
    status_token: Mapped[str | None] = mapped_column(String(STATUS_TOKEN_LENGTH), default=new_status_token)
    # The same services as rows, so call-next can ask SQL "does this desk serve all of them?".
    service_links: Mapped[list[TicketService]] = relationship(cascade="all, delete-orphan")

    @validates("service_ids")
    def _link_services(self, _key: str, service_ids: list[str]) -> list[str]:
        """Keep `service_links` equal to `service_ids` whenever they are set (also in the constructor)."""
        wanted = set(service_ids)
        links = self.service_links
        for link in [link for link in links if link.service_id not in wanted]:
            links.remove(link)
        present = {link.service_id for link in links}
        links.extend(
            TicketService(service_id=service_id)
            for service_id in dict.fromkeys(service_ids)
            if service_id not in present
        )
        return service_ids

    def return_to_queue(self, previous_call_at: datetime | None) -> None:
        """Undo the ticket's latest call, one its desk never learned of (its answer was lost): the
        ticket waits again as before it, and the recall block and the call count do not hold the
        lost call against the citizen."""
        self.state = "waiting"
        self.called_count -= 1
        self.last_called_at = previous_call_at
        if self.called_count == 0:
            self.first_called_at = None
        self.desk_id, self.clerk_id = None, None

    def record_call(self, call_id: str, desk_id: str, clerk_id: str, at: datetime, *, recall: bool) -> Call:
        """Mark the ticket called to a desk and return the new `Call` row; the caller adds and stamps it.

        One place for both ways a call reaches the central store: call-next and a pushed call/recall."""
        self.state = "called"
        self.called_count += 1
        self.first_called_at = self.first_called_at or at
        self.last_called_at = at
        self.desk_id, self.clerk_id = desk_id, clerk_id
        return Call(
            id=call_id,
            office_id=self.office_id,
            ticket_id=self.id,
            desk_id=desk_id,
            clerk_id=clerk_id,
            called_at=at,
            is_recall=recall,
        )


class TicketService(CentralBase):
    """One service a ticket asks for (the ticket's `service_ids` as rows, maintained by `Ticket`)."""

    __tablename__ = "ticket_services"

    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class Call(Versioned, CentralBase):
    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_office_version", "office_id", "version"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    desk_id: Mapped[str] = mapped_column(ForeignKey("desks.id"))
    clerk_id: Mapped[str] = mapped_column(ForeignKey("clerks.id"))
    called_at: Mapped[datetime]
    is_recall: Mapped[bool] = mapped_column(Boolean, default=False)


class Case(CentralBase):
    """The visit as the workstations report it; kept for figures and the supervisor's review."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    desk_id: Mapped[str] = mapped_column(String(64))
    clerk_id: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime]
    serving_since: Mapped[datetime | None]
    served_seconds: Mapped[float] = mapped_column(default=0.0)
    finished_at: Mapped[datetime | None]
    service_ids: Mapped[list[str]] = mapped_column(default=list)
    outcomes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)


class TicketCapture(CentralBase):
    """A terminal capture a desk attached to a ticket's case: only its reference and hash, never the
    images (they stay encrypted on the workstation). The waiting room reads it to stop sending the
    citizen to the photo station."""

    __tablename__ = "ticket_captures"

    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    reference: Mapped[str] = mapped_column(String(128), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    case_id: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    items: Mapped[list[str]] = mapped_column(default=list)
    source: Mapped[str] = mapped_column(String(16))
    attached_at: Mapped[datetime]


class TerminalCapture(CentralBase):
    """The office's capture terminal reported a capture taken for a ticket of today (by its number),
    before any desk attached it: only the terminal's reference and what was taken, never the images.
    With `TicketCapture` it tells the waiting room that the citizen has been to the photo station."""

    __tablename__ = "terminal_captures"

    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    reference: Mapped[str] = mapped_column(String(128), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    items: Mapped[list[str]] = mapped_column(default=list)
    reported_at: Mapped[datetime]


class DisplayConfig(CentralBase):
    """How an office's call displays look unless a screen's URL says otherwise (`sync.central.display`):
    set by an administrator (`tresen central display-config`, `PUT /api/v1/offices/{id}/display`)."""

    __tablename__ = "display_configs"

    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), primary_key=True)
    groups: Mapped[list[str]] = mapped_column(default=list)  # ticket prefixes; empty: every group
    calls: Mapped[int] = mapped_column(Integer, default=12)
    columns: Mapped[int] = mapped_column(Integer, default=1)
    languages: Mapped[list[str]] = mapped_column(default=list)  # rotated in this order; empty: German
    rotate_seconds: Mapped[int] = mapped_column(Integer, default=10)
    updated_at: Mapped[datetime]


class ConflictResolution(CentralBase):
    """A supervisor dealt with a refused or flagged operation (`sync.central.conflicts`)."""

    __tablename__ = "conflict_resolutions"

    workstation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    resolved_at: Mapped[datetime]
    resolved_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")


class RequestNonce(CentralBase):
    """A signed request's nonce, seen (`sync.central.request_check`, PostgreSQL)."""

    __tablename__ = "request_nonces"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


LEASE_MARGIN = timedelta(seconds=30)  # beyond a lease's expiry: the clocks, an answer on its way


class TicketLease(CentralBase):
    """A waiting ticket held for one desk (`sync.central.leases`); the row outlives the lease, so
    the ticket's token keeps counting up across grants."""

    __tablename__ = "ticket_leases"

    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    desk_id: Mapped[str] = mapped_column(String(64), index=True)
    workstation_id: Mapped[str] = mapped_column(String(64))
    token: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime]


class KassenzeichenCounter(CentralBase):
    """Where the next range of running numbers starts, per prefix: the row every reservation locks
    (`sync.central.cash_ranges`), so two central processes never hand out one range twice."""

    __tablename__ = "kassenzeichen_counters"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    next_first: Mapped[int] = mapped_column(Integer)


class KassenzeichenBlock(CentralBase):
    """A range of running numbers reserved for one desk's workstation; (prefix, first) is the
    primary key, and ranges never overlap (each starts after the counter's previous one)."""

    __tablename__ = "kassenzeichen_blocks"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    first: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    desk_id: Mapped[str] = mapped_column(String(64), index=True)
    workstation_id: Mapped[str] = mapped_column(String(64))
    reserved_at: Mapped[datetime]


class Workstation(CentralBase):
    """Where each workstation's outbox stands: the last sequence number applied (or rejected)."""

    __tablename__ = "workstations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_push_at: Mapped[datetime | None]


class AppliedOperation(CentralBase):
    """Each pushed operation's outcome, stored with its effect so a re-push gets the same answer."""

    __tablename__ = "applied_operations"

    workstation_id: Mapped[str] = mapped_column(ForeignKey("workstations.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    op_id: Mapped[str] = mapped_column(String(36), unique=True)
    office_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    args: Mapped[dict[str, Any]]
    base_version: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(12))  # applied | rejected
    reason: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None]
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime]
    received_at: Mapped[datetime]


class DeskPresence(CentralBase):
    """A clerk's login at a desk (`sync.central.presence`): from the session's start to its logout,
    or to `expires_at` when the session simply ran out; the desks' idle time comes from these."""

    __tablename__ = "desk_presence"
    __table_args__ = (Index("ix_desk_presence_office_started", "office_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_digest: Mapped[str] = mapped_column(String(64), index=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    desk_id: Mapped[str] = mapped_column(ForeignKey("desks.id"))
    clerk_id: Mapped[str] = mapped_column(ForeignKey("clerks.id"))
    workstation_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


VERSIONED_MODELS: tuple[type[Versioned], ...] = (Office, Service, Desk, Clerk, Appointment, Ticket, Call)


def stamp(session: Session, office_id: str, rows: Sequence[Versioned]) -> int:
    """Give each touched row of one office a fresh version; returns the office's new counter.

    Call it last in a writing transaction, after every other row lock, so the counter is held only
    for the commit and lock order stays the same everywhere (no deadlocks)."""
    unique_rows = list({id(row): row for row in rows}.values())
    if not unique_rows:
        return current_version(session, office_id)
    new_last = session.execute(
        update(OfficeCounter)
        .where(OfficeCounter.office_id == office_id)
        .values(last_version=OfficeCounter.last_version + len(unique_rows))
        .returning(OfficeCounter.last_version)
    ).scalar_one_or_none()
    if new_last is None:  # first write for this office
        session.add(OfficeCounter(office_id=office_id, last_version=len(unique_rows)))
        session.flush()
        new_last = len(unique_rows)
    first = new_last - len(unique_rows) + 1
    for offset, row in enumerate(unique_rows):
        row.version = first + offset
    if session.get_bind().dialect.name == "postgresql":
        from sync.central.pg_notify import announce

        announce(session, office_id)  # other central processes wake their waiters at commit
    return new_last


def lock_tickets(session: Session, ticket_ids: Collection[str]) -> None:
    """Lock the existing tickets of `ticket_ids` for this transaction, in id order (the lock order,
    see the module's docstring): two transactions that both wait for some of them cannot deadlock."""
    if ticket_ids:
        query = select(Ticket.id).where(Ticket.id.in_(sorted(ticket_ids))).order_by(Ticket.id)
        session.scalars(query.with_for_update()).all()


def link_unlinked_tickets(session: Session) -> int:
    """Fill `ticket_services` for tickets written before that table existed; returns how many."""
    linked = select(TicketService.ticket_id).where(TicketService.ticket_id == Ticket.id).exists()
    rows = session.execute(select(Ticket.id, Ticket.service_ids).where(~linked)).all()
    session.add_all(
        TicketService(ticket_id=ticket_id, service_id=service_id)
        for ticket_id, service_ids in rows
        for service_id in dict.fromkeys(service_ids)
    )
    return len(rows)


# Built once with a bound parameter: SQLAlchemy adapts a cached statement to each new statement
# object, which cost more than running this one (bench/central_load.py, py-spy).
_CURRENT_VERSION = select(OfficeCounter.last_version).where(OfficeCounter.office_id == bindparam("office_id"))


def current_version(session: Session | Connection, office_id: str) -> int:
    value = session.scalar(_CURRENT_VERSION, {"office_id": office_id})
    return int(value or 0)


class CentralStore:
    """Engines and sessions for one central database URL.

    SQLite: writes run in `BEGIN IMMEDIATE` transactions (one writer at a time, which is how call-next
    is serialised there); reads run in deferred transactions and see one WAL snapshot.
    PostgreSQL: writes in READ COMMITTED with row locks; reads in REPEATABLE READ so a changes page,
    its cursor and the acknowledged sequence come from one snapshot."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.is_sqlite = db_url.startswith("sqlite")
        if self.is_sqlite:
            self.write_engine = _sqlite_engine(db_url, begin="BEGIN IMMEDIATE")
            self.read_engine = _sqlite_engine(db_url, begin="BEGIN")
        else:
            # No pre-ping: it was a round trip on every checkout, three per signed request, 15 % of a
            # process's CPU under load (bench/central_load.py). A connection the server closed
            # (PostgreSQL restarted) fails its first statement instead; SQLAlchemy then renews the
            # whole pool, `run_write` runs the work again, and any other request is answered 503
            # once, which clients retry.
            self.write_engine = create_engine(db_url, pool_size=10, max_overflow=20)
            self.read_engine = self.write_engine.execution_options(isolation_level="REPEATABLE READ")
        self.check_engine = self._check_engine()
        self._writer = sessionmaker(self.write_engine, expire_on_commit=False)
        self._reader = sessionmaker(self.read_engine, expire_on_commit=False)

    def _check_engine(self) -> Engine:
        """Where the hot single statements run: each signed request's check
        (`sync.central.request_check`) and a long poll's look at the head (`changes.quick_page`).

        PostgreSQL: connections of their own in autocommit (one round trip, no BEGIN and COMMIT) with
        `synchronous_commit = off`, which only the nonces' inserts need: their commit does not wait
        for the WAL flush (docs/architecture.md, "Replayed requests"). A single statement sees one
        snapshot in any isolation level. SQLite: the read engine."""
        if self.is_sqlite:
            return self.read_engine
        return create_engine(
            self.db_url,
            # As many as the worker threads that run these statements (`app.WORKER_THREADS`): a pool
            # smaller than that closed and opened connections all the time under load.
            pool_size=8,
            max_overflow=4,
            isolation_level="AUTOCOMMIT",
            connect_args={"options": "-c synchronous_commit=off"},
        )

    def create_schema(self) -> str:
        """Create missing tables; returns the server epoch (made once per database)."""
        from sync.central import credentials  # noqa: F401 - registers its tables on CentralBase

        CentralBase.metadata.create_all(self.write_engine)
        _add_status_token_column(self.write_engine)
        with self.write_engine.begin() as connection:  # create_all adds no index to an existing table
            for index in CentralBase.metadata.tables["tickets"].indexes:
                index.create(connection, checkfirst=True)
        with self.write() as session:
            link_unlinked_tickets(session)
            meta = session.get(ServerMeta, "epoch")
            if meta is None:
                meta = ServerMeta(key="epoch", value=str(uuid.uuid4()))
                session.add(meta)
            return meta.value

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._writer() as session, session.begin():
            yield session

    def run_write(self, work: Callable[[Session], _Result]) -> _Result:
        """`work` in a write transaction; run again from the start, a few times after a short random
        pause, when PostgreSQL aborts the transaction as a deadlock or a serialization failure, or
        its connection turns out closed (the server restarted since it was last used). Only
        for work whose effects are all in the session (a function of the session, not a `with` body
        that may have done something else before the error)."""
        attempt = 1
        while True:
            try:
                with self.write() as session:
                    return work(session)
            except OperationalError as error:
                if attempt == WRITE_ATTEMPTS or not (
                    is_transient_conflict(error) or error.connection_invalidated
                ):
                    raise
                log.warning(
                    "write transaction aborted (%s), attempt %d of %d: running it again",
                    type(error.orig).__name__,
                    attempt,
                    WRITE_ATTEMPTS,
                )
            time.sleep(random.uniform(0.0, RETRY_PAUSE_SECONDS * attempt))  # jitter: the two part ways
            attempt += 1

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session, session.begin():
            yield session

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A read snapshot as `read`, without an ORM session (for Core statements only: cheaper)."""
        with self.read_engine.connect() as connection, connection.begin():
            yield connection

    def dispose(self) -> None:
        self.write_engine.dispose()
        self.read_engine.dispose()
        self.check_engine.dispose()


WRITE_ATTEMPTS = 4
RETRY_PAUSE_SECONDS = 0.02  # times the attempt, at most: the colliding transaction ends meanwhile
# PostgreSQL's deadlock_detected and serialization_failure: the transaction was aborted, not refused,
# and the same work succeeds once the other transaction is gone.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


def is_transient_conflict(error: OperationalError) -> bool:
    return getattr(error.orig, "sqlstate", None) in TRANSIENT_SQLSTATES


def _add_status_token_column(engine: Engine) -> None:
    """Databases made before the status page lack `tickets.status_token`: add it (and its index).

    The central store has no migration tool; `create_schema` creates what is missing, and a column on
    an existing table is the one thing `create_all` cannot add."""
    columns = {column["name"] for column in inspect(engine).get_columns("tickets")}
    if "status_token" in columns:
        return
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f"ALTER TABLE tickets ADD COLUMN status_token VARCHAR({STATUS_TOKEN_LENGTH})"
        )
        connection.exec_driver_sql("CREATE UNIQUE INDEX ix_tickets_status_token ON tickets (status_token)")


def _sqlite_engine(db_url: str, begin: str) -> Engine:
    engine = create_engine(db_url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    return engine
