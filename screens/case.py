"""The case screen (F5): citizen and appointment data, services with their required-documents
checklist, notes; F8 finishes with an outcome per service.

F9 opens "Ausweis lesen" (`screens.card_read`); the case's latest card read (names against the
appointment, authenticity verdict, expiry warning) stays visible here after the dialog closes.
Strg+B opens "Aufnahme holen" (`screens.capture_fetch`): the capture from the terminal or a
photographer's cloud, checked, beside the chip's photo; the attached capture's checks stay here.

Reading citizen data is audited by the domain (`Counter.case`); this screen only shows it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Label, Static, TextArea

from screens.bindings import bindings_for
from screens.dialogs import Choice
from screens.flows import ask_finish, ask_transfer
from screens.messages import (
    CaptureLoaded,
    CardReadingReady,
    CardReadLoaded,
    CaseFinished,
    CaseLoaded,
    CommandCompleted,
    DocumentsChecked,
    TicketParked,
    TicketTransferred,
)
from screens.widgets.document_checkbox import DocumentCheckbox
from screens.widgets.format import clock, outcome_labels, state_label
from screens.widgets.key_bar import KeyBar, NarrowLayout
from screens.widgets.status_bar import SyncStatusBar
from workstation.actions import ScreenId
from workstation.captures import PHOTO_DOCUMENT_PREFIX
from workstation.i18n import _, format_date

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.binding import BindingType

    from screens.desk import DeskPort
    from workstation.captures import AttachResult, StoredCapture
    from workstation.card_reading import CardReadOutcome
    from workstation.queries import CaseView


class CaseScreen(NarrowLayout, Screen[None]):
    CSS_PATH = Path(__file__).with_suffix(".tcss")
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(ScreenId.CASE)

    def __init__(self, desk: DeskPort, case_id: str) -> None:
        super().__init__(id="case")
        self.desk = desk
        self.case_id = case_id
        self.case: CaseView | None = None
        self.card_read: CardReadOutcome | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="case-body"):
            yield Static(id="case-citizen")
            yield Static(_("Ausweis: noch nicht gelesen (F9)"), id="case-card")
            yield Static(_("Aufnahme: noch keine (Strg+B)"), id="case-capture")
            yield Label(_("Dienstleistungen und Unterlagen"), classes="section-title")
            yield Vertical(id="case-services")
            yield Label(_("Notiz"), classes="section-title")
            yield TextArea(id="case-notes")
        yield SyncStatusBar(self.desk.place_label, self.desk.sync_line)
        yield KeyBar()
        yield Footer(compact=True)

    def on_mount(self) -> None:
        case_id = self.case_id
        self.desk.load(lambda counter: counter.case(case_id), CaseLoaded, reply_to=self, group="case")
        self._load_card_read()
        self._load_capture()

    def _load_capture(self) -> None:
        """The case's attached capture (metadata and checks only); none where captures are not set up."""
        desk, case_id = self.desk, self.case_id

        def latest(_counter: object) -> StoredCapture | None:
            from workstation.errors import TresenError

            try:
                return desk.captures().latest(case_id)
            except TresenError:  # not set up, or its certificate unreadable: said when the clerk asks
                return None

        self.desk.load(latest, CaptureLoaded, reply_to=self, group="capture")

    @on(CaptureLoaded)
    def _capture_loaded(self, message: CaptureLoaded) -> None:
        widget = self.query_one("#case-capture", Static)
        capture = message.capture
        if capture is None:
            widget.update(_("Aufnahme: noch keine (Strg+B)"))
            return
        source = _("Aufnahmegerät") if capture.source == "terminal" else _("Fotodienst")
        heading = _("Aufnahme übernommen {time} ({source})").format(
            time=clock(capture.attached_at), source=source
        )
        lines = [Text(heading, style="bold"), *(Text(line.text) for line in capture.checks)]
        widget.update(Text("\n").join(lines))

    def _load_card_read(self) -> None:
        """The case's latest stored card read; the card stack (pyscard, cryptography) is imported in
        the worker, off the UI thread, so F5 does not wait for it."""
        desk, case_id = self.desk, self.case_id
        self.desk.load(
            lambda _counter: desk.card_reading().latest(case_id),
            CardReadLoaded,
            reply_to=self,
            group="card-read",
        )

    @on(CardReadLoaded)
    def _card_read_loaded(self, message: CardReadLoaded) -> None:
        self.card_read = message.outcome
        self._show_card_read(message.outcome)

    @on(CaseLoaded)
    def _case_loaded(self, message: CaseLoaded) -> None:
        self.case = case = message.case
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
                    DocumentCheckbox(
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

    def _citizen_table(self, case: CaseView) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim")
        table.add_column()
        table.add_row(_("Wartenummer"), Text(case.number, style="bold"))
        table.add_row(_("Status"), state_label(case.state))
        if case.citizen_name:
            table.add_row(_("Name"), case.citizen_name)
        if case.birth_date:
            table.add_row(_("Geburtsdatum"), format_date(case.birth_date))
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
            valid_until = format_date(outcome.chip.expiry_date)
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
        # The service loads the card stack on first use: in the worker, then the dialog opens.
        desk = self.desk
        self.desk.load(lambda _counter: desk.card_reading(), CardReadingReady, reply_to=self, group="card")

    @on(CardReadingReady)
    def _open_card_read(self, message: CardReadingReady) -> None:
        from screens.card_read import CardReadScreen

        self.app.push_screen(
            CardReadScreen(message.reading, self.case_id), lambda _outcome: self._load_card_read()
        )

    def action_fetch_capture(self) -> None:
        from screens.capture_fetch import CaptureFetchScreen

        chip_photo = self.card_read.photo if self.card_read is not None else None
        self.app.push_screen(CaptureFetchScreen(self.desk, self.case_id, chip_photo), self._capture_closed)

    def _capture_closed(self, attached: AttachResult | None) -> None:
        if attached is None:
            return
        self._load_capture()
        for checkbox in self.query(DocumentCheckbox):  # the photo document, ticked by the attach
            if str(checkbox.label).startswith(PHOTO_DOCUMENT_PREFIX):
                with checkbox.prevent(Checkbox.Changed):
                    checkbox.value = True

    def action_park(self) -> None:
        self.desk.run_command(lambda counter: counter.park(), TicketParked, reply_to=self)

    def action_transfer(self) -> None:
        if self.case is not None:
            ask_transfer(self, self.desk, [service.service_id for service in self.case.services])

    def action_finish(self) -> None:
        if self.case is not None:
            services = [Choice(s.service_id, s.name) for s in self.case.services]
            ask_finish(self, self.desk, services, self.notes, [s.code for s in self.case.services])

    @on(Checkbox.Changed, ".document")
    def _document_checked(self, event: Checkbox.Changed) -> None:
        checked = self.checked_documents()
        service_id = self._service_of_checkbox(event.checkbox)
        documents = checked.get(service_id, [])
        case_id = self.case_id
        self.desk.run_command(
            lambda counter: counter.check_documents(case_id, service_id, documents),
            DocumentsChecked,
            reply_to=self,
        )

    def _service_of_checkbox(self, checkbox: Checkbox) -> str:
        assert self.case is not None
        index = int(str(checkbox.id).split("-")[1])
        return self.case.services[index].service_id

    @on(TicketParked)
    @on(TicketTransferred)
    @on(CaseFinished)
    def _visit_left_the_desk(self, _message: CommandCompleted) -> None:
        # Park, transfer and finish end the visit at the desk: back to the counter, which reloads.
        self.dismiss(None)


def _fee(fee_cents: int) -> str:
    if not fee_cents:
        return _("gebührenfrei")
    return f"{fee_cents / 100:.2f} €".replace(".", ",")
