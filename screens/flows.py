"""Clerk flows that more than one screen starts (the counter and the case screen): ask, then run
the command. The result goes back to the screen that started the flow, as a typed message."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from screens.dialogs import (
    Choice,
    FinishChoice,
    FinishDialog,
    TransferChoice,
    TransferDialog,
    finish_request,
)
from screens.messages import TicketTransferred
from screens.widgets.format import outcome_labels

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from textual.screen import Screen

    from screens.desk import DeskPort
    from workstation.commands import TransferResult
    from workstation.queries import CurrentTicket


def ask_finish(
    screen: Screen[Any], desk: DeskPort, services: Sequence[Choice], notes: str, codes: Iterable[str]
) -> None:
    """The outcome per service (and what speaks against "erledigt", asked once), then finish; the
    address and the document number only where the services' documents need them (`codes`)."""
    from workstation.documents import finish_inputs

    def decided(choice: FinishChoice | None) -> None:
        if choice is not None:
            desk.finish_visit(finish_request(choice), reply_to=screen)

    outcomes = [Choice(value, label) for value, label in outcome_labels().items()]
    screen.app.push_screen(
        FinishDialog(desk, services, outcomes, "completed", notes, finish_inputs(codes)), decided
    )


def ask_transfer(screen: Screen[Any], desk: DeskPort, preselected: Sequence[str]) -> None:
    """Which services and (optionally) which desk, then transfer; the ticket keeps number and time."""

    def decided(choice: TransferChoice | None) -> None:
        if choice is None:
            return

        def transferred(result: TransferResult, current: CurrentTicket | None) -> TicketTransferred:
            return TicketTransferred(result, current, choice.target_label)

        desk.run_command(
            lambda counter: counter.transfer(list(choice.service_ids), choice.target_desk_id),
            transferred,
            reply_to=screen,
        )

    screen.app.push_screen(TransferDialog(desk, preselected), decided)
