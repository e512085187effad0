"""The supervisor screen as production runs it: the App (Strg+O for a supervisor), the real port
(`OfficeOverview`) over a real `StatisticsClient` whose HTTP answers come from an in-process
transport, the real local store. F6/F7 save the day shown; offline the local store's figures."""

from __future__ import annotations

import csv
import errno
import io
import stat
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy import func, select
from textual.widgets import DataTable, Static, TabbedContent

from forms.daily_report import GermanCsv
from screens.app import TresenApp
from screens.dialogs import MessageDialog
from screens.supervisor import SupervisorScreen
from sync.central.statistics_api import DayFiguresOut, DayReport
from sync.central.statistics_client import StatisticsClient
from sync.clock import OFFICE_ZONE, office_day_bounds
from sync.statistics import day_figures, fold_events
from tests.forms.pdftools import pdf_text
from tests.sync.statistics_days import DAY
from tests.sync.test_statistics import HAND_BUILT_DAY, HAND_BUILT_LOGINS
from tests.ui.support import NOW, WORKSTATION, Desk, filled_store, make_counter, settle
from tests.ui.test_supervisor import live_office
from workstation.config import StatisticsSettings
from workstation.login import Workplace
from workstation.models import SyncState, Ticket
from workstation.office_overview import OfficeOverview

if TYPE_CHECKING:
    from pathlib import Path

SIZE = (160, 60)
MADE = datetime(2026, 3, 2, 16, 5, 9, tzinfo=UTC)  # when the report is made: 17:05:09 in Berlin


def report_with_logins() -> DayReport:
    """The hand-built day of tests/sync/test_statistics.py with its logins (d1 idle 64 min by hand)."""
    figures = day_figures(
        fold_events(HAND_BUILT_DAY), DAY, target_minutes=15, presence=HAND_BUILT_LOGINS, now=MADE
    )
    return DayReport(
        office_id="ba",
        office_name="Bürgeramt Mitte",
        names={"d1": "Platz 1", "d2": "Platz 2", "d3": "Platz 3", "s1": "Personalausweis"},
        day=DayFiguresOut.of(figures),
        same_weekday_last_week=DayFiguresOut.of(day_figures([], DAY.replace(day=23, month=2))),
    )


class Central:
    """The central service's statistics answers, or no answer at all (`down`)."""

    def __init__(self) -> None:
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        path = request.url.path
        if path.endswith("/live"):
            return httpx.Response(200, json=live_office().model_dump(mode="json"))
        if path.endswith("/days/2026-03-02"):
            return httpx.Response(200, json=report_with_logins().model_dump(mode="json"))
        if path.endswith("/conflicts"):
            return httpx.Response(200, json=[])
        return httpx.Response(404, json={"detail": {"reason": "no", "message": "Nichts.", "params": {}}})


def overview(desk: Desk, central: Central, settings: StatisticsSettings) -> OfficeOverview:
    client = httpx.Client(base_url="http://central.test", transport=httpx.MockTransport(central))
    return OfficeOverview(
        StatisticsClient(client, "ba", clock=lambda: NOW),
        desk.store,
        workstation_id=WORKSTATION,
        office_id=desk.ctx.office_id,
        settings=settings,
        clock=lambda: NOW,
        real_clock=lambda: MADE,
    )


def supervisor_app(desk: Desk, port: OfficeOverview) -> TresenApp:
    workplace = Workplace(make_counter(desk), None, "Schalter 1 · Test", supervisor=True)
    return TresenApp(workplace=workplace, now=lambda: NOW, office_overview=lambda: port)


async def open_day_tab(app: TresenApp, pilot: object) -> SupervisorScreen:
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    await settle(pilot)
    await pilot.press("ctrl+o")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, SupervisorScreen)
    screen.query_one("#supervisor-tabs", TabbedContent).active = "tab-day"
    await settle(pilot)
    return screen


def notifications(app: TresenApp) -> list[str]:
    return [notification.message for notification in app._notifications]


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return filled_store(tmp_path / "tresen.sqlite3")


