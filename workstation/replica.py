"""The local replica of the office: applies a pulled `ChangesPage` to the local store.

One page is applied in the caller's transaction together with the new cursor, epoch and the
workstation's acknowledged sequence number (DESIGN §4), so a crash leaves either all of it or none.
The central service is authoritative, except for rows that still have local operations the central
service has not acknowledged: those keep the local state until the operations are pushed, so a pull
never undoes what the clerk just did.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import CursorResult, func, inspect, select, update

from workstation.models import (
    Appointment,
    Base,
    Call,
    Clerk,
    Desk,
    Office,
    OperationStatus,
    OutboxOperation,
    Service,
    SyncState,
    Ticket,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from sqlalchemy.orm import Session

    from sync.protocol import ChangesPage, TicketSnapshot

log = logging.getLogger(__name__)

Row = TypeVar("Row", bound=Base)


class _EntitySnapshot(Protocol):
    """A pulled entity (sync.protocol's `*Snapshot` models): its id, its server version, its fields."""

    @property
    def id(self) -> str: ...
    @property
    def version(self) -> int: ...
    def model_dump(self) -> dict[str, Any]: ...


# Operation arguments that name a local row the operation changes.
_TICKET_ARGS = ("ticket_id", "new_ticket_id")
_VERSIONED: tuple[type[Base], ...] = (Office, Service, Desk, Clerk, Appointment, Ticket)
_IN_CHUNK = 500  # ids per IN (...) query, well below SQLite's variable limit


@dataclass(frozen=True)
class ApplyReport:
    applied: int  # rows inserted or updated
    kept_local: int  # rows not overwritten because local operations are still pending


@dataclass(frozen=True)
class ProtectedRows:
    """Rows changed by local operations the central service has not acknowledged yet."""

    ticket_ids: frozenset[str]
    appointment_ids: frozenset[str]


def sync_state(session: Session, workstation_id: str, office_id: str) -> SyncState:
    """This workstation's sync position, created on first use."""
    state = session.get(SyncState, workstation_id)
    if state is None:
        state = SyncState(workstation_id=workstation_id, office_id=office_id, cursor=0, acked_seq=0)
        session.add(state)
        session.flush()
    return state


def protected_rows(session: Session, after_seq: int) -> ProtectedRows:
    """Tickets (and their appointments) touched by pending operations with `seq > after_seq`."""
    args_list = session.scalars(
        select(OutboxOperation.args).where(
            OutboxOperation.status == OperationStatus.PENDING, OutboxOperation.seq > after_seq
        )
    ).all()
    ticket_ids: set[str] = set()
    appointment_ids: set[str] = set()
    for args in args_list:
        ticket_ids.update(str(args[key]) for key in _TICKET_ARGS if args.get(key))
        if args.get("appointment_id"):
            appointment_ids.add(str(args["appointment_id"]))
    for chunk in _chunks(sorted(ticket_ids)):
        appointment_ids.update(
            a for a in session.scalars(select(Ticket.appointment_id).where(Ticket.id.in_(chunk))) if a
        )
    return ProtectedRows(frozenset(ticket_ids), frozenset(appointment_ids))


def apply_changes(
    session: Session, page: ChangesPage, *, workstation_id: str, office_id: str, now: datetime
) -> ApplyReport:
    """Upsert the page's snapshots and advance the sync position; flushes, the caller commits."""
    protected = protected_rows(session, after_seq=page.acked_seq)
    applier = _PageApplier(session, protected)
    applier.upsert(Office, page.offices)
    applier.upsert(Service, page.services)
    applier.upsert(Desk, page.desks)
    applier.upsert(Clerk, page.clerks)
    applier.upsert(Appointment, page.appointments, protect=protected.appointment_ids)
    applier.upsert_tickets(page.tickets)
    applier.insert_calls(page)

    state = sync_state(session, workstation_id, office_id)
    state.cursor = page.cursor
    state.epoch = page.epoch
    state.acked_seq = max(state.acked_seq, page.acked_seq)
    state.last_pull_at = now
    session.flush()
    return ApplyReport(applied=applier.applied, kept_local=applier.kept_local)


def restart_for_new_epoch(
    session: Session, *, workstation_id: str, office_id: str, epoch: str | None, central_acked_seq: int
) -> int:
    """The central database was restored from a backup: pull everything again from the start and
    send again every kept operation the restored central service has not seen. Returns how many.
    (A restore that brought back the same epoch is told by what the central service acknowledges:
    `SyncEngine._restart_for_restored_central`.)"""
    state = sync_state(session, workstation_id, office_id)
    if state.epoch != epoch:
        log.warning("central epoch changed (%s -> %s): full resync", state.epoch, epoch)
    state.cursor = 0
    state.epoch = epoch
    state.acked_seq = central_acked_seq
    for model in _VERSIONED:  # the restored service counts versions from an older point again
        session.execute(update(model).values(version=0))
    return resend_from(session, central_acked_seq + 1)


def resend_from(session: Session, seq: int) -> int:
    """Mark kept operations from `seq` on as pending again, to be pushed once more. Returns how many."""
    result = session.execute(
        update(OutboxOperation)
        .where(OutboxOperation.seq >= seq, OutboxOperation.status != OperationStatus.PENDING)
        .values(status=OperationStatus.PENDING, result=None)
    )
    session.flush()
    # An UPDATE answers with a CursorResult (the row count); Session.execute is typed for any result.
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)


