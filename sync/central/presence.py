"""Who was logged in at which desk, and when: the desks' idle time (DESIGN §7) comes from these rows.

A clerk session opened for a desk starts a `store.DeskPresence`; logging out ends it, a revoked
workstation ends its own, and a session that simply runs out ends at its expiry (`expires_at`, read
as the end while `ended_at` is empty). A desk has one clerk at a time and a workstation one session:
a new login at the desk or from the workstation ends the open presence there at that moment, so a
crashed workstation that never logged out does not count as logged in for the rest of its session.
Each function runs inside the caller's transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from sync.central import store
from sync.central.errors import Forbidden, NotFound

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session

__all__ = ["desk_for_login", "end_presence", "end_workstation_presence", "start_presence"]


def desk_for_login(session: Session, office_id: str, bound_desk: str | None, asked: str | None) -> str | None:
    """The desk a login at a workstation is for: the one it is enrolled for, or the one it names (an
    unbound workstation); None when neither is known (no presence is recorded then)."""
    if bound_desk is not None and asked is not None and asked != bound_desk:
        raise Forbidden("this workstation is enrolled for another desk")
    desk_id = asked or bound_desk
    if desk_id is None:
        return None
    desk = session.get(store.Desk, desk_id)
    if desk is None or desk.office_id != office_id:
        raise NotFound(f"no desk {desk_id} in office {office_id}")
    return desk_id


def start_presence(
    session: Session,
    *,
    session_digest: str,
    office_id: str,
    desk_id: str,
    clerk_id: str,
    workstation_id: str,
    now: datetime,
    expires_at: datetime,
) -> store.DeskPresence:
    _end_open(
        session,
        now,
        or_(store.DeskPresence.desk_id == desk_id, store.DeskPresence.workstation_id == workstation_id),
    )
    row = store.DeskPresence(
        session_digest=session_digest,
        office_id=office_id,
        desk_id=desk_id,
        clerk_id=clerk_id,
        workstation_id=workstation_id,
        started_at=now,
        expires_at=expires_at,
        ended_at=None,
    )
    session.add(row)
    return row


def end_presence(session: Session, session_digest: str, now: datetime) -> None:
    """The clerk of this session logged out."""
    _end_open(session, now, store.DeskPresence.session_digest == session_digest)


def end_workstation_presence(session: Session, workstation_id: str, now: datetime) -> None:
    _end_open(session, now, store.DeskPresence.workstation_id == workstation_id)


def _end_open(session: Session, now: datetime, which: ColumnElement[bool]) -> None:
    rows = session.scalars(
        select(store.DeskPresence).where(
            which,
            store.DeskPresence.ended_at.is_(None),
            store.DeskPresence.expires_at > now,
        )
    )
    for row in rows:
        row.ended_at = max(now, row.started_at)
