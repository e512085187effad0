"""How long a citizen will wait, and how many are ahead: one rule for the waiting-room display, the
status page behind the ticket's QR code, and any workstation that wants to show the same figure.

Pure functions over plain values, standard library only (like `sync.ordering`).

The estimate is honest rather than precise: a range "x–y Minuten", rounded to five minutes, widening
with the queue, or "unknown" when nobody serves the group (no desk has called lately) or there is no
duration to go by. It never promises less than the queue needs: people ahead × minutes per ticket ÷
desks serving, give or take a quarter.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sync.ordering import order_key

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from sync.ordering import OrderingRules, QueueEntry

__all__ = [
    "ROUNDING_MINUTES",
    "SPREAD",
    "UNKNOWN",
    "WaitEstimate",
    "estimate_wait",
    "people_ahead",
    "people_ahead_all",
]

ROUNDING_MINUTES = 5
SPREAD = 0.25  # the range is the expected wait ± this share of it


@dataclass(frozen=True)
class WaitEstimate:
    """A range of whole minutes, or unknown (`low` and `high` None)."""

    low: int | None
    high: int | None

    @property
    def known(self) -> bool:
        return self.low is not None and self.high is not None


UNKNOWN = WaitEstimate(None, None)


def estimate_wait(people_ahead: int, serving_desks: int, minutes_per_ticket: float | None) -> WaitEstimate:
    """The wait of someone with `people_ahead` before them, while `serving_desks` desks each take about
    `minutes_per_ticket` per citizen. Unknown without a desk or a duration."""
    if people_ahead < 0:
        raise ValueError("people_ahead must not be negative")
    if serving_desks <= 0 or minutes_per_ticket is None or not minutes_per_ticket > 0:
        return UNKNOWN
    if not math.isfinite(minutes_per_ticket):
        return UNKNOWN
    expected = people_ahead * minutes_per_ticket / serving_desks
    low = _round_down(expected * (1 - SPREAD))
    high = max(_round_up(expected * (1 + SPREAD)), low + ROUNDING_MINUTES)
    return WaitEstimate(low, high)


def people_ahead(ticket: QueueEntry, queue: Iterable[QueueEntry], now: datetime, rules: OrderingRules) -> int:
    """Waiting tickets that share a service with `ticket` and come before it in the call-next order.

    An upper bound in spirit: a desk may pick someone else first (a ticket it serves and this one's
    desk does not), so numbers are not always called in order; the status page says so."""
    mine = order_key(ticket, now, rules)
    return sum(
        1
        for other in queue
        if other.ticket_id != ticket.ticket_id
        and other.service_ids & ticket.service_ids
        and order_key(other, now, rules) < mine
    )


def _round_down(minutes: float) -> int:
    return math.floor(minutes / ROUNDING_MINUTES) * ROUNDING_MINUTES


def _round_up(minutes: float) -> int:
    return math.ceil(minutes / ROUNDING_MINUTES) * ROUNDING_MINUTES


def people_ahead_all(queue: Iterable[QueueEntry], now: datetime, rules: OrderingRules) -> dict[str, int]:
    """`people_ahead` for every ticket of the queue at once: what a board of hundreds of status pages
    needs per change. Sorted once; earlier tickets are counted per distinct service set (a handful),
    so 2,000 waiting cost 2,000 × sets, not 2,000²."""
    ordered = sorted(queue, key=lambda entry: order_key(entry, now, rules))
    earlier: Counter[frozenset[str]] = Counter()
    ahead: dict[str, int] = {}
    for entry in ordered:
        ahead[entry.ticket_id] = sum(
            count for service_ids, count in earlier.items() if service_ids & entry.service_ids
        )
        earlier[entry.service_ids] += 1
    return ahead
