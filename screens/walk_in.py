"""Walk-in ticket at the desk (Strg+N): choose the services (and urgency), issue a number from the
desk's own range (`Counter.issue_walk_in`), show it for the clerk to tell or write down.

The dialog loads the office's services and issues the number through the app's workers; it
dismisses with the issued ticket (or None), so the counter can refresh its queue.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, SelectionList, Static

from screens.bindings import bindings_for
from screens.messages import TransferTargetsLoaded, WalkInIssued
from workstation.actions import ScreenId
from workstation.i18n import _

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.binding import BindingType

    from screens.desk import DeskPort
    from workstation.commands import IssueResult

URGENT_PRIORITY = 1  # "urgent" in the call-next rule (DESIGN §7); reception's marking


class WalkInScreen(ModalScreen["IssueResult | None"]):
    """Dismisses with the `IssueResult` of the number issued, or None when nothing was issued."""

    CSS_PATH = Path(__file__).with_suffix(".tcss")
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(ScreenId.WALK_IN)

    def __init__(self, desk: DeskPort) -> None:
        super().__init__(classes="dialog")
        self.desk = desk
        self.issued: IssueResult | None = None
        self._services_ready = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body", id="walk-in-body"):
            yield Label(_("Wartenummer ausgeben"), classes="dialog-title")
            yield Label(_("Dienstleistungen"))
            yield SelectionList[str](id="walk-in-services")
            yield Checkbox(_("Dringend (wird vor allen anderen aufgerufen)"), id="walk-in-urgent")
            yield Static("", id="walk-in-issued", classes="hidden")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Ausgeben (Strg+N)"), variant="primary", id="issue")
                yield Button(_("Schließen"), id="close")

    def on_mount(self) -> None:
        self.query_one("#issue", Button).disabled = True  # until the services are there
        self.desk.load(
            lambda counter: counter.transfer_targets(),
            TransferTargetsLoaded,
            reply_to=self,
            group="walk-in-services",
        )
        self.query_one("#walk-in-services").focus()

    @on(TransferTargetsLoaded)
    def _services_loaded(self, message: TransferTargetsLoaded) -> None:
        services = self.query_one("#walk-in-services", SelectionList)
        services.clear_options()
        services.add_options((service.name, service.id) for service in message.targets.services)
        if services.option_count:
            services.highlighted = 0  # arrows and space work at once
        self._services_ready = True
        self.query_one("#issue", Button).disabled = False

    @on(Button.Pressed, "#issue")
    def action_issue(self) -> None:
        button = self.query_one("#issue", Button)
        if button.disabled:
            return  # still loading, or a number is being issued: never two for one key press
        service_ids = list(self.query_one("#walk-in-services", SelectionList).selected)
        if not service_ids:
            self.notify(_("Bitte mindestens eine Dienstleistung wählen."), severity="warning")
            return
        priority = URGENT_PRIORITY if self.query_one("#walk-in-urgent", Checkbox).value else 0
        button.disabled = True
        self.desk.run_command(
            lambda counter: counter.issue_walk_in(service_ids, priority), WalkInIssued, reply_to=self
        )

    def on_screen_resume(self) -> None:
        # A refusal is shown as a dialog above this one; back here, the clerk may try again.
        if self._services_ready:
            self.query_one("#issue", Button).disabled = False

    @on(WalkInIssued)
    def _issued(self, message: WalkInIssued) -> None:
        self.issued = message.result
        self.desk.print_ticket_slip(message.result)  # thermal slip, in a worker
        shown = self.query_one("#walk-in-issued", Static)
        shown.update(_("Wartenummer {number} ausgegeben.").format(number=message.result.number))
        shown.remove_class("hidden")
        self.query_one("#walk-in-services", SelectionList).deselect_all()
        self.query_one("#walk-in-urgent", Checkbox).value = False
        self.query_one("#issue", Button).disabled = False
        self.query_one("#close", Button).focus()

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(self.issued)
