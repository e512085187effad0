"""One typed message per event that reaches a screen: the result of a clerk action, a read model
that arrived, a change behind the screen's back.

Command results carry the desk's current ticket afterwards (`current`), so the panel is right
without another query; each says in one line what happened (`confirmation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.captures import AttachResult, StoredCapture
    from workstation.card_reading import CardReading, CardReadOutcome
    from workstation.commands import (
        CallResult,
        CaseResult,
        FinishResult,
        IssueResult,
        TicketResult,
        TransferResult,
    )
    from workstation.queries import (
        CaseView,
        CounterView,
        CurrentTicket,
        QueueRow,
        SearchHit,
        TransferTargets,
    )


# --- results of clerk actions -----------------------------------------------------------------------


class CommandCompleted(Message):
    """Base of the messages a clerk action sends once it committed locally."""

    current: CurrentTicket | None

    @property
    def confirmation(self) -> str | None:
        """What happened, in one line for the clerk (None: the screen shows it otherwise)."""
        return None


@dataclass
class TicketCalled(CommandCompleted):
    """F2 or a chosen queue row; `result` None: nobody waits for this desk's services."""

    result: CallResult | None
    current: CurrentTicket | None

    @property
    def confirmation(self) -> str | None:
        if self.result is None:
            return _("Niemand wartet auf die Dienstleistungen dieses Schalters.")
        return _("{number} aufgerufen.").format(number=self.result.number)


@dataclass
class TicketRecalled(CommandCompleted):
    result: CallResult
    current: CurrentTicket | None

    @property
    def confirmation(self) -> str | None:
        return _("{number} erneut aufgerufen ({count}. Aufruf).").format(
            number=self.result.number, count=self.result.call_count
        )


@dataclass
class CitizenArrived(CommandCompleted):
    """The called citizen stands at the desk: the case is open."""

    result: CaseResult
    current: CurrentTicket | None

    @property
    def confirmation(self) -> str | None:
        return _("{number}: Vorgang geöffnet.").format(number=self.result.number)


@dataclass
class TicketResumed(CommandCompleted):
    result: CaseResult
    current: CurrentTicket | None

    @property
    def confirmation(self) -> str | None:
        return _("{number} fortgesetzt.").format(number=self.result.number)


@dataclass
class MarkedNoShow(CommandCompleted):
    result: TicketResult
    current: CurrentTicket | None

    @property
    def confirmation(self) -> str | None:
        return _("{number} als „nicht erschienen“ abgeschlossen.").format(number=self.result.number)


@dataclass
class TicketParked(CommandCompleted):
    result: TicketResult
    current: CurrentTicket | None

    @property
    def confirmation(self) -> str | None:
        return _("{number} geparkt: mit F9 oder Enter in der Warteschlange fortsetzen.").format(
            number=self.result.number
        )


@dataclass
class TicketTransferred(CommandCompleted):
    result: TransferResult
    current: CurrentTicket | None
    target: str  # what the clerk chose, as they read it

    @property
    def confirmation(self) -> str | None:
        return _("{number} weitergeleitet an {target}.").format(number=self.result.number, target=self.target)


@dataclass
class CaseFinished(CommandCompleted):
    result: FinishResult
    current: CurrentTicket | None

    @property
    def confirmation(self) -> str | None:
        return _("{number} abgeschlossen.").format(number=self.result.number)


@dataclass
class WalkInIssued(CommandCompleted):
    result: IssueResult
    current: CurrentTicket | None

    @property
    def confirmation(self) -> str | None:
        return _("Wartenummer {number} ausgegeben.").format(number=self.result.number)


@dataclass
class DocumentsChecked(CommandCompleted):
    """The ticks of one service's required documents are stored (the screen shows them already)."""

    result: None
    current: CurrentTicket | None


# --- read models ----------------------------------------------------------------------------------------


@dataclass
class CounterViewLoaded(Message):
    view: CounterView


@dataclass
class QueueLoaded(Message):
    rows: list[QueueRow]


@dataclass
class SearchResultsLoaded(Message):
    hits: list[SearchHit]


@dataclass
class TransferTargetsLoaded(Message):
    targets: TransferTargets


@dataclass
class CaseLoaded(Message):
    case: CaseView


@dataclass
class CardReadLoaded(Message):
    """The case's latest stored card read (None: not read yet)."""

    outcome: CardReadOutcome | None


@dataclass
class CardReadingReady(Message):
    """The desk's card-reading service is built (the card stack is loaded)."""

    reading: CardReading


@dataclass
class CaptureAttached(CommandCompleted):
    """The clerk accepted a fetched capture: stored encrypted with the case, photo document ticked."""

    result: AttachResult
    current: CurrentTicket | None

    @property
    def confirmation(self) -> str | None:
        return _("Aufnahme in den Vorgang übernommen.")


@dataclass
class CaptureLoaded(Message):
    """The case's attached capture (None: none attached, or captures not set up here)."""

    capture: StoredCapture | None


# --- changes behind the screen's back ----------------------------------------------------------------------


@dataclass
class StoreChanged(Message):
    """The local store changed behind the screen's back (a sync pulled new data)."""
