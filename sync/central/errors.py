"""Refusals of the central service: each becomes a 4xx answer with its reason (English, for logs)."""

from __future__ import annotations


class CentralRefusal(Exception):
    """A request that is well-formed but cannot be done (unknown office, cancelled appointment, …)."""

    status_code = 409

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotFound(CentralRefusal):
    status_code = 404


class InvalidReference(CentralRefusal):
    """The request names something that does not exist in that office (a service, a desk)."""

    status_code = 422


class OperationRejected(Exception):
    """A pushed operation the central state does not allow; stored as `rejected`, never retried."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SequenceGapError(Exception):
    """A push that skips sequence numbers: nothing is applied, the client resends from `expected_seq`."""

    def __init__(self, expected_seq: int, got_seq: int) -> None:
        super().__init__(f"operations out of order: expected seq {expected_seq}, got {got_seq}")
        self.expected_seq = expected_seq


class TooManyRejections(CentralRefusal):
    """A workstation whose refused operations nobody has reviewed piles up more (429): its pushes
    wait, kept in its outbox, until a supervisor deals with them (`sync.central.conflicts`)."""

    status_code = 429


class Unauthenticated(CentralRefusal):
    """No credentials, or credentials that do not verify (401)."""

    status_code = 401


class Forbidden(CentralRefusal):
    """Authenticated, but not allowed this (another office, another workstation, a missing role)."""

    status_code = 403


class Locked(CentralRefusal):
    """A clerk locked out after repeated wrong PINs (423)."""

    status_code = 423
