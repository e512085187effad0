"""The supervisor's conflict list: every operation of the office the central service refused or kept
for review (a call another desk made first, a finish of a ticket not served here, a stale lease),
with desk, clerk and reason, and a way to mark each dealt with (DESIGN §4: kept, told, never dropped)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from sync.central import store
from sync.central.errors import NotFound
from sync.protocol import ConflictEntry

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

MAX_LISTED = 500


def list_conflicts(
    session: Session, office_id: str, *, include_resolved: bool = False
) -> list[ConflictEntry]:
    operation, resolution = store.AppliedOperation, store.ConflictResolution
    query = (
        select(operation, resolution)
        .outerjoin(
            resolution,
            (resolution.workstation_id == operation.workstation_id) & (resolution.seq == operation.seq),
        )
        .where(operation.office_id == office_id, or_(operation.status == "rejected", operation.flagged))
        .order_by(operation.received_at.desc(), operation.workstation_id, operation.seq.desc())
        .limit(MAX_LISTED)
    )
    if not include_resolved:
        query = query.where(resolution.seq.is_(None))
    return [_entry(row, done) for row, done in session.execute(query)]


def resolve(
    session: Session, office_id: str, workstation_id: str, seq: int, by: str, note: str, now: datetime
) -> ConflictEntry:
    row = session.get(store.AppliedOperation, (workstation_id, seq))
    if row is None or row.office_id != office_id or not (row.status == "rejected" or row.flagged):
        raise NotFound(f"no conflict {workstation_id}#{seq} in office {office_id}")
    done = session.get(store.ConflictResolution, (workstation_id, seq))
    if done is None:
        done = store.ConflictResolution(
            workstation_id=workstation_id, seq=seq, resolved_at=now, resolved_by=by, note=note
        )
        session.add(done)
    session.flush()
    return _entry(row, done)


def _entry(row: store.AppliedOperation, done: store.ConflictResolution | None) -> ConflictEntry:
    args = row.args or {}

    def named(key: str) -> str | None:
        value = args.get(key)
        return value if isinstance(value, str) else None

    return ConflictEntry(
        workstation_id=row.workstation_id,
        seq=row.seq,
        kind=row.kind,
        status="rejected" if row.status == "rejected" else "flagged",
        reason=row.reason or "",
        desk_id=named("desk_id"),
        clerk_id=named("clerk_id"),
        ticket_id=named("ticket_id"),
        created_at=row.created_at,
        received_at=row.received_at,
        resolved_at=done.resolved_at if done else None,
        resolved_by=done.resolved_by if done else None,
        note=done.note if done else None,
    )
