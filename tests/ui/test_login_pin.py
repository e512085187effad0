"""Issue 8: the login asks for the clerk's PIN, checked by the real central service; a wrong PIN is a
German message and the login comes back, the right one opens the counter; the demo names its PINs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Input, Label, Select, Static

from screens.app import TresenApp
from screens.counter import CounterScreen
from screens.dialogs import MessageDialog
from screens.login import LoginScreen
from sync.central.seed import BUERGERAMT_ID, DEMO_PINS
from tests.credentials import workstation_auth
from tests.sync.support import CLERK, DESK, central_clock
from tests.ui.support import settle
from tresen.desk import engine_factory
from workstation.clerk_login import ClerkLogins, SessionHolder
from workstation.login import DeskLogin

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from sync.central.embedded import EmbeddedCentral
    from workstation.db import LocalStore

SIZE = (160, 50)
WORKSTATION = "ws-pin"


def _login(local_store: LocalStore, central: EmbeddedCentral) -> DeskLogin:
    from sync.client import CentralClient

    holder = SessionHolder()
    auth = workstation_auth(central.store, WORKSTATION, BUERGERAMT_ID, session=holder)
    login = DeskLogin(
        local_store,
        WORKSTATION,
        BUERGERAMT_ID,
        engine_factory(local_store, central.url, 5.0, auth=auth, clock=central_clock),
        clock=central_clock,
        logins=ClerkLogins(local_store, CentralClient(central.url, timeout=15.0, auth=auth), holder),
        pin_hint="Demo-PINs: 1234",
    )
    login.initial_sync()
    return login


async def _try(app: TresenApp, pilot: Pilot[int], pin: str) -> None:
    login = app.screen
    assert isinstance(login, LoginScreen)
    login.query_one("#clerk", Select).value = CLERK
    login.query_one("#desk", Select).value = DESK
    login.query_one("#pin", Input).value = pin
    await pilot.click("#login-button")
    await settle(pilot)


async def test_a_wrong_pin_is_told_and_the_right_one_opens_the_counter(
    local_store: LocalStore, central: EmbeddedCentral
) -> None:
    app = TresenApp(login=_login(local_store, central), now=central_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert str(app.screen.query_one("#pin-hint", Label).render()) == "Demo-PINs: 1234"
        await _try(app, pilot, "0000")
        dialog = app.screen
        assert isinstance(dialog, MessageDialog)
        assert "PIN falsch" in str(dialog.query_one("#message", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.screen.query_one("#pin", Input).value == ""  # never left on the screen
        await _try(app, pilot, DEMO_PINS["clerk"])
        assert isinstance(app.screen, CounterScreen)
        await pilot.press("ctrl+q")
