"""What the screens may ask of the App for the logged-in desk: a small typed interface.

Screens get it in their constructor and never reach into the App (or search the screen stack) for
anything else. Every call returns at once: the work runs in a worker and its result comes back to
`reply_to` as the typed message that `done`/`loaded` makes of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from textual.message import Message
    from textual.message_pump import MessagePump

    from forms.preview import PagePreview
    from screens.messages import CommandCompleted
    from screens.widgets.status_bar import SyncStatusLine
    from workstation.captures import CaptureDesk
    from workstation.card_reading import CardReading
    from workstation.commands import IssueResult
    from workstation.counter import Counter
    from workstation.documents import FinishRequest
    from workstation.queries import CurrentTicket

Result = TypeVar("Result")


class DeskPort(Protocol):
    @property
    def place_label(self) -> str:
        """Desk and clerk, as the status bar shows them."""
        ...

    @property
    def sync_line(self) -> SyncStatusLine | None:
        """The last sync status, for status bars mounted after it arrived."""
        ...

    def now(self) -> datetime: ...

    def run_command(
        self,
        command: Callable[[Counter], Result],
        done: Callable[[Result, CurrentTicket | None], CommandCompleted],
        reply_to: MessagePump,
    ) -> None:
        """Run one clerk action after every action submitted before it (key-press order)."""
        ...

    def load(
        self,
        query: Callable[[Counter], Result],
        loaded: Callable[[Result], Message],
        reply_to: MessagePump,
        *,
        group: str,
    ) -> None:
        """Load a read model; a newer load of the same group supersedes an older one."""
        ...

    def finish_visit(self, request: FinishRequest, reply_to: MessagePump) -> None:
        """Finish the open case (a command, `CaseFinished` to `reply_to`), then print its documents
        in a worker; what did not print is said in German and kept for a reprint."""
        ...

    def preview_finish(self, request: FinishRequest) -> list[tuple[str, PagePreview]]:
        """The first pages of the documents this finish would print, each with its German name;
        nothing is finished. Blocking: call from a thread worker. CommandRefused as the finish."""
        ...

    def print_ticket_slip(self, issued: IssueResult) -> None:
        """Print the Wartenummer slip of a walk-in on the thermal printer (in a worker)."""
        ...

    def offer_reprint(self) -> None:
        """List the kept documents of the open or last case and print the chosen ones again."""
        ...

    def card_reading(self) -> CardReading:
        """The desk's card-reading service (builds it on first use; call it off the UI thread)."""
        ...

    def captures(self) -> CaptureDesk:
        """The desk's capture service (builds it on first use; call it off the UI thread).
        `CaptureRefused` (German) when a configured certificate cannot be read."""
        ...

    def open_case(self, case_id: str | None) -> None:
        """Show the case screen of `case_id` above the current screen (None: says there is none)."""
        ...

    def started(self) -> None:
        """The first screen shows the day: start-up work that waited for it may run now."""
        ...
