"""The counter screen ("Tresen"): current ticket, waiting queue, today's appointments, search.

The screen only presents and dispatches: every clerk action goes to `workstation.counter.Counter`
through the desk port (`screens.desk.DeskPort`), and results come back as typed messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

from rich.text import Text
from textual import on
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label

from screens.bindings import bindings_for
from screens.dialogs import Choice, ConfirmDialog
from screens.flows import ask_finish, ask_transfer
from screens.messages import (
    CaseFinished,
    CitizenArrived,
    CommandCompleted,
    CounterViewLoaded,
    MarkedNoShow,
    QueueLoaded,
    SearchResultsLoaded,
    StoreChanged,
    TicketCalled,
    TicketParked,
    TicketRecalled,
    TicketResumed,
    TicketTransferred,
)
from screens.widgets.current_ticket import CurrentTicketPanel
from screens.widgets.diff_table import DiffTable
from screens.widgets.format import clock, load_level, minutes, services_label, state_label
from screens.widgets.key_bar import KeyBar, NarrowLayout
from screens.widgets.queue_view import QueueView
from screens.widgets.status_bar import SyncStatusBar
from screens.widgets.steady import SteadyLabel
from workstation.actions import ScreenId
from workstation.i18n import _

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import ComposeResult

    from screens.desk import DeskPort
    from workstation.counter import Counter
    from workstation.queries import AppointmentRow, CurrentTicket, QueueRow, SearchHit

APPOINTMENTS_LOOKBACK_MINUTES = 15  # the list opens at slots from a quarter hour ago
REFRESH_SECONDS = 30.0  # waiting times tick in minutes; the sync worker reports data changes sooner
Result = TypeVar("Result")


@dataclass
class _NoShowAllowed(Message):
    """The called ticket may be closed as no-show now (the office's maximum of calls is reached)."""

    number: str


class CounterScreen(NarrowLayout, Screen[None]):
    BINDINGS = bindings_for(ScreenId.COUNTER)
    AUTO_FOCUS = "#queue"

    def __init__(self, desk: DeskPort) -> None:
        super().__init__(id="counter")
        self.desk = desk
        self.service_level_minutes = 15
        self.current: CurrentTicket | None = None
        self._appointments_positioned = False
        self._queue: list[QueueRow] = []  # the rows the queue view shows, for its title
        self._hits: dict[str, SearchHit] = {}
        # Line API: only the rows on screen are drawn, so the whole queue is held (bench/keypress_f2.py).
        self.queue_table: QueueView[QueueRow] = QueueView(
            [
                ("number", _("Nummer")),
                ("waiting", _("Wartezeit")),
                ("state", _("Status")),
                ("services", _("Dienstleistungen")),
                ("due", _("Fälligkeit")),
            ],
            row_key=lambda row: row.ticket_id,
            cells=self._queue_cells,
            gives_way=("services", "due"),  # the due time's start matters more than the services
            id="queue",
        )
        self.appointment_table: DiffTable[AppointmentRow] = DiffTable(
            [
                ("slot", _("Uhrzeit")),
                ("status", _("Status")),
                ("reference", _("Vorgangsnr.")),
                ("name", _("Name")),
                ("services", _("Dienstleistungen")),
            ],
            row_key=lambda row: row.appointment_id,
            cells=self._appointment_cells,
            id="appointments",
        )
        self.search_table: DiffTable[SearchHit] = DiffTable(
            [("label", _("Treffer")), ("detail", _("Details")), ("state", _("Status"))],
            row_key=lambda hit: hit.key,
            cells=lambda hit: (hit.label, hit.detail, state_label(hit.state)),
            id="search-results",
        )
        self._appointments: dict[str, AppointmentRow] = {}

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="counter-body"):
            with Vertical(id="left-column"):
                yield CurrentTicketPanel()
                yield Input(placeholder=_("Suche: Name, Vorgangsnummer oder Wartenummer"), id="search")
                yield self.search_table
            with Vertical(id="right-column"):
                yield SteadyLabel("", id="queue-title")  # changes on every F2
                yield self.queue_table
                yield Label(_("Termine heute (Enter: einchecken und bedienen)"), id="appointments-title")
                yield self.appointment_table
        yield SyncStatusBar(self.desk.place_label, self.desk.sync_line)
        yield KeyBar()
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.search_table.display = False
        self.refresh_all()
        self.set_interval(REFRESH_SECONDS, self.refresh_all)

    def on_screen_resume(self) -> None:
        # Back from the case screen or a dialog: the case may have ended meanwhile.
        if self._appointments_positioned:
            self.refresh_all()

    # -- loading ----------------------------------------------------------------------------------

    def refresh_all(self) -> None:
        self.desk.load(lambda counter: counter.view(), CounterViewLoaded, reply_to=self, group="view")

    def refresh_queue(self) -> None:
        self.desk.load(lambda counter: counter.queue_rows(), QueueLoaded, reply_to=self, group="queue")

    @on(StoreChanged)
    def _store_changed(self) -> None:
        self.refresh_all()

    @on(CounterViewLoaded)
    def _view_loaded(self, message: CounterViewLoaded) -> None:
        view = message.view
        restyle = view.service_level_minutes != self.service_level_minutes
        self.service_level_minutes = view.service_level_minutes
        self._show_current(view.current)
        self._show_queue(view.queue, restyle=restyle)
        self.appointment_table.apply(view.appointments)
        self._appointments = {row.appointment_id: row for row in view.appointments}
        if not self._appointments_positioned and view.appointments:
            self._appointments_positioned = True
            self._scroll_to_now(view.appointments)
            self.call_after_refresh(self.desk.started)  # the start-up heap is complete now

    @on(QueueLoaded)
    def _queue_loaded(self, message: QueueLoaded) -> None:
        self._show_queue(message.rows)

    @on(SearchResultsLoaded)
    def _search_loaded(self, message: SearchResultsLoaded) -> None:
        self._hits = {hit.key: hit for hit in message.hits}
        self.search_table.apply(message.hits)
        self.search_table.display = True
        if not message.hits:
            self.notify(_("Keine Treffer."), timeout=3)

    def _show_current(self, current: CurrentTicket | None) -> None:
        self.current = current
        self.query_one(CurrentTicketPanel).show(current)

    def _scroll_to_now(self, appointments: list[AppointmentRow]) -> None:
        """Start the day's list at the appointments due now rather than at opening time."""
        soon = self.desk.now() - timedelta(minutes=APPOINTMENTS_LOOKBACK_MINUTES)
        later = (index for index, row in enumerate(appointments) if row.slot_start >= soon)
        index = next(later, len(appointments) - 1)
        self.appointment_table.move_cursor(row=index, animate=False, scroll=False)
        self.appointment_table.scroll_row_to_top(index)

    def _show_queue(self, rows: list[QueueRow], *, restyle: bool = False) -> None:
        self._queue = rows
        self.queue_table.apply(rows, restyle=restyle)
        self._show_queue_title()

    def _show_queue_title(self) -> None:
        waiting = [row.waiting_minutes for row in self._queue if row.state == "waiting"]
        longest = max(waiting, default=0)
        title = self.query_one("#queue-title", SteadyLabel)
        title.update(
            _("Warteschlange: {count} wartend, längste Wartezeit {longest}").format(
                count=len(waiting), longest=minutes(longest)
            )
        )
        title.set_classes(f"load-{load_level(longest, self.service_level_minutes)}")

    def _queue_cells(self, row: QueueRow) -> tuple[str | Text, ...]:
        level = load_level(row.waiting_minutes, self.service_level_minutes)
        number = row.number + (" !" if row.priority else "")
        return (
            number,
            Text(minutes(row.waiting_minutes), style=f"{_LOAD_STYLE[level]}"),
            state_label(row.state),
            services_label(row.services),
            row.due_explanation or "",
        )

    @staticmethod
    def _appointment_cells(row: AppointmentRow) -> tuple[str | Text, ...]:
        return (
            clock(row.slot_start),
            state_label(row.status),
            row.booking_reference,
            row.citizen_name,
            services_label(row.services),
        )

    # -- results of commands ------------------------------------------------------------------------

    @on(TicketCalled)
    def _called(self, message: TicketCalled) -> None:
        self._show_current(message.current)
        if message.result is not None:
            # The called ticket leaves the queue; nothing else in it changed, so no reload (the sync
            # worker reports other desks' changes, and the timer refreshes the waiting times).
            called = message.result.ticket_id
            self.queue_table.remove_key(called)
            self._queue = [row for row in self._queue if row.ticket_id != called]
            self._show_queue_title()

    @on(TicketRecalled)
    def _recalled(self, message: TicketRecalled) -> None:
        self._show_current(message.current)

    @on(CitizenArrived)
    def _arrived(self, message: CitizenArrived) -> None:
        self._show_current(message.current)
        self.desk.open_case(message.result.case_id)  # the citizen is here: straight to the case

    @on(TicketResumed)
    @on(MarkedNoShow)
    @on(TicketParked)
    @on(TicketTransferred)
    @on(CaseFinished)
    def _queue_changed(self, message: CommandCompleted) -> None:
        self._show_current(message.current)
        self.call_after_refresh(self.refresh_queue)  # after the frame that shows the result

    # -- actions --------------------------------------------------------------------------------------

    def _run(
        self,
        command: Callable[[Counter], Result],
        done: Callable[[Result, CurrentTicket | None], CommandCompleted],
    ) -> None:
        self.desk.run_command(command, done, reply_to=self)

    def _require_current(self) -> CurrentTicket | None:
        if self.current is None:
            self.notify(_("Es ist keine Wartenummer aufgerufen."), severity="warning")
        return self.current

    def action_call_next(self) -> None:
        self._run(lambda counter: counter.call_next(), TicketCalled)

    def action_recall(self) -> None:
        self._run(lambda counter: counter.recall(), TicketRecalled)

    def action_no_show(self) -> None:
        if self._require_current() is None:
            return
        # The office's maximum of calls is checked first: no question that then ends in a refusal.
        self.desk.load(
            lambda counter: counter.check_no_show(), _NoShowAllowed, reply_to=self, group="no-show"
        )

    @on(_NoShowAllowed)
    def _ask_no_show(self, message: _NoShowAllowed) -> None:
        def decided(confirmed: bool | None) -> None:
            if confirmed:
                self._run(lambda counter: counter.no_show(), MarkedNoShow)

        self.app.push_screen(
            ConfirmDialog(
                _("Wartenummer {number} als „nicht erschienen“ abschließen?").format(number=message.number),
                _("Nicht erschienen"),
            ),
            decided,
        )

    def action_open_case(self) -> None:
        current = self._require_current()
        if current is None:
            return
        if current.state == "called":
            self._run(lambda counter: counter.citizen_arrived(), CitizenArrived)
        else:
            self.desk.open_case(current.case_id)

    def action_park(self) -> None:
        self._run(lambda counter: counter.park(), TicketParked)

    def action_resume(self) -> None:
        ticket_id = self.queue_table.highlighted_key
        if ticket_id is None:
            self.notify(_("Bitte eine geparkte Wartenummer in der Warteschlange markieren."))
            return
        self._run(lambda counter: counter.resume(ticket_id), TicketResumed)

    def action_transfer(self) -> None:
        current = self._require_current()
        if current is not None:
            ask_transfer(self, self.desk, [service.id for service in current.services])

    def action_finish(self) -> None:
        current = self.current
        if current is None or current.state != "serving":
            self.notify(_("Abschließen geht erst, wenn der Vorgang geöffnet ist (F5)."), severity="warning")
            return
        services = [Choice(s.id, s.name) for s in current.services]
        ask_finish(self, self.desk, services, notes="", codes=[s.code for s in current.services])

    def action_reprint(self) -> None:
        """Nachdruck: the kept documents of the desk's open or last case, to print again."""
        self.desk.offer_reprint()

    def action_walk_in(self) -> None:
        from screens.walk_in import WalkInScreen

        def closed(issued: object) -> None:
            if issued is not None:
                self.refresh_queue()  # the new number waits in the queue too

        self.app.push_screen(WalkInScreen(self.desk), closed)

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    @on(Input.Submitted, "#search")
    def _search(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.search_table.display = False
            return
        self.desk.load(
            lambda counter: counter.search(text), SearchResultsLoaded, reply_to=self, group="search"
        )

    # -- choosing a row: out of the queue's order, so it asks first ------------------------------------

    def row_keys(self) -> list[tuple[str, str]]:
        """For the help: what Enter does on a row of each table."""
        return [
            ("Enter", _("Warteschlange: markierte Nummer aufrufen (fragt) oder geparkte fortsetzen")),
            ("Enter", _("Termine und Suche: Termin einchecken und bedienen (fragt)")),
            ("↑ ↓ Bild↑ Bild↓", _("Zeile wählen")),
            ("Tab", _("nächster Bereich")),
        ]

    def action_call_ticket(self) -> None:
        """Enter outside a table's own handling: the highlighted queue row, as Enter on it does."""
        ticket_id = self.queue_table.highlighted_key
        row = next((r for r in self._queue if r.ticket_id == ticket_id), None)
        if row is not None and row.state != "parked":
            self._ask_call_ticket(row.ticket_id, row.number)

    @on(QueueView.RowChosen, "#queue")
    def _queue_row_chosen(self, event: QueueView.RowChosen) -> None:
        event.stop()
        ticket_id = event.key
        row = next((r for r in self._queue if r.ticket_id == ticket_id), None)
        if row is None:
            return
        if row.state == "parked":
            self._run(lambda counter: counter.resume(ticket_id), TicketResumed)
        else:
            self._ask_call_ticket(ticket_id, row.number)

    def _ask_call_ticket(self, ticket_id: str, number: str) -> None:
        def decided(confirmed: bool | None) -> None:
            if confirmed:
                self._run(lambda counter: counter.call_ticket(ticket_id), TicketCalled)

        self.app.push_screen(
            ConfirmDialog(
                _(
                    "Wartenummer {number} außer der Reihe aufrufen? "
                    "Die Reihenfolge der Warteschlange wird übersprungen."
                ).format(number=number),
                _("Aufrufen"),
            ),
            decided,
        )

    @on(DataTable.RowSelected, "#appointments")
    def _appointment_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self._appointments.get(str(event.row_key.value))
        if row is not None:
            self._ask_serve_appointment(row.appointment_id, f"{clock(row.slot_start)} {row.citizen_name}")

    @on(DataTable.RowSelected, "#search-results")
    def _hit_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        hit = self._hits.get(str(event.row_key.value))
        if hit is None:
            return
        if hit.ticket_id is not None:
            if hit.state == "parked":
                ticket_id = hit.ticket_id
                self._run(lambda counter: counter.resume(ticket_id), TicketResumed)
            elif hit.state == "waiting":
                self._ask_call_ticket(hit.ticket_id, hit.label)
            else:
                self.notify(_("{label}: {state}").format(label=hit.label, state=state_label(hit.state)))
        elif hit.appointment_id is not None:
            self._ask_serve_appointment(hit.appointment_id, hit.label)

    def _ask_serve_appointment(self, appointment_id: str, label: str) -> None:
        def decided(confirmed: bool | None) -> None:
            if confirmed:
                self._run(lambda counter: counter.serve_appointment(appointment_id), CitizenArrived)

        self.app.push_screen(
            ConfirmDialog(
                _("Termin {label}: die Person steht am Schalter – einchecken und jetzt bedienen?").format(
                    label=label
                ),
                _("Bedienen"),
            ),
            decided,
        )


_LOAD_STYLE = {"low": "green", "medium": "yellow", "high": "bold red"}