def renumber_pending(session: Session, workstation_id: str, first_seq: int) -> bool:
    """Give the pending operations the numbers from `first_seq` on, in their order (the central
    service is further than this store: restored from a backup). False when kept operations hold
    numbers there already (then the outbox cannot be renumbered safely)."""
    taken = session.scalar(
        select(func.count())
        .select_from(OutboxOperation)
        .where(OutboxOperation.seq >= first_seq, OutboxOperation.status != OperationStatus.PENDING)
    )
    if taken:
        return False
    pending = list(
        session.scalars(
            select(OutboxOperation)
            .where(OutboxOperation.status == OperationStatus.PENDING)
            .order_by(OutboxOperation.seq)
        )
    )
    # Out of the way first (negative numbers), then consecutive from `first_seq`: no two rows share
    # a number at any moment.
    for index, operation in enumerate(pending):
        operation.seq = -(index + 1)
    session.flush()
    for index, operation in enumerate(pending):
        operation.seq = first_seq + index
    session.flush()
    state = session.get(SyncState, workstation_id)
    if state is not None:
        state.acked_seq = max(state.acked_seq, first_seq - 1)
    log.warning(
        "store behind the central record: %d pending operations renumbered from %d", len(pending), first_seq
    )
    return True


def let_central_win(session: Session, operation_args: dict[str, Any], *, workstation_id: str) -> None:
    """After a rejected operation the local rows it changed are wrong, and the central service will
    not send them again unless they change there: pull everything again from the start (rare: only
    conflicts are rejected), with the rows' versions lowered so the central state replaces them."""
    ticket_ids = [str(operation_args[key]) for key in _TICKET_ARGS if operation_args.get(key)]
    if ticket_ids:
        session.execute(update(Ticket).where(Ticket.id.in_(ticket_ids)).values(version=0))
    session.execute(update(SyncState).where(SyncState.workstation_id == workstation_id).values(cursor=0))


def knows(session: Session, appointment_id: str | None, service_ids: Sequence[str]) -> bool:
    """Whether the replica holds the rows a pulled ticket refers to."""
    if appointment_id is not None and session.get(Appointment, appointment_id) is None:
        return False
    wanted = set(service_ids)
    if not wanted:
        return True
    found = session.scalar(select(func.count()).select_from(Service).where(Service.id.in_(wanted)))
    return found == len(wanted)


