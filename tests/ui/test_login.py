"""Login at a desk through the real `DeskLogin` of the CLI on a filled local store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from textual.widgets import Select, Static

from screens.app import TresenApp
from screens.counter import CounterScreen
from screens.dialogs import MessageDialog
from screens.login import LoginScreen
from tests.ui.support import NOW, Desk, filled_store, settle
from workstation.login import DeskLogin
from workstation.models import Clerk

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

SIZE = (160, 50)


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return filled_store(tmp_path / "tresen.sqlite3")


def desk_login(desk: Desk) -> DeskLogin:
    return DeskLogin(desk.store, desk.ctx.workstation_id, desk.ctx.office_id)


async def log_in(pilot: Pilot[int], desk: Desk) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, LoginScreen)
    screen.query_one("#clerk", Select).value = desk.ctx.clerk_id
    screen.query_one("#desk", Select).value = desk.ctx.desk_id
    await pilot.click("#login-button")
    await settle(pilot)


async def test_login_opens_the_counter(desk: Desk) -> None:
    app = TresenApp(login=desk_login(desk), now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await log_in(pilot, desk)
        assert isinstance(app.screen, CounterScreen)


async def test_a_desk_that_cannot_be_opened_returns_to_the_login_with_the_message(desk: Desk) -> None:
    app = TresenApp(login=desk_login(desk), now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        with desk.store.write() as session:  # the clerk left the office between the list and the click
            clerk = session.get(Clerk, desk.ctx.clerk_id)
            session.delete(clerk)
        await log_in(pilot, desk)
        dialog = app.screen
        assert isinstance(dialog, MessageDialog)
        assert "ist nicht bekannt" in str(dialog.query_one("#message", Static).render())
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)  # not an empty screen: the clerk can choose again
