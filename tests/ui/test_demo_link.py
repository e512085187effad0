"""The demo's link switch (Strg+T) on the real app, with the demo's own wiring: the central service
seeded around the demo clock, the desk's sync engine behind a `SwitchableTransport`."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from screens.app import TresenApp
from screens.widgets.status_bar import SyncStatusBar
from sync.central.demo_clock import demo_clock
from sync.central.embedded import start_demo_central
from sync.central.seed import BUERGERAMT_ID
from sync.client import SwitchableTransport
from tests.credentials import workstation_auth
from tests.ui.support import settle, wait_until
from tresen.desk import engine_factory, open_store
from workstation.login import DeskLogin
from workstation.models import OperationStatus, OutboxOperation

if TYPE_CHECKING:
    from pathlib import Path

SIZE = (160, 50)


async def test_strg_t_cuts_the_link_the_desk_works_on_and_restoring_pushes_the_work(tmp_path: Path) -> None:
    clock = demo_clock(time(10, 30), real=lambda: datetime.now(UTC))
    central, day = start_demo_central(f"sqlite:///{tmp_path / 'central.sqlite3'}", clock=clock, seed=1)
    link = SwitchableTransport()
    store = open_store(tmp_path / "tresen.sqlite3")
    try:
        login = DeskLogin(
            store,
            "ws-demo-test",
            BUERGERAMT_ID,
            engine_factory(
                store,
                central.url,
                5.0,
                auth=workstation_auth(central.store, "ws-demo-test", BUERGERAMT_ID),
                transport=link,
                clock=clock,
            ),
            clock=clock,
        )
        login.initial_sync()
        desk = next(d for d in day.desks if d.office_id == BUERGERAMT_ID)
        clerk = next(c for c in day.clerks if c.office_id == BUERGERAMT_ID)
        app = TresenApp(
            workplace=login.open(clerk.id, desk.id), now=clock, link=link, sync_interval=0.2, long_poll=0.5
        )

        def bar() -> str:
            return str(app.screen.query_one(SyncStatusBar).content)

        def pending() -> int:
            with store.session() as session:
                return (
                    session.scalar(
                        select(func.count())
                        .select_from(OutboxOperation)
                        .where(OutboxOperation.status == OperationStatus.PENDING)
                    )
                    or 0
                )

        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: "online" in bar(), "the desk is online")
            await pilot.press("ctrl+t")
            await wait_until(pilot, lambda: "offline" in bar(), "the cut link shows as offline")
            assert link.is_cut
            await pilot.press("f2")  # served from the local queue while the link is cut
            await settle(pilot)
            assert pending() == 1
            await pilot.press("ctrl+t")
            await wait_until(pilot, lambda: "online" in bar() and pending() == 0, "the call is pushed")
            assert not link.is_cut
    finally:
        store.dispose()
        central.stop()
        link.close()


async def test_strg_t_is_no_action_outside_the_demo(tmp_path: Path) -> None:
    from tests.ui.support import filled_store, make_app

    app = make_app(filled_store(tmp_path / "tresen.sqlite3"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.check_action("toggle_link", ()) is False
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert "Verbindung trennen/wiederherstellen" not in titles
