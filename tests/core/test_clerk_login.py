"""Issue 8: a clerk logs in with id and PIN: at the central service while it answers (a session with
the role), offline against the verifier cached at the last online login here, with the same lockout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from sync import pins
from sync.central.seed import BUERGERAMT_ID, DEMO_PINS
from sync.client import CentralClient, CentralError, SwitchableTransport
from tests.credentials import workstation_auth
from workstation.clerk_login import ClerkLogins, SessionHolder
from workstation.errors import CommandRefused
from workstation.models import ClerkVerifier

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sync.central.embedded import EmbeddedCentral
    from workstation.db import LocalStore

CLERK = f"{BUERGERAMT_ID}-c2"
PIN = DEMO_PINS["clerk"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def link() -> Iterator[SwitchableTransport]:
    switch = SwitchableTransport()
    yield switch
    switch.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def logins(
    local_store: LocalStore, central: EmbeddedCentral, link: SwitchableTransport, clock: Clock
) -> Iterator[ClerkLogins]:
    holder = SessionHolder()
    auth = workstation_auth(central.store, "ws-login", BUERGERAMT_ID, session=holder)
    client = CentralClient(central.url, timeout=5.0, transport=link, auth=auth)
    yield ClerkLogins(local_store, client, holder, clock=clock)
    client.close()


def test_online_the_central_service_checks_and_the_verifier_is_cached(
    logins: ClerkLogins, local_store: LocalStore, central: EmbeddedCentral
) -> None:
    with pytest.raises(CommandRefused, match="PIN falsch"):
        logins.log_in(CLERK, "9999")
    assert logins.holder() is None
    assert logins.log_in(CLERK, PIN) is True
    assert logins.holder() is not None
    with local_store.session() as session:
        cached = session.get_one(ClerkVerifier, CLERK)
        assert PIN not in cached.verifier
        assert pins.verify(cached.verifier, PIN)
    ended = logins.holder()
    logins.log_out()
    assert logins.holder() is None
    # The central service ended it: the same session is refused now.
    holder = SessionHolder(ended)
    stale = CentralClient(
        logins.client.base_url,
        auth=workstation_auth(central.store, "ws-login", BUERGERAMT_ID, session=holder),
    )
    with stale, pytest.raises(CentralError) as refused:
        stale.changes(BUERGERAMT_ID, "ws-login", 0, limit=1)
    assert refused.value.status_code == 401


def test_offline_the_cached_verifier_checks_with_the_lockout(
    logins: ClerkLogins, link: SwitchableTransport, clock: Clock
) -> None:
    logins.log_in(CLERK, PIN)
    link.cut()
    assert logins.log_in(CLERK, PIN) is False  # offline: checked here, no session
    assert logins.holder() is None
    for _ in range(pins.MAX_PIN_FAILURES):
        with pytest.raises(CommandRefused, match="PIN falsch"):
            logins.log_in(CLERK, "0000")
    with pytest.raises(CommandRefused, match="gesperrt"):
        logins.log_in(CLERK, PIN)  # the right PIN too, while locked
    clock.now += pins.LOCKOUT + timedelta(seconds=1)
    assert logins.log_in(CLERK, PIN) is False


def test_offline_a_clerk_never_logged_in_here_is_refused_with_a_reason(
    logins: ClerkLogins, link: SwitchableTransport
) -> None:
    link.cut()
    with pytest.raises(CommandRefused, match="noch keine Anmeldung dieser Person"):
        logins.log_in(CLERK, PIN)


def test_a_too_short_pin_is_refused_before_anything_is_asked(logins: ClerkLogins) -> None:
    with pytest.raises(CommandRefused, match="mindestens 4 Zeichen"):
        logins.log_in(CLERK, "12")
