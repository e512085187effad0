"""Errors the clerk can act on: each carries one German sentence (`user_message`) for the screen.

The `str()` of an error is for the log and never holds personal data.
"""

from __future__ import annotations


class TresenError(Exception):
    """Base of the errors that end as a German message on screen instead of a traceback."""

    def __init__(self, user_message: str, log_message: str | None = None) -> None:
        super().__init__(log_message or user_message)
        self.user_message = user_message


class CommandRefused(TresenError):
    """A clerk action that the current state does not allow (nothing was changed)."""


class LocalStoreError(TresenError):
    """The local database cannot be opened, read or written (corrupt file, full disk, locked)."""


class CentralUnavailable(TresenError):
    """The central service cannot answer now; the caller falls back to local work.

    `lost_call_id`: a call-next was sent under this id and its answer did not come back, so the
    central service may have made that call; the local call that replaces it names it."""

    def __init__(self, message: str, *, lost_call_id: str | None = None) -> None:
        super().__init__(message)
        self.lost_call_id = lost_call_id
