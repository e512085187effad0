"""The one call-next ordering rule (DESIGN §7), shared by the workstation and the central service.

A pure function over plain values, standard library only: the central arbitration and the local
fallback must pick the same ticket from the same queue, and the rule is property-tested on its own.

1. eligible: waiting tickets whose services this desk serves (all of them), that are not transferred
   to another desk, and that were not called in the last few minutes (recall is explicit);
2. checked-in appointments are due at their slot minus an early window (never before check-in);
   walk-ins are due at arrival;
3. urgent tickets first (by arrival), then due appointments by slot, then walk-ins by arrival,
   then appointments not due yet (an idle desk may take an early citizen) by slot;
4. ties by ticket number (natural order: A99 before A100), then by ticket id for determinism.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import IntEnum
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, NamedTuple

from sync.clock import OFFICE_ZONE

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence


class Reason(IntEnum):
    """Why a ticket is where it is in the order; the value is its rank."""

    URGENT = 0
    APPOINTMENT_DUE = 1
    WALK_IN = 2
    APPOINTMENT_EARLY = 3


class QueueEntry(NamedTuple):
    """A waiting ticket as the ordering rule sees it (a named tuple: thousands are built per call)."""

    ticket_id: str
    number: str
    issued_at: datetime  # arrival: ticket issue for walk-ins, check-in for appointments
    service_ids: frozenset[str]
    priority: int = 0  # > 0: urgent (set by reception)
    last_called_at: datetime | None = None
    slot_start: datetime | None = None  # set for a checked-in appointment
    target_desk_id: str | None = None  # a transfer to one particular desk


@dataclass(frozen=True)
class OrderingRules:
    """Per-office settings of the rule (the office row carries them)."""

    recall_block_minutes: int = 5
    early_window_minutes: int = 5
    zone: tzinfo = OFFICE_ZONE  # for the times in explanations

    @cached_property
    def early_window(self) -> timedelta:
        return timedelta(minutes=self.early_window_minutes)

    @cached_property
    def recall_block(self) -> timedelta:
        return timedelta(minutes=self.recall_block_minutes)


def _untranslated(message: str) -> str:
    return message


@dataclass(frozen=True)
class Choice:
    ticket_id: str
    number: str
    reason: Reason
    due_at: datetime
    slot_start: datetime | None
    minutes_due: int  # whole minutes since due (negative: due in that many minutes)
    explanation: str  # German, e.g. "Termin 10:20, fällig seit 3 min"


def due_at(entry: QueueEntry, rules: OrderingRules) -> datetime:
    """When the ticket may be called in its turn: slot minus early window, never before arrival."""
    if entry.slot_start is None:
        return entry.issued_at
    due = entry.slot_start - rules.early_window
    return due if due > entry.issued_at else entry.issued_at


def reason_of(entry: QueueEntry, now: datetime, rules: OrderingRules) -> Reason:
    if entry.priority > 0:
        return Reason.URGENT
    if entry.slot_start is None:
        return Reason.WALK_IN
    return Reason.APPOINTMENT_DUE if due_at(entry, rules) <= now else Reason.APPOINTMENT_EARLY


def is_eligible(
    entry: QueueEntry,
    desk_service_ids: Collection[str],
    now: datetime,
    rules: OrderingRules,
    desk_id: str | None = None,
) -> bool:
    if entry.target_desk_id is not None and entry.target_desk_id != desk_id:
        return False
    served = desk_service_ids if isinstance(desk_service_ids, frozenset) else frozenset(desk_service_ids)
    if not entry.service_ids or not entry.service_ids <= served:
        return False
    return entry.last_called_at is None or now >= entry.last_called_at + rules.recall_block


def order_key(entry: QueueEntry, now: datetime, rules: OrderingRules) -> tuple[object, ...]:
    """Sort key of DESIGN §7 step 3 and 4; smaller is called first."""
    reason = reason_of(entry, now, rules)
    if reason in (Reason.APPOINTMENT_DUE, Reason.APPOINTMENT_EARLY):
        assert entry.slot_start is not None
        when = entry.slot_start
    else:
        when = entry.issued_at
    return (int(reason), when, number_key(entry.number), entry.ticket_id)


@lru_cache(maxsize=16384)
def number_key(number: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order of ticket numbers: `A99` < `A100`, `S3-07` < `S3-10`."""
    parts = re.findall(r"\d+|\D+", number)
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in parts)


def choose_next(
    candidates: Sequence[QueueEntry],
    desk_service_ids: Collection[str],
    now: datetime,
    rules: OrderingRules,
    *,
    desk_id: str | None = None,
) -> Choice | None:
    """The ticket this desk calls next, with the reason in German; None when nobody is eligible."""
    served = frozenset(desk_service_ids)
    best: QueueEntry | None = None
    best_key: tuple[object, ...] | None = None
    for entry in candidates:
        if not is_eligible(entry, served, now, rules, desk_id):
            continue
        key = order_key(entry, now, rules)
        if best_key is None or key < best_key:
            best, best_key = entry, key
    return None if best is None else choice_for(best, now, rules)


def choice_for(
    entry: QueueEntry, now: datetime, rules: OrderingRules, translate: Callable[[str], str] = _untranslated
) -> Choice:
    reason = reason_of(entry, now, rules)
    due = due_at(entry, rules)
    minutes_due = _whole_minutes(now - due)
    return Choice(
        ticket_id=entry.ticket_id,
        number=entry.number,
        reason=reason,
        due_at=due,
        slot_start=entry.slot_start,
        minutes_due=minutes_due,
        explanation=explain(reason, entry.slot_start, minutes_due, rules.zone, translate),
    )


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    return message


# German source strings; the workstation passes its `_` to `explain` (a library has no catalogue).
_URGENT = N_("Dringend, wartet seit {minutes} min")
_WALK_IN = N_("Ohne Termin, wartet seit {minutes} min")
_APPOINTMENT_DUE = N_("Termin {slot}, fällig seit {minutes} min")
_APPOINTMENT_LATER = N_("Termin {slot}, fällig in {minutes} min")


def explain(
    reason: Reason,
    slot_start: datetime | None,
    minutes_due: int,
    zone: tzinfo,
    translate: Callable[[str], str] = _untranslated,
) -> str:
    """The sentence the clerk sees next to the called ticket (German unless `translate` says else)."""
    if reason == Reason.URGENT:
        return translate(_URGENT).format(minutes=max(0, minutes_due))
    if reason == Reason.WALK_IN or slot_start is None:
        return translate(_WALK_IN).format(minutes=max(0, minutes_due))
    slot = _wall_clock(slot_start, zone)
    if reason == Reason.APPOINTMENT_DUE:
        return translate(_APPOINTMENT_DUE).format(slot=slot, minutes=minutes_due)
    return translate(_APPOINTMENT_LATER).format(slot=slot, minutes=-minutes_due)


def _whole_minutes(delta: timedelta) -> int:
    """Whole minutes, rounded towards minus infinity (so "due in 4 min 30 s" says 5)."""
    return int(delta.total_seconds() // 60)


@lru_cache(maxsize=4096)
def _wall_clock(moment: datetime, zone: tzinfo) -> str:
    return f"{moment.astimezone(zone):%H:%M}"
