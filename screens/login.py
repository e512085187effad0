"""Login: which clerk works at which desk, with the clerk's PIN. Dismisses with (clerk_id, desk_id, pin)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select

from screens.textual_german import Choose
from workstation.i18n import _

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from workstation.login import LoginChoices


class LoginScreen(Screen[tuple[str, str, str] | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", _("Beenden"), id="login-quit"),
    ]

    def __init__(self, choices: LoginChoices) -> None:
        super().__init__(id="login")
        self._choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="login-form"):
            yield Label(_("Tresen – Anmeldung"), classes="dialog-title")
            yield Label(_("Sachbearbeiter/in"))
            yield Choose(
                ((name, id_) for id_, name in self._choices.clerks), id="clerk", prompt=_("bitte wählen")
            )
            yield Label(_("Schalter"))
            yield Choose(
                ((name, id_) for id_, name in self._choices.desks), id="desk", prompt=_("bitte wählen")
            )
            if self._choices.needs_pin:
                yield Label(_("PIN"))
                yield Input(password=True, id="pin", max_length=128)
                if self._choices.pin_hint:
                    yield Label(self._choices.pin_hint, id="pin-hint")
            yield Button(_("Anmelden"), variant="primary", id="login-button")
        yield Footer()

    def on_mount(self) -> None:
        if not self._choices.clerks or not self._choices.desks:
            self.notify(
                _("Noch keine Stammdaten vorhanden: bitte mit der Zentrale verbinden."), severity="error"
            )

    @on(Button.Pressed, "#login-button")
    @on(Input.Submitted, "#pin")
    def _login(self) -> None:
        clerk = self.query_one("#clerk", Select).value
        desk = self.query_one("#desk", Select).value
        if clerk is Select.NULL or desk is Select.NULL:
            self.notify(_("Bitte Sachbearbeiter/in und Schalter wählen."), severity="warning")
            return
        pin = ""
        if self._choices.needs_pin:
            pin_input = self.query_one("#pin", Input)
            pin, pin_input.value = pin_input.value, ""  # never kept on screen after the attempt
            if not pin:
                self.notify(_("Bitte die PIN eingeben."), severity="warning")
                return
        self.dismiss((str(clerk), str(desk), pin))

    def action_leave(self) -> None:
        self.dismiss(None)
