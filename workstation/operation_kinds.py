"""The kinds of business operations the commands append to the outbox.

The same values as `sync.protocol.OperationKind`, without importing the protocol: that module builds
pydantic models (~100 ms and more on a loaded machine), which the clerk's start and key presses never
need. The push still travels as `sync.protocol.Operation`, the central service validates each
operation's arguments against the protocol, and the core tests validate every kind the commands
write. `tests/core/test_start_path.py` keeps both enumerations equal.
"""

from __future__ import annotations

from enum import StrEnum


class OperationKind(StrEnum):
    TICKET_CALL = "ticket.call"
    TICKET_SERVE = "ticket.serve"
    TICKET_NO_SHOW = "ticket.no_show"
    TICKET_PARK = "ticket.park"
    TICKET_RESUME = "ticket.resume"
    TICKET_TRANSFER = "ticket.transfer"
    CASE_FINISH = "case.finish"
    TICKET_ISSUE = "ticket.issue"
    CAPTURE_ATTACH = "capture.attach"
