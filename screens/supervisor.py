"""Teamleitung: the live office and any day's figures (issue 12), from the central service.

The screen takes a `SupervisorPort` in its constructor (`workstation.office_overview.OfficeOverview`):
blocking loads, run here in thread workers (a newer load of the same tab supersedes an older one). The
figures are `sync.statistics`' (the same as the PDF and CSV report); the screen only formats them. A
load that fails raises `sync.central.statistics_client.StatisticsUnavailable` (a German msgid and its
parameters, e.g. no data on that date), translated and shown in place. When the central service does
not answer, the screen shows what the local store knows, marked as such with the time of the last sync.

Keys (from the action registry, `ScreenId.SUPERVISOR`): F5 reloads the visible tab; in the day tab,
Enter in the date field shows that day, F6 and F7 save the day shown as PDF and CSV into the export
folder (a thread worker; a failure is a German dialog through the App's failure handler).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

from rich.text import Text
from textual import on, work
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Input,
    Label,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import Worker, WorkerState

from screens.bindings import bindings_for
from sync.central.statistics_client import StatisticsUnavailable
from sync.clock import OFFICE_ZONE
from workstation.actions import ScreenId
from workstation.i18n import N_, _, format_date, format_number
from workstation.statistics_export import ExportFormat

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import ComposeResult
    from textual.binding import BindingType

    from sync.central.statistics_api import DayReport, LiveOffice
    from sync.protocol import ConflictEntry
    from sync.statistics import DayFigures, GroupFigures
    from workstation.local_statistics import LocalFigures


__all__ = ["DayLoaded", "LiveLoaded", "StatisticsUnavailable", "SupervisorPort", "SupervisorScreen"]


class SupervisorPort(Protocol):
    """What the supervisor screen needs; both calls block (the screen runs them in workers)."""

    def today(self) -> date: ...

    def load_live(self) -> LiveOffice: ...

    def load_day(self, day: date) -> DayReport: ...

    def load_conflicts(self) -> list[ConflictEntry]: ...

    def resolve_conflict(self, entry: ConflictEntry, note: str = "") -> ConflictEntry: ...

    def load_local_live(self) -> LocalFigures[LiveOffice]: ...

    def load_local_day(self, day: date) -> LocalFigures[DayReport]: ...

    def export_day(self, report: DayReport, fmt: ExportFormat) -> Path: ...


@dataclass
class ConflictsLoaded(Message):
    entries: list[ConflictEntry] | None
    problem: str | None = None


@dataclass
class LiveLoaded(Message):
    live: LiveOffice | None
    problem: str | None = None
    local: bool = False  # from the local store: the central service did not answer
    local_as_of: datetime | None = None  # the local store's last sync


@dataclass
class DayLoaded(Message):
    report: DayReport | None
    problem: str | None = None
    local: bool = False
    local_as_of: datetime | None = None


@dataclass
class ReportSaved(Message):
    path: Path
    fmt: ExportFormat


_LEVEL_STYLE = {"ok": "green", "warning": "yellow", "over_target": "bold red"}
_ACTIVITY = {"calling": N_("ruft auf"), "serving": N_("bedient"), "idle": N_("frei")}
# What each kind of operation was, for the supervisor (operation kinds: sync.protocol.OperationKind).
_OPERATION = {
    "ticket.call": N_("Aufruf"),
    "ticket.serve": N_("Bedienung begonnen"),
    "ticket.no_show": N_("Nicht erschienen"),
    "ticket.park": N_("Geparkt"),
    "ticket.resume": N_("Fortgesetzt"),
    "ticket.transfer": N_("Weitergeleitet"),
    "ticket.issue": N_("Wartenummer ausgegeben"),
    "case.finish": N_("Abschluss"),
}
_CONFLICT_STATUS = {"rejected": N_("abgelehnt"), "flagged": N_("zur Prüfung")}


def _minutes(seconds: float | None) -> str:
    return (
        "–" if seconds is None else _("{minutes} min").format(minutes=format_number(round(seconds / 60, 1)))
    )


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{format_number(round(share * 100, 1))} %"


def _clock_time(moment: datetime | None) -> str:
    return "–" if moment is None else moment.astimezone(OFFICE_ZONE).strftime("%H:%M")


def _problem_text(problem: StatisticsUnavailable) -> str:
    return _(problem.message).format(**problem.params)


def offline_banner(as_of: datetime | None) -> str:
    if as_of is None:
        return _("Offline – nur lokal bekannte Daten (noch nie mit der Zentrale abgeglichen)")
    return _("Offline – nur lokal bekannte Daten, Stand {time}").format(time=_clock_time(as_of))


def _parse_day(text: str) -> date | None:
    for layout in ("%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d"):  # German, English (format_date), ISO
        try:
            return datetime.strptime(text.strip(), layout).date()
        except ValueError:
            continue
    return None


class SupervisorScreen(Screen[None]):
    CSS_PATH = Path(__file__).with_suffix(".tcss")
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(ScreenId.SUPERVISOR)

    def __init__(self, port: SupervisorPort) -> None:
        super().__init__()
        self.port = port
        self.live: LiveOffice | None = None
        self.report: DayReport | None = None
        self.report_is_local = False
        self._conflicts: dict[str, ConflictEntry] = {}

    def compose(self) -> ComposeResult:
        with TabbedContent(id="supervisor-tabs"):
            with TabPane(_("Live"), id="tab-live"), VerticalScroll():
                yield Static("", id="live-summary")
                yield Static("", id="live-alerts")
                yield Label(_("Wartende je Leistung"), classes="section")
                yield DataTable(id="live-services", cursor_type="row", zebra_stripes=True)
                yield Label(_("Plätze"), classes="section")
                yield DataTable(id="live-desks", cursor_type="row", zebra_stripes=True)
            with TabPane(_("Tag"), id="tab-day"), VerticalScroll():
                with Horizontal(id="day-choice"):
                    yield Input(placeholder=_("TT.MM.JJJJ"), id="day-date")
                    yield Button(_("Anzeigen"), id="day-show", variant="primary")
                yield Static("", id="day-message")
                yield DataTable(id="day-kpis", cursor_type="row", zebra_stripes=True)
                with Vertical(id="day-chart"):
                    yield Label(_("Je Stunde der Ankunft: Ankünfte, bedient, Wartezeit Ø"), classes="section")
                    yield Static("", id="day-bars")
                for table_id, title in (
                    ("day-desks", _("Plätze")),
                    ("day-services", _("Leistungen")),
                    ("day-clerks", _("Sachbearbeitung")),
                ):
                    yield Label(title, classes="section")
                    yield DataTable(id=table_id, cursor_type="row", zebra_stripes=True)
            with TabPane(_("Konflikte"), id="tab-conflicts"), VerticalScroll():
                yield Static("", id="conflicts-message")
                yield DataTable(id="conflicts", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#live-services", DataTable).add_columns(
            _("Leistung"), _("Wartend"), _("Längste Wartezeit")
        )
        self.query_one("#live-desks", DataTable).add_columns(
            _("Platz"), _("Tätigkeit"), _("seit"), _("Nummer"), _("angemeldet seit")
        )
        self.query_one("#day-kpis", DataTable).add_columns(
            _("Kennzahl"), _("Tag"), _("mit Termin"), _("ohne Termin"), _("Vorwoche")
        )
        for table_id in ("#day-desks", "#day-services", "#day-clerks"):
            columns = [_("Name"), _("Bedient"), _("Wartezeit Ø"), _("Bearbeitung Ø"), _("Bearbeitung Σ")]
            if table_id == "#day-desks":
                columns.append(_("Leerlauf"))
            self.query_one(table_id, DataTable).add_columns(*columns)
        self.query_one("#conflicts", DataTable).add_columns(
            _("Eingang"),
            _("Platz"),
            _("Sachbearbeitung"),
            _("Vorgang"),
            _("Wartenummer"),
            _("Status"),
            _("Grund"),
        )
        today = self.port.today()
        self.query_one("#day-date", Input).value = format_date(today)
        self._load_live()
        self._load_day(today)
        self._load_conflicts()

    # --- loading ------------------------------------------------------------------------------------

    @work(thread=True, group="supervisor-live", exclusive=True)
    def _load_live(self) -> None:
        try:
            self.post_message(LiveLoaded(self.port.load_live()))
        except StatisticsUnavailable as problem:
            if not problem.offline:
                self.post_message(LiveLoaded(None, _problem_text(problem)))
                return
            try:
                local = self.port.load_local_live()
            except StatisticsUnavailable as local_problem:
                self.post_message(LiveLoaded(None, _problem_text(local_problem), local=True))
            else:
                self.post_message(LiveLoaded(local.figures, local=True, local_as_of=local.as_of))

    @work(thread=True, group="supervisor-day", exclusive=True)
    def _load_day(self, day: date) -> None:
        try:
            self.post_message(DayLoaded(self.port.load_day(day)))
        except StatisticsUnavailable as problem:
            if not problem.offline:
                self.post_message(DayLoaded(None, _problem_text(problem)))
                return
            try:
                local = self.port.load_local_day(day)
            except StatisticsUnavailable as local_problem:
                banner = offline_banner(None)
                self.post_message(DayLoaded(None, f"{banner}\n{_problem_text(local_problem)}", local=True))
            else:
                self.post_message(DayLoaded(local.figures, local=True, local_as_of=local.as_of))

    @work(thread=True, group="supervisor-conflicts", exclusive=True)
    def _load_conflicts(self) -> None:
        try:
            self.post_message(ConflictsLoaded(self.port.load_conflicts()))
        except StatisticsUnavailable as problem:
            self.post_message(ConflictsLoaded(None, _(problem.message).format(**problem.params)))

    @work(thread=True, group="supervisor-conflicts")
    def _resolve(self, entry: ConflictEntry) -> None:
        try:
            self.port.resolve_conflict(entry)
        except StatisticsUnavailable as problem:
            self.post_message(ConflictsLoaded(None, _(problem.message).format(**problem.params)))
            return
        self._load_conflicts()

    def action_back(self) -> None:
        self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:  # noqa: ARG002
        if action in ("export_pdf", "export_csv"):  # the day shown in the tab "Tag"
            tabs = self.query(TabbedContent)
            return bool(tabs) and tabs.first().active == "tab-day"
        return True

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.refresh_bindings()

    def action_export_pdf(self) -> None:
        self._export(ExportFormat.PDF)

    def action_export_csv(self) -> None:
        self._export(ExportFormat.CSV)

    def _export(self, fmt: ExportFormat) -> None:
        if self.report is None:
            self.notify(_("Kein Tag angezeigt: nichts zu speichern."), severity="warning")
        elif self.report_is_local:
            self.notify(
                _(
                    "Ohne Verbindung zur Zentrale wird kein Tagesbericht gespeichert: "
                    "die lokal bekannten Zahlen sind unvollständig."
                ),
                severity="warning",
            )
        else:
            self._save(self.report, fmt)

    @work(thread=True, group="supervisor-export", exit_on_error=False)
    def _save(self, report: DayReport, fmt: ExportFormat) -> None:
        # `ExportFailed` (German, names the folder) becomes the failure dialog below
        self.post_message(ReportSaved(self.port.export_day(report, fmt), fmt))

    @on(Worker.StateChanged)
    def _export_failed(self, event: Worker.StateChanged) -> None:
        """A failed export is the App's kind of failure dialog (`screens.failures`, by exception type)."""
        worker = event.worker
        if (
            worker.group == "supervisor-export"
            and event.state == WorkerState.ERROR
            and worker.error is not None
        ):
            from screens.dialogs import MessageDialog
            from screens.failures import describe_failure

            text = describe_failure(worker.error, "daily report export")
            self.app.push_screen(MessageDialog(text.title, text.message))

    @on(ReportSaved)
    def _saved(self, message: ReportSaved) -> None:
        self.notify(
            _("Tagesbericht ({format}) gespeichert: {file}").format(
                format=message.fmt.value.upper(), file=message.path
            ),
            timeout=8,
        )

    def action_reload(self) -> None:
        active = self.query_one("#supervisor-tabs", TabbedContent).active
        if active == "tab-live":
            self._load_live()
        elif active == "tab-conflicts":
            self._load_conflicts()
        else:
            self._show_chosen_day()

    @on(Button.Pressed, "#day-show")
    @on(Input.Submitted, "#day-date")
    def _show_chosen_day(self) -> None:
        day = _parse_day(self.query_one("#day-date", Input).value)
        if day is None:
            self.query_one("#day-message", Static).update(_("Bitte ein Datum als TT.MM.JJJJ eingeben."))
            return
        self._load_day(day)

    # --- the live tab -------------------------------------------------------------------------------

    @on(LiveLoaded)
    def _show_live(self, message: LiveLoaded) -> None:
        summary = self.query_one("#live-summary", Static)
        services = self.query_one("#live-services", DataTable)
        desks = self.query_one("#live-desks", DataTable)
        services.clear()
        desks.clear()
        self.live = message.live
        if message.live is None:
            summary.update(message.problem or "")
            self.query_one("#live-alerts", Static).update("")
            return
        live = message.live
        line = _(
            "Stand {time}: {waiting} wartend · Wartezeit ohne Termin etwa {estimate} · Ziel {target} min"
        ).format(
            time=_clock_time(live.at),
            waiting=live.waiting_total,
            estimate=_minutes(live.estimated_walk_in_wait_seconds),
            target=live.target_minutes,
        )
        summary.update(
            Text.assemble((offline_banner(message.local_as_of), "bold yellow"), "\n", line)
            if message.local
            else line
        )
        for s in live.services:
            longest = Text(_minutes(s.longest_wait_seconds), style=_LEVEL_STYLE[s.level])
            services.add_row(s.name, str(s.waiting), longest, key=s.service_id)
        for d in live.desks:
            desks.add_row(
                d.name,
                _(_ACTIVITY[d.activity]),
                _clock_time(d.since),
                d.ticket_number or "–",
                _clock_time(d.logged_in_since),
                key=d.desk_id,
            )
        alerts = [_(a.message).format(**a.params) for a in live.alerts]
        self.query_one("#live-alerts", Static).update(
            Text("\n".join(f"⚠ {a}" for a in alerts), style="bold red") if alerts else _("Keine Hinweise.")
        )

    # --- the conflicts tab --------------------------------------------------------------------------

    @on(ConflictsLoaded)
    def _show_conflicts(self, message: ConflictsLoaded) -> None:
        table = self.query_one("#conflicts", DataTable)
        table.clear()
        self._conflicts = {f"{e.workstation_id}#{e.seq}": e for e in message.entries or []}
        info = self.query_one("#conflicts-message", Static)
        if message.entries is None:
            info.update(message.problem or "")
            return
        info.update(
            _("Abgelehnte und zur Prüfung behaltene Vorgänge. Enter: als erledigt markieren.")
            if message.entries
            else _("Keine offenen Konflikte.")
        )
        for key, entry in self._conflicts.items():
            table.add_row(
                _clock_time(entry.received_at),
                entry.desk_id or "–",
                entry.clerk_id or "–",
                _(_OPERATION.get(entry.kind, entry.kind)),
                entry.ticket_id or "–",
                _(_CONFLICT_STATUS[entry.status]),
                entry.reason,
                key=key,
            )

    @on(DataTable.RowSelected, "#conflicts")
    def _ask_resolve(self, event: DataTable.RowSelected) -> None:
        from screens.dialogs import ConfirmDialog

        entry = self._conflicts.get(str(event.row_key.value))
        if entry is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._resolve(entry)

        question = _("Konflikt {what} an {desk} als erledigt markieren?").format(
            what=_(_OPERATION.get(entry.kind, entry.kind)), desk=entry.desk_id or "?"
        )
        self.app.push_screen(ConfirmDialog(question, _("Erledigt")), answered)

    # --- the day tab --------------------------------------------------------------------------------

    @on(DayLoaded)
    def _show_day(self, message: DayLoaded) -> None:
        self.report = message.report
        self.report_is_local = message.local
        tables = [
            self.query_one(t, DataTable) for t in ("#day-kpis", "#day-desks", "#day-services", "#day-clerks")
        ]
        for table in tables:
            table.clear()
        bars = self.query_one("#day-bars", Static)
        if message.report is None:
            self.query_one("#day-message", Static).update(message.problem or "")
            bars.update("")
            return
        report = message.report
        figures, previous = report.day.figures(), report.same_weekday_last_week.figures()
        compared = _("{day}, verglichen mit {previous}").format(
            day=format_date(figures.day), previous=format_date(previous.day)
        )
        self.query_one("#day-message", Static).update(
            Text.assemble((offline_banner(message.local_as_of), "bold yellow"), "\n", compared)
            if message.local
            else compared
        )
        kpis, desks, services, clerks = tables
        for label, value in _KPIS:
            kpis.add_row(
                _(label),
                value(figures.total),
                value(figures.booked),
                value(figures.walk_in),
                value(previous.total),
            )
        bars.update(hour_bars(figures))
        for table, groups, with_idle in (
            (desks, figures.desks, True),
            (services, figures.services, False),
            (clerks, figures.clerks, False),
        ):
            for key, g in groups.items():
                cells = [
                    report.names.get(key, key),
                    str(g.served),
                    _minutes(g.waiting.mean),
                    _minutes(g.service.mean),
                    _minutes(g.service.total),
                ]
                if with_idle:
                    cells.append(_minutes(g.idle_seconds))
                table.add_row(*cells, key=key)


