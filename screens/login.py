"""Login: which clerk works at which desk. Dismisses with (clerk_id, desk_id)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Label, Select

from screens.textual_german import Choose
from workstation.i18n import _

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from workstation.login import LoginChoices


class LoginScreen(Screen[tuple[str, str] | None]):
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
            yield Button(_("Anmelden"), variant="primary", id="login-button")
        yield Footer()

    def on_mount(self) -> None:
        if not self._choices.clerks or not self._choices.desks:
            self.notify(
                _("Noch keine Stammdaten vorhanden: bitte mit der Zentrale verbinden."), severity="error"
            )

    @on(Button.Pressed, "#login-button")
    def _login(self) -> None:
        clerk = self.query_one("#clerk", Select).value
        desk = self.query_one("#desk", Select).value
        if clerk is Select.NULL or desk is Select.NULL:
            self.notify(_("Bitte Sachbearbeiter/in und Schalter wählen."), severity="warning")
            return
        self.dismiss((str(clerk), str(desk)))

    def action_leave(self) -> None:
        self.dismiss(None)
