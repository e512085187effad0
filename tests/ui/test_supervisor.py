"""The supervisor screen with a fake port: live office, the day's figures, another date, refusals."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from textual.app import App
from textual.widgets import DataTable, Input, Static, TabbedContent

from screens.supervisor import SupervisorScreen, hour_bars
from sync.central.statistics_api import (
    MSG_DESK_IDLE,
    MSG_NO_DATA,
    Alert,
    DayFiguresOut,
    DayReport,
    DeskActivity,
    LiveOffice,
    ServiceWaiting,
)
from sync.central.statistics_client import MSG_OFFLINE, StatisticsUnavailable
from sync.clock import OFFICE_ZONE
from sync.statistics import day_figures, fold_events
from tests.sync.statistics_days import DAY
from tests.sync.test_statistics import HAND_BUILT_DAY
from tests.ui.support import settle
from workstation.local_statistics import MSG_NO_LOCAL_OFFICE

if TYPE_CHECKING:
    from pathlib import Path

    from sync.protocol import ConflictEntry
    from workstation.local_statistics import LocalFigures
    from workstation.statistics_export import ExportFormat

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=OFFICE_ZONE)
SIZE = (140, 60)


def live_office() -> LiveOffice:
    return LiveOffice(
        office_id="ba",
        at=NOW,
        target_minutes=15,
        waiting_total=3,
        services=[
            ServiceWaiting(
                service_id="s1",
                name="Personalausweis",
                waiting=2,
                longest_wait_seconds=1200,
                level="over_target",
            ),
            ServiceWaiting(
                service_id="s2", name="Meldebescheinigung", waiting=1, longest_wait_seconds=120, level="ok"
            ),
        ],
        desks=[
            DeskActivity(
                desk_id="d1",
                name="Platz 1",
                activity="serving",
                since=NOW.replace(minute=21),
                ticket_number="A105",
                clerk_id="c1",
                logged_in_since=NOW.replace(hour=7, minute=55),
            ),
            DeskActivity(
                desk_id="d2",
                name="Platz 2",
                activity="idle",
                since=NOW.replace(minute=14),
                ticket_number=None,
                clerk_id=None,
            ),
        ],
        estimated_walk_in_wait_seconds=900,
        alerts=[
            Alert(
                kind="desk_idle_while_waiting",
                subject_id="d2",
                message=MSG_DESK_IDLE,
                params={"desk": "Platz 2", "waiting": "3"},
            )
        ],
    )


def day_report(day: date) -> DayReport:
    return DayReport(
        office_id="ba",
        office_name="Bürgeramt",
        names={
            "d1": "Platz 1",
            "d2": "Platz 2",
            "s1": "Personalausweis",
            "s2": "Meldebescheinigung",
            "c1": "Frau A",
            "c2": "Herr B",
        },
        day=DayFiguresOut.of(day_figures(fold_events(HAND_BUILT_DAY), day, target_minutes=15)),
        same_weekday_last_week=DayFiguresOut.of(day_figures([], date(2026, 2, 23), target_minutes=15)),
    )


class FakePort:
    def __init__(self) -> None:
        self.days: list[date] = []
        self.offline = False

    def today(self) -> date:
        return DAY

    def load_live(self) -> LiveOffice:
        if self.offline:
            raise StatisticsUnavailable(MSG_OFFLINE)
        return live_office()

    def load_conflicts(self) -> list[ConflictEntry]:
        return []

    def resolve_conflict(self, entry: ConflictEntry, note: str = "") -> ConflictEntry:
        raise AssertionError(f"nothing to resolve here: {entry} {note}")

    def load_local_live(self) -> LocalFigures[LiveOffice]:
        raise StatisticsUnavailable(MSG_NO_LOCAL_OFFICE)

    def load_local_day(self, day: date) -> LocalFigures[DayReport]:
        raise StatisticsUnavailable(MSG_NO_LOCAL_OFFICE, {"day": day.isoformat()})

    def export_day(self, report: DayReport, fmt: ExportFormat) -> Path:
        raise AssertionError(f"no export here: {report.office_id} {fmt}")

    def load_day(self, day: date) -> DayReport:
        self.days.append(day)
        if day != DAY:
            raise StatisticsUnavailable(MSG_NO_DATA, {"date": f"{day:%d.%m.%Y}"})
        return day_report(day)


class Host(App[object]):  # Pilot[object], as settle() takes it
    def __init__(self, port: FakePort) -> None:
        super().__init__()
        self.port = port

    def on_mount(self) -> None:
        self.push_screen(SupervisorScreen(self.port))


def cells(table: DataTable[object]) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


async def test_the_live_tab_shows_waiting_desks_and_alerts() -> None:
    app = Host(FakePort())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SupervisorScreen)
        summary = str(screen.query_one("#live-summary", Static).render())
        assert summary == "Stand 09:30: 3 wartend · Wartezeit ohne Termin etwa 15 min · Ziel 15 min"
        assert cells(screen.query_one("#live-services", DataTable)) == [
            ["Personalausweis", "2", "20 min"],
            ["Meldebescheinigung", "1", "2 min"],
        ]
        longest = screen.query_one("#live-services", DataTable).get_row_at(0)[2]
        assert "red" in str(longest.style)  # over the target: coloured
        assert cells(screen.query_one("#live-desks", DataTable)) == [
            ["Platz 1", "bedient", "09:21", "A105", "07:55"],
            ["Platz 2", "frei", "09:14", "–", "–"],
        ]
        assert "Platz 2 ist frei, während 3 warten" in str(screen.query_one("#live-alerts", Static).render())


async def test_the_day_tab_shows_the_figures_chart_and_tables() -> None:
    app = Host(FakePort())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SupervisorScreen)
        screen.query_one("#supervisor-tabs", TabbedContent).active = "tab-day"
        await settle(pilot)
        kpis = {row[0]: row[1:] for row in cells(screen.query_one("#day-kpis", DataTable))}
        # the hand-built day of tests/sync/test_statistics.py, worked out by hand there
        assert kpis["Tickets"] == ["6", "2", "4", "0"]
        assert kpis["Wartezeit Ø"] == ["14,5 min", "11,5 min", "17,5 min", "–"]
        assert kpis["Servicelevel"][0] == "75 %"
        chart = str(screen.query_one("#day-bars", Static).render()).splitlines()
        # 08: 4 arrived, 3 served, mean wait of W1 10, W2 25, A1 13 min; 09: 2 arrived, none served, A2 10
        assert chart == [
            "08 " + "█" * 40 + "   4 /   3  Ø 16 min",
            "09 " + "█" * 20 + " " * 20 + "   2 /   0  Ø 10 min",
        ]
        # served in blue over the arrivals in grey, both from zero
        assert screen.report is not None
        bars = hour_bars(screen.report.day.figures())
        assert [(span.start, span.end, str(span.style)) for span in bars.spans][:2] == [
            (3, 33, "blue"),
            (33, 43, "grey50"),
        ]
        desks = cells(screen.query_one("#day-desks", DataTable))
        assert desks[0] == ["Platz 1", "2", "10 min", "12 min", "24 min", "–"]  # no login recorded
        assert [row[0] for row in cells(screen.query_one("#day-clerks", DataTable))] == ["Frau A", "Herr B"]


async def test_another_date_without_data_says_so_and_clears_the_tables() -> None:
    port = FakePort()
    app = Host(port)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one("#supervisor-tabs", TabbedContent).active = "tab-day"
        field = screen.query_one("#day-date", Input)
        field.value = "09.03.2026"
        field.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert port.days[-1] == date(2026, 3, 9)
        assert (
            str(screen.query_one("#day-message", Static).render())
            == "Für den 09.03.2026 liegen keine Zahlen vor."
        )
        assert screen.query_one("#day-kpis", DataTable).row_count == 0
        field.value = "kein Datum"
        await pilot.press("enter")
        await settle(pilot)
        assert "TT.MM.JJJJ" in str(screen.query_one("#day-message", Static).render())
        assert port.days[-1] == date(2026, 3, 9)  # nothing loaded for a wrong date


async def test_offline_the_live_tab_says_so_and_f5_reloads() -> None:
    port = FakePort()
    port.offline = True
    app = Host(port)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert (
            str(screen.query_one("#live-summary", Static).render())
            == "Dieser Arbeitsplatz kennt das Amt noch nicht (noch nie mit der Zentrale abgeglichen)."
        )
        assert screen.query_one("#live-desks", DataTable).row_count == 0
        port.offline = False
        await pilot.press("f5")
        await settle(pilot)
        assert screen.query_one("#live-desks", DataTable).row_count == 2


async def test_strg_o_opens_the_overview_for_a_supervisor_only(tmp_path: Path) -> None:
    from dataclasses import replace

    from screens.app import TresenApp
    from tests.ui.support import NOW, filled_store, make_counter
    from workstation.login import Workplace

    desk = filled_store(tmp_path / "tresen.sqlite3")
    clerk_desk = Workplace(make_counter(desk), None, "Schalter 1 · Test", supervisor=False)
    for workplace, opens in ((clerk_desk, False), (replace(clerk_desk, supervisor=True), True)):
        app = TresenApp(workplace=workplace, now=lambda: NOW, office_overview=FakePort)
        async with app.run_test(size=(160, 50)) as pilot:
            await settle(pilot)
            assert app.check_action("supervisor", ()) is opens
            await pilot.press("ctrl+o")
            await settle(pilot)
            assert isinstance(app.screen, SupervisorScreen) is opens
