"""Modal dialogs of the counter: confirm, error, transfer target, outcomes at finish.

Dialogs only collect the clerk's choice and dismiss with it; the calling screen runs the command.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, SelectionList, Static

from workstation.i18n import _


@dataclass(frozen=True)
class Choice:
    """One selectable entry: the domain id and what the clerk reads."""

    id: str
    label: str


class ConfirmDialog(ModalScreen[bool]):
    """Yes/no question for actions where a slip costs data (e.g. no-show)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", _("Abbrechen"), id="dialog-cancel"),
        Binding("j", "confirm", _("Ja"), show=False),
        Binding("n", "cancel", _("Nein"), show=False),
    ]

    def __init__(self, question: str, confirm_label: str | None = None) -> None:
        super().__init__(classes="dialog")
        self._question = question
        self._confirm_label = confirm_label or _("Ja")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body"):
            yield Static(self._question, id="question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._confirm_label, variant="error", id="confirm")
                yield Button(_("Abbrechen"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()  # the safe choice is the default

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


class MessageDialog(ModalScreen[None]):
    """A German message the clerk can act on (errors, refusals); never a traceback."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "close", _("Schließen"), id="dialog-close")
    ]

    def __init__(self, title: str, message: str) -> None:
        super().__init__(classes="dialog")
        self._title = title
        self._message = message

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body error"):
            yield Label(self._title, classes="dialog-title")
            yield Static(self._message, id="message")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("OK"), variant="primary", id="close")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class TransferChoice:
    service_ids: tuple[str, ...]
    target_desk_id: str | None


class TransferDialog(ModalScreen[TransferChoice | None]):
    """Where the citizen goes next: which services, optionally to which desk (F7 again confirms)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", _("Abbrechen"), id="dialog-cancel"),
        Binding("f7", "confirm", _("Weiterleiten"), id="dialog-transfer"),
    ]

    def __init__(
        self, desks: Sequence[Choice], services: Sequence[Choice], preselected: Sequence[str]
    ) -> None:
        super().__init__(classes="dialog")
        self._desks = desks
        self._services = services
        self._preselected = set(preselected)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body"):
            yield Label(_("Weiterleiten"), classes="dialog-title")
            yield Label(_("Dienstleistungen"))
            yield SelectionList[str](
                *((s.label, s.id, s.id in self._preselected) for s in self._services), id="services"
            )
            yield Label(_("An Schalter (leer: jeder passende Schalter)"))
            yield Select[str](((d.label, d.id) for d in self._desks), prompt=_("jeder Schalter"), id="desk")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Weiterleiten (F7)"), variant="primary", id="confirm")
                yield Button(_("Abbrechen"), id="cancel")

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        services = tuple(self.query_one("#services", SelectionList).selected)
        if not services:
            self.notify(_("Bitte mindestens eine Dienstleistung wählen."), severity="warning")
            return
        desk = self.query_one("#desk", Select).value
        self.dismiss(TransferChoice(services, None if desk is Select.NULL else str(desk)))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class FinishChoice:
    outcomes: dict[str, str]  # service id -> ServiceOutcome value
    notes: str


class FinishDialog(ModalScreen[FinishChoice | None]):
    """The outcome of every service of the visit, and the closing notes (F8 again confirms)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", _("Abbrechen"), id="dialog-cancel"),
        Binding("f8", "confirm", _("Abschließen"), id="dialog-finish"),
    ]

    def __init__(
        self, services: Sequence[Choice], outcomes: Sequence[Choice], default_outcome: str, notes: str
    ) -> None:
        super().__init__(classes="dialog")
        self._services = services
        self._outcomes = outcomes
        self._default = default_outcome
        self._notes = notes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body wide"):
            yield Label(_("Vorgang abschließen"), classes="dialog-title")
            with VerticalScroll(id="outcomes"):
                for index, service in enumerate(self._services):
                    with Grid(classes="outcome-row"):
                        yield Label(service.label)
                        yield Select[str](
                            ((o.label, o.id) for o in self._outcomes),
                            value=self._default,
                            allow_blank=False,
                            id=f"outcome-{index}",
                        )
            yield Label(_("Notiz"))
            yield Input(self._notes, id="notes")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Abschließen (F8)"), variant="success", id="confirm")
                yield Button(_("Abbrechen"), id="cancel")

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        outcomes = {
            service.id: str(self.query_one(f"#outcome-{index}", Select).value)
            for index, service in enumerate(self._services)
        }
        self.dismiss(FinishChoice(outcomes, self.query_one("#notes", Input).value))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