BAR_WIDTH = 40


def hour_bars(figures: DayFigures) -> Text:
    """One line per hour, bars from zero: arrivals (grey) with the served part over them (blue)."""
    hours = _all_hours(figures)
    if not hours:
        return Text(_("Keine Ankünfte."))
    first = min(figures.hours)
    peak = max(g.tickets for g in hours) or 1
    chart = Text()
    for offset, g in enumerate(hours):
        served = round(BAR_WIDTH * g.served / peak)
        arrived = round(BAR_WIDTH * g.tickets / peak)
        chart.append(f"{first + offset:02d} ")
        chart.append("█" * served, style="blue")
        chart.append("█" * max(0, arrived - served), style="grey50")
        chart.append(" " * (BAR_WIDTH - max(arrived, served)))
        chart.append(f" {g.tickets:>3} / {g.served:>3}  Ø {_minutes(g.waiting.mean)}\n")
    chart.rstrip()
    return chart


def _all_hours(figures: DayFigures) -> list[GroupFigures]:
    """Every hour from the first to the last with arrivals, the empty ones as zero bars."""
    from sync.statistics import GroupFigures

    if not figures.hours:
        return []
    first, last = min(figures.hours), max(figures.hours)
    return [figures.hours.get(hour, GroupFigures()) for hour in range(first, last + 1)]


_KPIS: tuple[tuple[str, Callable[[GroupFigures], str]], ...] = (
    (N_("Tickets"), lambda g: str(g.tickets)),
    (N_("Bedient"), lambda g: str(g.served)),
    (N_("Nicht erschienen"), lambda g: str(g.no_shows)),
    (N_("Wartezeit Ø"), lambda g: _minutes(g.waiting.mean)),
    (N_("Wartezeit max"), lambda g: _minutes(g.waiting.maximum if g.waiting.count else None)),
    (N_("Servicelevel"), lambda g: _percent(g.service_level)),
    (N_("Nicht-erschienen-Quote"), lambda g: _percent(g.no_show_rate)),
    (N_("Pünktlichkeit Termine"), lambda g: _percent(g.punctuality)),
    (N_("Wegezeit Ø"), lambda g: _minutes(g.walk.mean)),
    (N_("Bearbeitungszeit Ø"), lambda g: _minutes(g.service.mean)),
)
