"""`tresen demo` for the supervisor, with the demo's own wiring: the central service seeded around the
demo clock (its morning's cases and logins too), the desk enrolled over HTTP, the supervisor's PIN
login; Strg+O shows the live office and the seeded day, F6/F7 save both files."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from textual.widgets import DataTable, Static, TabbedContent

from forms.daily_report import GermanCsv
from screens.app import TresenApp
from screens.supervisor import SupervisorScreen
from sync.central import store as central_tables
from sync.central.demo_clock import demo_clock
from sync.central.embedded import start_demo_central
from sync.central.seed import BUERGERAMT_ID, DEMO_PINS
from sync.client import SwitchableTransport
from sync.clock import office_day, office_day_bounds
from tests.ui.support import settle
from tresen.demo import enroll_demo_desk
from tresen.desk import engine_factory, office_overview, open_store
from workstation.config import StatisticsSettings
from workstation.login import DeskLogin

if TYPE_CHECKING:
    from pathlib import Path

SIZE = (160, 60)


def rows(table: DataTable[object]) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


async def test_the_demo_supervisor_sees_the_office_and_the_seeded_day_and_saves_both_files(
    tmp_path: Path,
) -> None:
    clock = demo_clock(time(10, 30), real=lambda: datetime.now(UTC))
    central, day = start_demo_central(f"sqlite:///{tmp_path / 'central.sqlite3'}", clock=clock, seed=1)
    link = SwitchableTransport()
    store_path = tmp_path / "tresen.sqlite3"
    store = open_store(store_path)
    folder = tmp_path / "Berichte"
    try:
        access = enroll_demo_desk(central, store_path, tmp_path)
        login = DeskLogin(
            store,
            access.identity.workstation_id,
            BUERGERAMT_ID,
            engine_factory(store, central.url, 5.0, auth=access.auth, transport=link, clock=clock),
            clock=clock,
            logins=access.logins(store, 5.0, transport=link),
        )
        login.initial_sync()
        desk = next(d for d in day.desks if d.office_id == BUERGERAMT_ID)
        lead = next(c for c in day.clerks if c.office_id == BUERGERAMT_ID and c.role == "supervisor")
        workplace = login.open(lead.id, desk.id, DEMO_PINS["supervisor"])
        assert workplace.supervisor
        start, end = office_day_bounds(office_day(clock()))
        with central.store.read() as session:  # counted here, not by the code under test
            tickets = session.scalar(
                select(func.count())
                .select_from(central_tables.Ticket)
                .where(
                    central_tables.Ticket.office_id == BUERGERAMT_ID,
                    central_tables.Ticket.issued_at >= start,
                    central_tables.Ticket.issued_at < end,
                )
            )
        app = TresenApp(
            workplace=workplace,
            now=clock,
            link=link,
            office_overview=office_overview(
                central.url, login, link, access.auth, True, StatisticsSettings(folder)
            ),
        )
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+o")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, SupervisorScreen)
            assert str(screen.query_one("#live-summary", Static).render()).startswith("Stand 10:30:")
            live_desks = rows(screen.query_one("#live-desks", DataTable))
            assert len(live_desks) == len([d for d in day.desks if d.office_id == BUERGERAMT_ID])
            screen.query_one("#supervisor-tabs", TabbedContent).active = "tab-day"
            await settle(pilot)
            kpis = {row[0]: row[1:] for row in rows(screen.query_one("#day-kpis", DataTable))}
            assert kpis["Tickets"][0] == str(tickets)
            assert kpis["Bearbeitungszeit Ø"][0] != "–"  # the seeded morning's cases
            idle = [row[-1] for row in rows(screen.query_one("#day-desks", DataTable))]
            assert idle
            assert all(value != "–" for value in idle)
            await pilot.press("f6")
            await settle(pilot)
            await pilot.press("f7")
            await settle(pilot)
        saved = {path.suffix: path for path in folder.iterdir()}
        assert sorted(saved) == [".csv", ".pdf"]
        assert saved[".pdf"].read_bytes().startswith(b"%PDF-")
        text = saved[".csv"].read_bytes().decode("utf-8-sig")
        table = list(csv.DictReader(io.StringIO(text), dialect=GermanCsv))
        assert table[0]["Tickets"] == str(tickets)
    finally:
        store.dispose()
        central.stop()
        link.close()
