"""The case screen (F5): citizen and appointment data, services with their required-documents
checklist, notes; F8 finishes with an outcome per service.

F9 opens "Ausweis lesen" (`screens.card_read`); the case's latest card read (names against the
appointment, authenticity verdict, expiry warning) stays visible here after the dialog closes.

Reading citizen data is audited by the domain (`Counter.case`); this screen only shows it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Label, Static, TextArea

from screens.messages import CommandDone, Loaded
from screens.widgets.format import clock, outcome_labels, state_label
from screens.widgets.status_bar import SyncStatusBar
from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.app import TresenApp
    from workstation.card_reading import CardReadOutcome


class CaseScreen(Screen[None]):
    CSS_PATH = Path(__file__).with_suffix(".tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", _("Zurück"), id="case-back"),
        Binding("f6", "park", _("Parken"), id="case-park"),
        Binding("f7", "transfer", _("Weiterleiten"), id="case-transfer"),
        Binding("f8", "finish", _("Abschließen"), id="case-finish"),
        Binding("f9", "read_card", _("Ausweis lesen"), id="case-card-read"),
    ]

    app: TresenApp  # type: ignore[assignment]

    def __init__(self, case_id: str) -> None:
        super().__init__(id="case")
        self.case_id = case_id
        self.case: Any = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="case-body"):
            yield Static(id="case-citizen")
            yield Static(_("Ausweis: noch nicht gelesen (F9)"), id="case-card")
            yield Label(_("Dienstleistungen und Unterlagen"), classes="section-title")
            yield Vertical(id="case-services")
            yield Label(_("Notiz"), classes="section-title")
            yield TextArea(id="case-notes")
        yield SyncStatusBar(self.app.place_label)
        yield Footer()

    def on_mount(self) -> None:
        self.app.fetch("case", lambda counter, now: counter.case(self.case_id), reply_to=self)
        self._load_card_read()

    def _load_card_read(self) -> None:
        """The case's latest stored card read, from the worker like every other read model."""
        app, case_id = self.app, self.case_id

        def latest(counter: Any, now: Any) -> CardReadOutcome | None:
            # The card stack (pyscard, cryptography) is imported here, off the UI thread, so F5
            # does not wait for it.
            from screens.card_read import card_reading_of

            return card_reading_of(app).latest(case_id)

        self.app.fetch("card-read", latest, reply_to=self)

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.what == "card-read":
            self._show_card_read(message.data)
            return
        if message.what != "case":
            return
        self.case = case = message.data
        self.query_one("#case-citizen", Static).update(self._citizen_table(case))
        services = self.query_one("#case-services", Vertical)
        services.remove_children()
        widgets: list[Static | Checkbox] = []
        for index, service in enumerate(case.services):
            title = Text.assemble((service.name, "bold"), "  ", _fee(service.fee_cents))
            if service.outcome:
                title.append("  " + outcome_labels().get(service.outcome, service.outcome), style="italic")
            widgets.append(Static(title, classes="service-title"))
            for doc_index, document in enumerate(service.required_documents):
                widgets.append(
                    Checkbox(
                        document,
                        value=document in service.documents_checked,
                        id=f"doc-{index}-{doc_index}",
                        classes="document",
                    )
                )
        services.mount_all(widgets)
        notes = self.query_one("#case-notes", TextArea)
        if not notes.text:
            notes.text = case.notes or ""

    def _citizen_table(self, case: Any) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim")
        table.add_column()
        table.add_row(_("Wartenummer"), Text(case.number, style="bold"))
        table.add_row(_("Status"), state_label(case.state))
        if case.citizen_name:
            table.add_row(_("Name"), case.citizen_name)
        if case.birth_date:
            table.add_row(_("Geburtsdatum"), case.birth_date.strftime("%d.%m.%Y"))
        if case.booking_reference:
            table.add_row(_("Vorgangsnummer"), case.booking_reference)
        if case.slot_start:
            table.add_row(_("Termin"), clock(case.slot_start))
        table.add_row(_("Vorgang seit"), clock(case.opened_at))
        return table

    def _show_card_read(self, outcome: CardReadOutcome | None) -> None:
        widget = self.query_one("#case-card", Static)
        for status in ("verified", "not-verified", "failed"):
            widget.remove_class(f"verdict-{status}")
        widget.set_class(outcome is not None and outcome.names.mismatch, "mismatch")
        if outcome is None:
            widget.update(_("Ausweis: noch nicht gelesen (F9)"))
            return
        widget.add_class(f"verdict-{outcome.verdict.status.value.lower().replace('_', '-')}")
        lines = [
            Text.assemble(
                (_("Ausweis gelesen {time}: ").format(time=clock(outcome.read_at)), "bold"),
                (outcome.verdict.headline, "bold"),
            ),
            Text(outcome.names.message),
        ]
        if outcome.expiry is not None:
            lines.append(Text(outcome.expiry.message, style="bold"))
        elif outcome.chip.expiry_date is not None:
            valid_until = outcome.chip.expiry_date.strftime("%d.%m.%Y")
            lines.append(Text(_("Gültig bis {date}").format(date=valid_until)))
        widget.update(Text("\n").join(lines))

    def checked_documents(self) -> dict[str, list[str]]:
        """Service id -> documents ticked on screen."""
        checked: dict[str, list[str]] = {}
        for index, service in enumerate(self.case.services if self.case else []):
            checked[service.service_id] = [
                document
                for doc_index, document in enumerate(service.required_documents)
                if self.query_one(f"#doc-{index}-{doc_index}", Checkbox).value
            ]
        return checked

    @property
    def notes(self) -> str:
        return self.query_one("#case-notes", TextArea).text

    def action_back(self) -> None:
        self.dismiss(None)

    def action_read_card(self) -> None:
        from screens.card_read import open_card_read

        open_card_read(self.app, self.case_id, on_close=lambda _outcome: self._load_card_read())

    def action_park(self) -> None:
        self.app.run_command("park", lambda counter: counter.park(), reply_to=self)

    def action_transfer(self) -> None:
        self.dismiss(None)
        self.app.call_after_refresh(self.app.screen.run_action, "transfer")

    def action_finish(self) -> None:
        from screens.counter import CounterScreen

        if self.case is None:
            return
        counter_screen = next(s for s in self.app.screen_stack if isinstance(s, CounterScreen))
        services = [_ServiceRef(s.service_id, s.name) for s in self.case.services]
        counter_screen.ask_finish(services, self.notes, reply_to=self)

    @on(Checkbox.Changed, ".document")
    def _document_checked(self, event: Checkbox.Changed) -> None:
        checked = self.checked_documents()
        service_id = self._service_of_checkbox(event.checkbox)
        documents = checked.get(service_id, [])
        self.app.run_command(
            "check-documents",
            lambda counter: counter.check_documents(self.case_id, service_id, documents),
            reply_to=self,
        )

    def _service_of_checkbox(self, checkbox: Checkbox) -> str:
        index = int(str(checkbox.id).split("-")[1])
        return str(self.case.services[index].service_id)

    @on(CommandDone)
    def _done(self, message: CommandDone) -> None:
        from screens.counter import CounterScreen

        if message.action == "check-documents":
            return  # stored; the screen already shows the tick
        # Park and finish end the visit at the desk: back to the counter, which shows the result.
        for screen in self.app.screen_stack:
            if isinstance(screen, CounterScreen):
                screen.post_message(message)
        self.dismiss(None)


class _ServiceRef:
    def __init__(self, service_id: str, name: str) -> None:
        self.id = service_id
        self.name = name


def _fee(fee_cents: int) -> str:
    if not fee_cents:
        return _("gebührenfrei")
    return f"{fee_cents / 100:.2f} €".replace(".", ",")
