"""The counter screen ("Tresen"): current ticket, waiting queue, today's appointments, search.

The screen only presents and dispatches: every clerk action goes to `workstation.counter.Counter`
through the app's thread workers, and results come back as `CommandDone`/`Loaded` messages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label

from screens.dialogs import Choice, ConfirmDialog, FinishChoice, FinishDialog, TransferChoice, TransferDialog
from screens.messages import CommandDone, Loaded, StoreChanged
from screens.widgets.current_ticket import CurrentTicketPanel
from screens.widgets.format import clock, load_level, minutes, outcome_labels, services_label, state_label
from screens.widgets.queue_table import DiffTable
from screens.widgets.queue_view import QueueView
from screens.widgets.status_bar import SyncStatusBar
from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.app import TresenApp

APPOINTMENTS_LOOKBACK_MINUTES = 15  # the list opens at slots from a quarter hour ago
REFRESH_SECONDS = 30.0  # waiting times tick in minutes; the sync worker reports data changes sooner
CALLING_ACTIONS = frozenset({"call-next", "call-ticket"})  # the called ticket leaves the queue
UNCHANGED_QUEUE_ACTIONS = frozenset({"recall", "open-case", "check-documents"})


def counter_bindings() -> list[Binding]:
    return [
        Binding("f2", "call_next", _("Aufrufen"), id="call-next"),
        Binding("f3", "recall", _("Erneut aufrufen"), id="recall"),
        Binding("f4", "no_show", _("Nicht erschienen"), id="no-show"),
        Binding("f5", "open_case", _("Vorgang öffnen"), id="open-case"),
        Binding("f6", "park", _("Parken"), id="park"),
        Binding("f7", "transfer", _("Weiterleiten"), id="transfer"),
        Binding("f8", "finish", _("Abschließen"), id="finish"),
        Binding("f9", "resume", _("Fortsetzen"), id="resume", show=False),
        Binding("ctrl+n", "walk_in", _("Wartenummer ausgeben"), id="walk-in", show=False),
        Binding("ctrl+f", "focus_search", _("Suchen"), id="search", show=False),
    ]


class CounterScreen(Screen[None]):
    BINDINGS = counter_bindings()
    AUTO_FOCUS = "#queue"

    app: TresenApp  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__(id="counter")
        self.service_level_minutes = 15
        self._appointments_positioned = False
        self._queue: list[Any] = []  # the rows the queue table shows, for its title
        # Line API: only the rows on screen are drawn, so the whole queue is held (bench/keypress_f2.py).
        self.queue_table: QueueView[Any] = QueueView(
            [
                ("number", _("Nummer")),
                ("waiting", _("Wartezeit")),
                ("state", _("Status")),
                ("services", _("Dienstleistungen")),
                ("due", _("Fälligkeit")),
            ],
            row_key=lambda row: row.ticket_id,
            cells=self._queue_cells,
            id="queue",
        )
        self.appointment_table: DiffTable[Any] = DiffTable(
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
        self.search_table: DiffTable[Any] = DiffTable(
            [("label", _("Treffer")), ("detail", _("Details")), ("state", _("Status"))],
            row_key=lambda hit: hit.key,
            cells=lambda hit: (hit.label, hit.detail, state_label(hit.state)),
            id="search-results",
        )

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="counter-body"):
            with Vertical(id="left-column"):
                yield CurrentTicketPanel()
                yield Input(placeholder=_("Suche: Name, Vorgangsnummer oder Wartenummer"), id="search")
                yield self.search_table
            with Vertical(id="right-column"):
                yield Label("", id="queue-title")
                yield self.queue_table
                yield Label(_("Termine heute"), id="appointments-title")
                yield self.appointment_table
        yield SyncStatusBar(self.app.place_label)
        yield Footer()

    def on_mount(self) -> None:
        self.search_table.display = False
        self.refresh_all()
        self.set_interval(REFRESH_SECONDS, self.refresh_all)

    # -- loading ----------------------------------------------------------------------------------

    def refresh_all(self) -> None:
        self.app.fetch("view", lambda counter, now: counter.view(now), reply_to=self)

    def refresh_queue(self) -> None:
        self.app.fetch("queue", lambda counter, now: counter.queue_rows(now), reply_to=self)

    @on(StoreChanged)
    def _store_changed(self) -> None:
        self.refresh_all()

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.what == "view":
            view = message.data
            self.service_level_minutes = view.service_level_minutes
            self.query_one(CurrentTicketPanel).show(view.current)
            self._show_queue(view.queue)
            self.appointment_table.apply(view.appointments)
            if not self._appointments_positioned and view.appointments:
                self._appointments_positioned = True
                self._scroll_to_now(view.appointments)
                self.call_after_refresh(self.app.freeze_heap)  # the start-up heap is complete now
        elif message.what == "queue":
            self._show_queue(message.data)
        elif message.what == "search":
            self.search_table.apply(message.data)
            self.search_table.display = True
        elif message.what == "transfer-targets":
            self._ask_transfer(message.data)

    def _scroll_to_now(self, appointments: list[Any]) -> None:
        """Start the day's list at the appointments due now rather than at opening time."""
        soon = self.app.now() - timedelta(minutes=APPOINTMENTS_LOOKBACK_MINUTES)
        later = (index for index, row in enumerate(appointments) if row.slot_start >= soon)
        index = next(later, len(appointments) - 1)
        table = self.appointment_table
        table.move_cursor(row=index, animate=False, scroll=False)
        # The rows just added are measured on the next refresh; scroll once they have a height.
        table.call_after_refresh(table.scroll_to, y=index, animate=False)

    def _show_queue(self, rows: list[Any]) -> None:
        self._queue = rows
        self.queue_table.apply(rows)
        self._show_queue_title()

    def _show_queue_title(self) -> None:
        waiting = [row.waiting_minutes for row in self._queue if row.state == "waiting"]
        longest = max(waiting, default=0)
        title = self.query_one("#queue-title", Label)
        title.update(
            _("Warteschlange: {count} wartend, längste Wartezeit {longest}").format(
                count=len(waiting), longest=minutes(longest)
            )
        )
        title.set_classes(f"load-{load_level(longest, self.service_level_minutes)}")

    def _queue_cells(self, row: Any) -> tuple[str | Text, ...]:
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
    def _appointment_cells(row: Any) -> tuple[str | Text, ...]:
        return (
            clock(row.slot_start),
            state_label(row.status),
            row.booking_reference,
            row.citizen_name,
            services_label(row.services),
        )

    # -- results of commands ------------------------------------------------------------------------

    @on(CommandDone)
    def _command_done(self, message: CommandDone) -> None:
        self.query_one(CurrentTicketPanel).show(message.current)
        called = getattr(message.result, "ticket_id", None)
        if message.action in CALLING_ACTIONS and called is not None:
            # The called ticket leaves the queue; nothing else in it changed, so no reload (the sync
            # worker reports other desks' changes, and the timer refreshes the waiting times).
            self.queue_table.remove_key(called)
            self._queue = [row for row in self._queue if row.ticket_id != called]
            self._show_queue_title()
        elif message.action not in UNCHANGED_QUEUE_ACTIONS:
            self.call_after_refresh(self.refresh_queue)  # after the frame that shows the result
        # Why this ticket came next stands in the panel ("Reihenfolge"); no toast for it.
        if message.action == "open-case":
            self.app.show_case(message.result.case_id)  # the citizen is here: straight to the case
        elif message.action == "call-next" and message.result is None:
            self.notify(_("Niemand wartet auf die Dienstleistungen dieses Schalters."), timeout=4)

    # -- actions --------------------------------------------------------------------------------------

    def _run(self, action: str, command: Callable[[Any], Any]) -> None:
        self.app.run_command(action, command, reply_to=self)

    @property
    def current(self) -> Any:
        return self.query_one(CurrentTicketPanel).current

    def action_call_next(self) -> None:
        self._run("call-next", lambda counter: counter.call_next())

    def action_recall(self) -> None:
        self._run("recall", lambda counter: counter.recall())

    def action_no_show(self) -> None:
        current = self.current
        if current is None:
            self.notify(_("Es ist keine Wartenummer aufgerufen."), severity="warning")
            return

        def decided(confirmed: bool | None) -> None:
            if confirmed:
                self._run("no-show", lambda counter: counter.no_show())

        self.app.push_screen(
            ConfirmDialog(
                _("Wartenummer {number} als „nicht erschienen“ abschließen?").format(number=current.number),
                _("Nicht erschienen"),
            ),
            decided,
        )

    def action_open_case(self) -> None:
        current = self.current
        if current is None:
            self.notify(_("Es ist keine Wartenummer aufgerufen."), severity="warning")
            return
        if current.state == "called":
            self._run("open-case", lambda counter: counter.citizen_arrived())
        else:
            self.app.show_case(current.case_id)

    def action_park(self) -> None:
        self._run("park", lambda counter: counter.park())

    def action_resume(self) -> None:
        ticket_id = self.queue_table.highlighted_key
        if ticket_id is None:
            self.notify(_("Bitte eine geparkte Wartenummer in der Warteschlange markieren."))
            return
        self._run("resume", lambda counter: counter.resume(ticket_id))

    def action_transfer(self) -> None:
        if self.current is None:
            self.notify(_("Es ist keine Wartenummer aufgerufen."), severity="warning")
            return
        self.app.fetch("transfer-targets", lambda counter, now: counter.transfer_targets(), reply_to=self)

    def _ask_transfer(self, targets: Any) -> None:
        current = self.current
        preselected = [service.id for service in current.services] if current else []

        def decided(choice: TransferChoice | None) -> None:
            if choice is not None:
                self._run(
                    "transfer",
                    lambda counter: counter.transfer(list(choice.service_ids), choice.target_desk_id),
                )

        self.app.push_screen(
            TransferDialog(
                [Choice(desk.id, desk.name) for desk in targets.desks],
                [Choice(service.id, service.name) for service in targets.services],
                preselected,
            ),
            decided,
        )

    def action_finish(self) -> None:
        current = self.current
        if current is None or current.state not in {"serving"}:
            self.notify(_("Abschließen geht erst, wenn der Vorgang geöffnet ist (F5)."), severity="warning")
            return
        self.ask_finish(current.services, notes="")

    def ask_finish(self, services: Any, notes: str, reply_to: Screen[Any] | None = None) -> None:
        """Ask for the outcome per service, then finish; the result goes to `reply_to` (default: us)."""

        def decided(choice: FinishChoice | None) -> None:
            if choice is not None:
                self.app.run_command(
                    "finish",
                    lambda counter: counter.finish(choice.outcomes, choice.notes),
                    reply_to=reply_to or self,
                )

        labels = outcome_labels()
        self.app.push_screen(
            FinishDialog(
                [Choice(service.id, service.name) for service in services],
                [Choice(value, label) for value, label in labels.items()],
                "completed",
                notes,
            ),
            decided,
        )

    def action_walk_in(self) -> None:
        from screens.walk_in import WalkInScreen

        def closed(issued: Any) -> None:
            if issued is not None:
                self.refresh_queue()  # the new number waits in the queue too

        self.app.push_screen(WalkInScreen(), closed)

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    @on(Input.Submitted, "#search")
    def _search(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.search_table.display = False
            return
        self.app.fetch("search", lambda counter, now: counter.search(text), reply_to=self)

    @on(QueueView.RowChosen, "#queue")
    def _queue_row_chosen(self, event: QueueView.RowChosen) -> None:
        ticket_id = event.key
        if self.queue_table.row(ticket_id).state == "parked":
            self._run("resume", lambda counter: counter.resume(ticket_id))
        else:
            self._run("call-ticket", lambda counter: counter.call_ticket(ticket_id))


_LOAD_STYLE = {"low": "green", "medium": "yellow", "high": "bold red"}
