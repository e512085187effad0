"""The call-next ordering rule, as the workstation uses it.

The rule lives in `sync.ordering` (standard library only) because the central service arbitrates with
the very same function and libraries may not import upward; this module is the workstation's name
for it.
"""

from __future__ import annotations

from sync.ordering import (
    OFFICE_ZONE,
    Choice,
    OrderingRules,
    QueueEntry,
    Reason,
    choice_for,
    choose_next,
    due_at,
    explain,
    is_eligible,
    number_key,
    order_key,
    reason_of,
)

__all__ = [
    "OFFICE_ZONE",
    "Choice",
    "OrderingRules",
    "QueueEntry",
    "Reason",
    "choice_for",
    "choose_next",
    "due_at",
    "explain",
    "is_eligible",
    "number_key",
    "order_key",
    "reason_of",
]
