"""Issue 9/12: the supervisor's conflict tab over a real central service: a call another desk's work
made impossible is listed with desk, clerk and reason; Enter and a confirmation mark it dealt with."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from textual.app import App
from textual.widgets import DataTable, Static, TabbedContent

from screens.dialogs import ConfirmDialog
from screens.supervisor import SupervisorPort, SupervisorScreen
from sync.central.seed import BUERGERAMT_ID
from sync.central.statistics_client import StatisticsClient
from sync.client import CentralClient
from sync.protocol import Operation, PushRequest
from tests.credentials import clerk_auth, workstation_auth
from tests.sync.support import CLERK, DESK, NOW, central_clock
from tests.ui.support import settle
from workstation.config import StatisticsSettings
from workstation.db import LocalStore
from workstation.office_overview import OfficeOverview

if TYPE_CHECKING:
    from pathlib import Path

    from sync.central.embedded import EmbeddedCentral

SIZE = (160, 50)


class Host(App[object]):
    def __init__(self, port: SupervisorPort) -> None:
        super().__init__()
        self.port = port

    def on_mount(self) -> None:
        self.push_screen(SupervisorScreen(self.port))


def _a_refused_call(central: EmbeddedCentral) -> None:
    auth = workstation_auth(central.store, "ws-desk", BUERGERAMT_ID)
    with CentralClient(central.url, auth=auth) as desk:
        call = Operation(
            op_id="0190f0a0-0000-7000-8000-000000000001",
            seq=1,
            kind="ticket.call",
            args={
                "ticket_id": "gone",
                "desk_id": DESK,
                "clerk_id": CLERK,
                "call_id": "c1",
                "called_at": NOW.isoformat(),
            },
            created_at=NOW,
        )
        answer = desk.push(PushRequest(workstation_id="ws-desk", office_id=BUERGERAMT_ID, operations=[call]))
    assert answer.results[0].status == "rejected"


async def test_the_conflict_tab_lists_and_resolves(central: EmbeddedCentral, tmp_path: Path) -> None:
    _a_refused_call(central)
    auth = clerk_auth(central.store, "ws-lead", BUERGERAMT_ID, f"{BUERGERAMT_ID}-c1")
    with httpx.Client(base_url=central.url, auth=auth, timeout=5.0) as http:
        local = LocalStore(tmp_path / "tresen.sqlite3")
        local.migrate()
        port = OfficeOverview(
            StatisticsClient(http, BUERGERAMT_ID, clock=central_clock),
            local,
            workstation_id="ws-lead",
            office_id=BUERGERAMT_ID,
            settings=StatisticsSettings(tmp_path, create_export_dir=False),
            clock=central_clock,
        )
        app = Host(port)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, SupervisorScreen)
            screen.query_one("#supervisor-tabs", TabbedContent).active = "tab-conflicts"
            await settle(pilot)
            table = screen.query_one("#conflicts", DataTable)
            assert table.row_count == 1
            row = [str(cell) for cell in table.get_row_at(0)]
            assert row[1:6] == [DESK, CLERK, "Aufruf", "gone", "abgelehnt"]
            assert "unknown ticket" in row[6]
            table.focus()
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, SupervisorScreen)
            assert table.row_count == 0
            assert "Keine offenen Konflikte" in str(screen.query_one("#conflicts-message", Static).render())