@pytest.mark.poppler
async def test_f6_and_f7_save_the_day_shown_as_pdf_and_german_csv(desk: Desk, tmp_path: Path) -> None:
    folder = tmp_path / "Tresen" / "Berichte"  # the default folder is made when missing
    app = supervisor_app(desk, overview(desk, Central(), StatisticsSettings(folder, create_export_dir=True)))
    async with app.run_test(size=SIZE) as pilot:
        await open_day_tab(app, pilot)
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        saved = notifications(app)
    pdf, csv_file = (
        folder / "Tagesbericht_ba_2026-03-02_170509.pdf",
        folder / "Tagesbericht_ba_2026-03-02_170509.csv",
    )
    assert saved == [f"Tagesbericht (PDF) gespeichert: {pdf}", f"Tagesbericht (CSV) gespeichert: {csv_file}"]
    assert sorted(p.name for p in folder.iterdir()) == [csv_file.name, pdf.name]
    for path in (pdf, csv_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = pdf_text(pdf)
    assert "Tagesbericht 02.03.2026" in text
    assert "Bürgeramt Mitte" in text
    rows = list(csv.DictReader(io.StringIO(csv_file.read_bytes().decode("utf-8-sig")), dialect=GermanCsv))
    total = rows[0]
    assert (total["Datum"], total["Bereich"], total["Tickets"], total["Servicelevel (%)"]) == (
        "02.03.2026",
        "Tag",
        "6",
        "75,0",
    )
    by_desk = {row["Schlüssel"]: row for row in rows if row["Bereich"] == "Platz"}
    # idle by hand (tests/sync/test_statistics.py): d1 90 − 2 − 24, d2 50 − 2 − 17, d3 30 + 45 … to 17:05
    assert (by_desk["d1"]["Leerlauf (min)"], by_desk["d2"]["Leerlauf (min)"]) == ("64,0", "31,0")
    assert by_desk["d3"]["Name"] == "Platz 3"


async def test_the_export_keys_belong_to_the_day_tab(desk: Desk, tmp_path: Path) -> None:
    folder = tmp_path / "berichte"
    folder.mkdir()
    app = supervisor_app(desk, overview(desk, Central(), StatisticsSettings(folder, create_export_dir=False)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SupervisorScreen)
        assert screen.check_action("export_pdf", ()) is False  # on the live tab
        await pilot.press("f6")
        await settle(pilot)
        assert list(folder.iterdir()) == []
        assert exports(screen) == set()  # not in the footer nor the help there
        screen.query_one("#supervisor-tabs", TabbedContent).active = "tab-day"
        await settle(pilot)
        assert exports(screen) == {("f6", "export_pdf"), ("f7", "export_csv")}


def exports(screen: SupervisorScreen) -> set[tuple[str, str]]:
    return {
        (b.binding.key, b.binding.action)
        for b in screen.active_bindings.values()
        if b.binding.action.startswith("export")
    }


async def test_a_missing_configured_folder_is_a_german_dialog_and_no_file(desk: Desk, tmp_path: Path) -> None:
    folder = tmp_path / "nicht-eingehaengt"  # a configured folder is not made: a share may be missing
    app = supervisor_app(desk, overview(desk, Central(), StatisticsSettings(folder, create_export_dir=False)))
    async with app.run_test(size=SIZE) as pilot:
        await open_day_tab(app, pilot)
        await pilot.press("f7")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, MessageDialog)
        message = str(dialog.query_one("#message", Static).content)
    assert message.startswith(f"Den Ordner {folder} für Berichte gibt es nicht.")
    assert "[statistics] export_dir" in message
    assert not folder.exists()


async def test_a_full_disk_is_a_german_dialog_and_leaves_no_half_file(
    desk: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    def disk_full(_descriptor: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)  # where a full disk shows with delayed allocation
    folder = tmp_path / "berichte"
    folder.mkdir()
    app = supervisor_app(desk, overview(desk, Central(), StatisticsSettings(folder, create_export_dir=False)))
    async with app.run_test(size=SIZE) as pilot:
        await open_day_tab(app, pilot)
        await pilot.press("f6")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, MessageDialog)
        message = str(dialog.query_one("#message", Static).content)
    assert message == f"Der Speicherplatz in {folder} ist voll; der Bericht wurde nicht gespeichert."
    assert list(folder.iterdir()) == []


async def test_offline_the_screen_shows_the_local_store_marked_and_exports_nothing(
    desk: Desk, tmp_path: Path
) -> None:
    central = Central()
    central.down = True
    folder = tmp_path / "berichte"
    with desk.store.write() as session:  # the last pull: 09:12 in Berlin
        state = session.get(SyncState, WORKSTATION)
        assert state is not None
        state.last_pull_at = datetime(2026, 3, 2, 9, 12, tzinfo=OFFICE_ZONE)
    start, end = office_day_bounds(DAY)
    with desk.store.session() as session:  # counted here, not by the code under test
        tickets = session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.issued_at >= start, Ticket.issued_at < end)
        )
        waiting = session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.state == "waiting", Ticket.issued_at >= start)
        )
    app = supervisor_app(desk, overview(desk, central, StatisticsSettings(folder, create_export_dir=True)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SupervisorScreen)
        live = str(screen.query_one("#live-summary", Static).render()).splitlines()
        assert live[0] == "Offline – nur lokal bekannte Daten, Stand 09:12"
        assert live[1].startswith(f"Stand 09:30: {waiting} wartend")
        assert screen.query_one("#live-desks", DataTable).row_count > 0
        screen.query_one("#supervisor-tabs", TabbedContent).active = "tab-day"
        await settle(pilot)
        message = str(screen.query_one("#day-message", Static).render()).splitlines()
        assert message[0] == "Offline – nur lokal bekannte Daten, Stand 09:12"
        kpis = {
            row[0]: [str(c) for c in row[1:]]
            for row in map(
                screen.query_one("#day-kpis", DataTable).get_row_at,
                range(screen.query_one("#day-kpis", DataTable).row_count),
            )
        }
        assert kpis["Tickets"][0] == str(tickets)
        await pilot.press("f6")
        await settle(pilot)
        assert any("kein Tagesbericht gespeichert" in text for text in notifications(app))
        assert not folder.exists()
        central.down = False  # back: F5 shows the central service's figures, unmarked
        await pilot.press("f5")
        await settle(pilot)
        assert (
            str(screen.query_one("#day-message", Static).render()) == "02.03.2026, verglichen mit 23.02.2026"
        )


def test_the_same_bytes_as_tresen_stats(desk: Desk) -> None:
    """The screen's export is `tresen stats`' export: one function makes both."""
    from tresen.stats import export_day

    client = httpx.Client(base_url="http://central.test", transport=httpx.MockTransport(Central()))
    from_cli = export_day(client, "ba", DAY, "csv", clock=lambda: MADE)
    port = overview(desk, Central(), replace(StatisticsSettings(), create_export_dir=False))
    from workstation.statistics_export import ExportFormat, daily_report_bytes

    assert daily_report_bytes(port.load_day(DAY), ExportFormat.CSV, MADE) == from_cli