class _PageApplier:
    """Copies snapshot fields onto the local rows of the same name; loads existing rows in bulk."""

    def __init__(self, session: Session, protected: ProtectedRows) -> None:
        self.session = session
        self.protected = protected
        self.applied = 0
        self.kept_local = 0
        self._services: dict[str, Service] | None = None

    def upsert(
        self, model: type[Row], snapshots: Sequence[_EntitySnapshot], protect: frozenset[str] = frozenset()
    ) -> None:
        if not snapshots:
            return
        existing = self._existing(model, [s.id for s in snapshots])
        for snapshot in snapshots:
            snapshot_id = snapshot.id
            if snapshot_id in protect:
                self.kept_local += 1
                continue
            row = existing.get(snapshot_id)
            if row is None:
                row = model()
                self.session.add(row)
            elif row.version > snapshot.version:  # type: ignore[attr-defined]  # all _VERSIONED models have it
                # Already newer here, e.g. a call-next answer recorded while this page was in flight.
                continue
            self._copy(snapshot, row)
            self.applied += 1
        self.session.flush()
        if model is Service:
            self._services = None  # new services may be referenced by later rows of this page

    def upsert_tickets(self, snapshots: Sequence[TicketSnapshot]) -> None:
        """Tickets may point at tickets of the same page (`transferred_from_id`): insert those first."""
        pending = [s for s in snapshots if s.id not in self.protected.ticket_ids]
        self.kept_local += len(snapshots) - len(pending)
        known = set(self._existing(Ticket, [s.transferred_from_id for s in pending if s.transferred_from_id]))
        while pending:
            ready = [s for s in pending if not s.transferred_from_id or s.transferred_from_id in known]
            if not ready:  # the origin is not in the replica: keep the ticket, drop the dangling link
                log.warning("%d pulled tickets name an unknown origin ticket", len(pending))
                self.upsert(Ticket, [s.model_copy(update={"transferred_from_id": None}) for s in pending])
                return
            self.upsert(Ticket, ready)
            known.update(s.id for s in ready)
            ready_ids = {s.id for s in ready}
            pending = [s for s in pending if s.id not in ready_ids]

    def insert_calls(self, page: ChangesPage) -> None:
        """Calls are facts that never change: insert the ones this replica does not have yet."""
        if not page.calls:
            return
        have = self._existing(Call, [c.id for c in page.calls])
        ticket_ids = set(self._existing(Ticket, list({c.ticket_id for c in page.calls})))
        for snapshot in page.calls:
            if snapshot.id in have:
                continue
            if snapshot.ticket_id not in ticket_ids:
                log.warning("pulled call names a ticket the replica does not hold; skipped")
                continue
            self.session.add(
                Call(
                    id=snapshot.id,
                    ticket_id=snapshot.ticket_id,
                    desk_id=snapshot.desk_id,
                    clerk_id=snapshot.clerk_id,
                    called_at=snapshot.called_at,
                    is_recall=snapshot.is_recall,
                )
            )
            self.applied += 1
        self.session.flush()

    def _copy(self, snapshot: _EntitySnapshot, row: Base) -> None:
        data = snapshot.model_dump()
        for column in _column_names(type(row)):
            if column in data:
                setattr(row, column, data[column])
        if "service_ids" in data:
            row.services = self._service_list(data["service_ids"])  # type: ignore[attr-defined]  # models pulled with service_ids have .services

    def _service_list(self, service_ids: Sequence[str]) -> list[Service]:
        if self._services is None:
            self._services = {s.id: s for s in self.session.scalars(select(Service))}
        found = [self._services[i] for i in service_ids if i in self._services]
        if len(found) != len(service_ids):
            log.warning("pulled row names services the replica does not hold; those are left out")
        return found

    def _existing(self, model: type[Row], ids: Sequence[str]) -> dict[str, Row]:
        rows: dict[str, Row] = {}
        # Every replicated table has one string primary key `id`; selecting it beside the row keys
        # the dict without reaching for an attribute the bound `Base` does not declare.
        primary_key = inspect(model).primary_key[0]
        for chunk in _chunks(ids):
            query = select(model, primary_key).where(primary_key.in_(chunk))
            rows.update((row_id, row) for row, row_id in self.session.execute(query))
        return rows


def _column_names(model: type[Base]) -> list[str]:
    return [attr.key for attr in inspect(model).column_attrs]


def _chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield ids[start : start + _IN_CHUNK]
