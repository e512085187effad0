"""Modal dialogs of the counter: confirm, error, transfer target, outcomes at finish.

Dialogs only collect the clerk's choice and dismiss with it; the calling screen runs the command.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, SelectionList, Static

from forms.receipt import PaymentMethod
from screens.bindings import bindings_for
from screens.messages import TransferTargetsLoaded
from screens.textual_german import Choose
from workstation.actions import ScreenId
from workstation.i18n import _

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from textual.app import ComposeResult

    from forms.preview import PagePreview
    from screens.desk import DeskPort
    from workstation.documents import FinishInputs, FinishRequest


@dataclass(frozen=True)
class Choice:
    """One selectable entry: the domain id and what the clerk reads."""

    id: str
    label: str


def yes_key() -> str:
    """The key that says yes in the UI language: "j" in German, "y" in English (from the catalogue)."""
    return _("j")


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question for actions that skip the order or cost data; its keys stand on its buttons:
    Enter or j (y in English) confirms, Esc or n cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "cancel", _("Abbrechen"), id="dialog-cancel"),
    ]

    def __init__(self, question: str, confirm_label: str | None = None) -> None:
        super().__init__(classes="dialog")
        self._question = question
        self._confirm_label = confirm_label or _("Ja")

    def compose(self) -> ComposeResult:
        key = yes_key().upper()
        with Vertical(classes="dialog-body"):
            yield Static(self._question, id="question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    _("{label} (Enter/{key})").format(label=self._confirm_label, key=key),
                    variant="error",
                    id="confirm",
                )
                yield Button(_("Abbrechen (Esc/N)"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm", Button).focus()

    def on_key(self, event: events.Key) -> None:
        if event.key == yes_key():
            event.stop()
            self.action_confirm()

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
    target_label: str  # the services or the desk, as the clerk read them


class TransferDialog(ModalScreen[TransferChoice | None]):
    """Where the citizen goes next: which services, optionally to which desk (F7 again confirms).
    Loads the office's desks and services itself."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", _("Abbrechen"), id="dialog-cancel"),
        Binding("f7", "confirm", _("Weiterleiten"), id="dialog-transfer"),
    ]

    def __init__(self, desk: DeskPort, preselected: Sequence[str]) -> None:
        super().__init__(classes="dialog")
        self._desk = desk
        self._preselected = set(preselected)
        self._services: dict[str, str] = {}
        self._desks: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body"):
            yield Label(_("Weiterleiten"), classes="dialog-title")
            yield Label(_("Dienstleistungen"))
            yield SelectionList[str](id="services")
            yield Label(_("An Schalter (leer: jeder passende Schalter)"))
            yield Choose([], prompt=_("jeder Schalter"), id="desk")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Weiterleiten (F7)"), variant="primary", id="confirm", disabled=True)
                yield Button(_("Abbrechen"), id="cancel")

    def on_mount(self) -> None:
        self._desk.load(
            lambda counter: counter.transfer_targets(),
            TransferTargetsLoaded,
            reply_to=self,
            group="transfer-targets",
        )

    @on(TransferTargetsLoaded)
    def _targets_loaded(self, message: TransferTargetsLoaded) -> None:
        targets = message.targets
        self._services = {service.id: service.name for service in targets.services}
        self._desks = {desk.id: desk.name for desk in targets.desks}
        services = self.query_one("#services", SelectionList)
        services.add_options((s.name, s.id, s.id in self._preselected) for s in targets.services)
        if services.option_count:
            services.highlighted = 0
        self.query_one("#desk", Select).set_options((d.name, d.id) for d in targets.desks)
        self.query_one("#confirm", Button).disabled = False
        services.focus()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        if self.query_one("#confirm", Button).disabled:
            return  # the targets are still loading
        services = tuple(self.query_one("#services", SelectionList).selected)
        if not services:
            self.notify(_("Bitte mindestens eine Dienstleistung wählen."), severity="warning")
            return
        desk = self.query_one("#desk", Select).value
        desk_id = None if desk is Select.NULL else str(desk)
        label = self._desks[desk_id] if desk_id else ", ".join(self._services[s] for s in services)
        self.dismiss(TransferChoice(services, desk_id, label))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class FinishChoice:
    outcomes: dict[str, str]  # service id -> ServiceOutcome value
    notes: str
    payment: str = "ec"  # forms.receipt.PaymentMethod value
    address: str = ""  # Hauptwohnung for a Meldebescheinigung ("Straße Nr., PLZ Ort")
    status_check_number: str = ""  # of the new ID document, for the Abholschein


def finish_request(choice: FinishChoice) -> FinishRequest:
    """The finish the clerk chose, as the core takes it (the finish itself and its preview)."""
    from workstation.documents import FinishRequest  # the document stack: not on the start path

    return FinishRequest(
        choice.outcomes,
        choice.notes,
        PaymentMethod(choice.payment),
        choice.address,
        choice.status_check_number or None,
    )


@dataclass
class _FinishConcerns(Message):
    choice: FinishChoice
    concerns: list[str]


