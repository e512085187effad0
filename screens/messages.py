"""Messages the app's workers send back to the screens (results of commands and queries)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class CommandDone(Message):
    """A clerk action committed locally; `current` is the desk's current ticket afterwards."""

    action: str  # binding id of the action, e.g. "call-next"
    result: Any
    current: Any


@dataclass
class Loaded(Message):
    """A read model arrived; `what` names it (e.g. "queue", "appointments", "case", "search")."""

    what: str
    data: Any


@dataclass
class StoreChanged(Message):
    """The local store changed behind the screen's back (a sync pulled new data)."""
