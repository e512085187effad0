"""The central side's view of the waiting queue, handed to the one call-next ordering rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sync.central import store
from sync.central.seed import OFFICE_ZONE


@dataclass(frozen=True)
class QueueCandidate:
    ticket_id: str
    number: str
    issued_at: datetime
    priority: int
    last_called_at: datetime | None
    target_desk_id: str | None
    service_ids: frozenset[str]
    slot_start: datetime | None  # set for a checked-in appointment


@dataclass(frozen=True)
class Chosen:
    ticket_id: str
    explanation: str


def choose(
    candidates: list[QueueCandidate],
    desk_id: str,
    desk_service_ids: set[str],
    office: store.Office,
    now: datetime,
) -> Chosen | None:
    """DESIGN §7: eligible tickets of this desk's services (transfers only for their target desk; none
    called in the last few minutes); urgent first, then due appointments by slot, then walk-ins by
    arrival; ties by number."""
    recall_block = timedelta(minutes=office.recall_block_minutes)
    early = timedelta(minutes=office.early_window_minutes)
    best: tuple[tuple[object, ...], QueueCandidate, datetime] | None = None
    for candidate in candidates:
        if candidate.target_desk_id is not None and candidate.target_desk_id != desk_id:
            continue
        if not candidate.service_ids or not candidate.service_ids <= desk_service_ids:
            continue
        if candidate.last_called_at is not None and now - candidate.last_called_at < recall_block:
            continue
        if candidate.slot_start is not None:
            due_at = max(candidate.slot_start - early, candidate.issued_at)
            if due_at > now and candidate.priority == 0:
                continue  # checked in early: not yet due
            group = 1
        else:
            due_at = candidate.issued_at
            group = 2
        if candidate.priority > 0:
            group = 0
        key = (group, candidate.slot_start or due_at, candidate.issued_at, candidate.number)
        if best is None or key < best[0]:
            best = (key, candidate, due_at)
    if best is None:
        return None
    _, candidate, due_at = best
    return Chosen(candidate.ticket_id, _explain(candidate, due_at, now))


def _explain(candidate: QueueCandidate, due_at: datetime, now: datetime) -> str:
    minutes = max(0, int((now - due_at).total_seconds() // 60))
    if candidate.priority > 0:
        return f"Dringend, wartet seit {minutes} min"
    if candidate.slot_start is not None:
        minutes = max(0, int((now - candidate.slot_start).total_seconds() // 60))  # late against the slot
        return f"Termin {candidate.slot_start.astimezone(OFFICE_ZONE):%H:%M}, fällig seit {minutes} min"
    return f"Ohne Termin, wartet seit {minutes} min"