class FinishDialog(ModalScreen[FinishChoice | None]):
    """The outcome of every service of the visit, and the closing notes (F8 again confirms). Before
    it closes, what speaks against "erledigt" (unticked documents, no card read) is asked once."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", _("Abbrechen"), id="dialog-cancel"),
        Binding("f8", "confirm", _("Abschließen"), id="dialog-finish"),
        *bindings_for(ScreenId.FINISH),
    ]

    def __init__(
        self,
        desk: DeskPort,
        services: Sequence[Choice],
        outcomes: Sequence[Choice],
        default_outcome: str,
        notes: str,
        inputs: FinishInputs,
    ) -> None:
        super().__init__(classes="dialog")
        self._desk = desk
        self._services = services
        self._outcomes = outcomes
        self._default = default_outcome
        self._notes = notes
        self._inputs = inputs
        self._checking = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body wide"):
            yield Label(_("Vorgang abschließen"), classes="dialog-title")
            with VerticalScroll(id="outcomes"):
                for index, service in enumerate(self._services):
                    with Grid(classes="outcome-row"):
                        yield Label(service.label)
                        yield Choose(
                            ((o.label, o.id) for o in self._outcomes),
                            value=self._default,
                            allow_blank=False,
                            id=f"outcome-{index}",
                        )
            yield Label(_("Notiz"))
            yield Input(self._notes, id="notes")
            # The documents of the visit print in the same step: receipt (fees of the completed
            # services), Meldebescheinigung (needs the address), Abholschein (needs the number).
            yield Label(_("Zahlungsart"))
            yield Choose(
                [(_("EC-Karte (girocard)"), "ec"), (_("Barzahlung"), "cash")],
                value="ec",
                allow_blank=False,
                id="payment",
            )
            if self._inputs.address:
                yield Label(_("Anschrift für die Meldebescheinigung (Straße Nr., PLZ Ort)"))
                yield Input("", id="address")
            if self._inputs.document_number:
                yield Label(_("Seriennummer des neuen Ausweises (für den Abholschein)"))
                yield Input("", id="status-check-number")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Abschließen (F8)"), variant="success", id="confirm")
                yield Button(_("Vorschau (F3)"), id="preview")
                yield Button(_("Abbrechen"), id="cancel")

    def _choice(self) -> FinishChoice:
        outcomes = {
            service.id: str(self.query_one(f"#outcome-{index}", Select).value)
            for index, service in enumerate(self._services)
        }
        return FinishChoice(
            outcomes,
            self.query_one("#notes", Input).value,
            str(self.query_one("#payment", Select).value),
            self._typed("#address"),
            self._typed("#status-check-number"),
        )

    def _typed(self, selector: str) -> str:
        """An optional field's text; "" where these services do not ask for it."""
        fields = self.query(selector).results(Input)
        return next((field.value.strip() for field in fields), "")

    @on(Button.Pressed, "#preview")
    def action_preview(self) -> None:
        """What this finish will print, as chosen so far (nothing is finished by it)."""
        from screens.document_preview import DocumentPreview

        request, desk = finish_request(self._choice()), self._desk
        self.app.push_screen(DocumentPreview(_("Abschluss"), lambda: desk.preview_finish(request)))

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        if self._checking:
            return
        choice = self._choice()
        outcomes = choice.outcomes
        self._checking = True
        self._desk.load(
            lambda counter: counter.finish_concerns(outcomes),
            lambda concerns: _FinishConcerns(choice, concerns),
            reply_to=self,
            group="finish-concerns",
        )

    @on(_FinishConcerns)
    def _concerns_known(self, message: _FinishConcerns) -> None:
        self._checking = False
        if not message.concerns:
            self.dismiss(message.choice)
            return
        question = "\n".join(
            [_("Trotzdem als „erledigt“ abschließen?"), *(f"• {line}" for line in message.concerns)]
        )

        def decided(confirmed: bool | None) -> None:
            if confirmed:
                self.dismiss(message.choice)

        self.app.push_screen(ConfirmDialog(question, _("Trotzdem abschließen")), decided)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ReprintDialog(ModalScreen["list[str] | None"]):
    """Nachdruck: the kept documents of the open or last case; dismisses with the kinds chosen.
    F3 previews the highlighted one first (`DocumentPreview`), when `preview` is given."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", _("Abbrechen"), id="dialog-cancel"),
        *bindings_for(ScreenId.REPRINT),
    ]

    def __init__(self, kinds: Sequence[str], preview: Callable[[str], PagePreview] | None = None) -> None:
        super().__init__(classes="dialog")
        self._kinds = kinds
        self._preview = preview

    @staticmethod
    def labels() -> dict[str, str]:
        return {
            "quittung": _("Quittung"),
            "meldebescheinigung": _("Meldebescheinigung"),
            "abholschein": _("Abholschein"),
        }

    def compose(self) -> ComposeResult:
        labels = self.labels()
        with Vertical(classes="dialog-body"):
            yield Label(_("Nachdruck"), classes="dialog-title")
            yield SelectionList[str](
                *((labels.get(kind, kind), kind, True) for kind in self._kinds), id="kinds"
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Drucken"), variant="primary", id="confirm")
                if self._preview is not None:
                    yield Button(_("Vorschau (F3)"), id="preview")
                yield Button(_("Abbrechen"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#kinds", SelectionList).focus()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        self.dismiss(list(self.query_one("#kinds", SelectionList).selected))

    @on(Button.Pressed, "#preview")
    def action_preview(self) -> None:
        """The highlighted document (the first when none is highlighted) before it is printed."""
        from screens.document_preview import DocumentPreview

        preview = self._preview
        if preview is None or not self._kinds:
            return
        kinds = self.query_one("#kinds", SelectionList)
        index = kinds.highlighted if kinds.highlighted is not None else 0
        kind = str(kinds.get_option_at_index(index).value)
        label = self.labels().get(kind, kind)
        self.app.push_screen(DocumentPreview(label, lambda: [(label, preview(kind))]))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
