"""Issue 8: a supervisor who logged in while the central service was away (against the cached
verifier) gets a central session once it answers again, so the figures and conflicts work: the
workstation signs the request, and the key it kept sealed under the PIN since the last online login
proves the PIN was known. No PIN is kept; a PIN changed since, or a forged proof, is refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from devices.secret_store import file_backend
from sync.central import credentials
from sync.central.seed import BUERGERAMT_ID, DEMO_PINS
from sync.central.statistics_api import MSG_NOT_SUPERVISOR
from sync.central.statistics_client import StatisticsClient, StatisticsUnavailable
from sync.client import CentralClient, CentralError, SwitchableTransport
from sync.clock import utc_now
from sync.signatures import FileRequestKey, offline_login_proof
from tests.credentials import workstation_auth
from workstation.clerk_login import ClerkLogins, SessionHolder
from workstation.config import StatisticsSettings
from workstation.office_overview import OfficeOverview
from workstation.offline_key import SERVICE, unseal

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from keyring.backend import KeyringBackend

    from sync.central.embedded import EmbeddedCentral
    from workstation.db import LocalStore

SUPERVISOR = f"{BUERGERAMT_ID}-c1"
PIN = DEMO_PINS["supervisor"]
WORKSTATION = "ws-offline"


@pytest.fixture
def link() -> Iterator[SwitchableTransport]:
    switch = SwitchableTransport()
    yield switch
    switch.close()


@pytest.fixture
def secrets(tmp_path: Path) -> KeyringBackend:
    return file_backend(tmp_path / "keyring.cfg")


@pytest.fixture
def logins(
    local_store: LocalStore, central: EmbeddedCentral, link: SwitchableTransport, secrets: KeyringBackend
) -> Iterator[ClerkLogins]:
    holder = SessionHolder()
    auth = workstation_auth(central.store, WORKSTATION, BUERGERAMT_ID, session=holder)
    client = CentralClient(central.url, timeout=5.0, transport=link, auth=auth)
    yield ClerkLogins(local_store, client, holder, workstation_id=WORKSTATION, secrets=secrets)
    client.close()


@pytest.fixture
def overview(
    logins: ClerkLogins, local_store: LocalStore, central: EmbeddedCentral, link: SwitchableTransport
) -> Iterator[OfficeOverview]:
    """The supervisor screen's port as `tresen run` builds it: signed by the workstation, with the
    session the logins hold, and resuming an offline login before each central call."""
    auth = workstation_auth(central.store, WORKSTATION, BUERGERAMT_ID, session=logins.holder)
    http = httpx.Client(base_url=central.url, transport=link, timeout=5.0, auth=auth)
    yield OfficeOverview(
        StatisticsClient(http, BUERGERAMT_ID),
        local_store,
        workstation_id=WORKSTATION,
        office_id=BUERGERAMT_ID,
        settings=StatisticsSettings(),
        resume_session=logins.resume_session,
    )
    http.close()


def _offline_login(logins: ClerkLogins, link: SwitchableTransport) -> None:
    assert logins.log_in(SUPERVISOR, PIN) is True  # online once: the verifier and the sealed key
    logins.log_out()
    link.cut()
    assert logins.log_in(SUPERVISOR, PIN) is False  # the cached verifier checked it
    assert logins.holder() is None


def test_an_offline_supervisor_gets_the_figures_once_the_central_service_is_back(
    logins: ClerkLogins, overview: OfficeOverview, link: SwitchableTransport, secrets: KeyringBackend
) -> None:
    _offline_login(logins, link)
    sealed = secrets.get_password(SERVICE, f"{WORKSTATION}:{SUPERVISOR}")
    assert sealed is not None
    assert PIN not in sealed
    with pytest.raises(StatisticsUnavailable) as away:
        overview.load_live()
    assert away.value.offline
    assert logins.resume_session() is False  # still away: nothing to do yet

    link.restore()
    live = overview.load_live()  # resumes the session first
    assert live.office_id == BUERGERAMT_ID
    assert logins.holder() is not None
    assert overview.load_conflicts() == []
    logins.log_out()
    assert logins.resume_session() is False  # logged out: nothing left to resume


def test_without_resuming_the_supervisor_endpoints_refuse_an_offline_login(
    logins: ClerkLogins, overview: OfficeOverview, link: SwitchableTransport
) -> None:
    """What the resumption is for: the same figures, asked without it, are refused."""
    _offline_login(logins, link)
    link.restore()
    overview.resume_session = None
    with pytest.raises(StatisticsUnavailable) as refused:
        overview.load_live()
    assert refused.value.message == MSG_NOT_SUPERVISOR


def test_a_pin_changed_since_the_offline_key_was_kept_gets_no_session(
    logins: ClerkLogins, central: EmbeddedCentral, link: SwitchableTransport
) -> None:
    _offline_login(logins, link)
    with central.store.write() as session:
        credentials.set_clerk_pin(session, SUPERVISOR, "98765")  # the office changed it meanwhile
    link.restore()
    assert logins.resume_session() is False
    assert logins.holder() is None


def test_a_forged_stale_or_foreign_proof_is_refused(
    logins: ClerkLogins, central: EmbeddedCentral, link: SwitchableTransport, secrets: KeyringBackend
) -> None:
    assert logins.log_in(SUPERVISOR, PIN) is True  # the central service keeps the offline key
    logins.log_out()
    genuine = unseal(secrets, WORKSTATION, SUPERVISOR, PIN)
    assert genuine is not None
    assert unseal(secrets, WORKSTATION, SUPERVISOR, "0000") is None  # only the PIN opens it
    now = int(utc_now().timestamp())
    stale = now - 3600
    cases = {
        "another key": (
            SUPERVISOR,
            now,
            offline_login_proof(FileRequestKey.generate(), WORKSTATION, SUPERVISOR, now),
        ),
        "stale": (SUPERVISOR, stale, offline_login_proof(genuine, WORKSTATION, SUPERVISOR, stale)),
        "another clerk": (
            f"{BUERGERAMT_ID}-c2",
            now,
            offline_login_proof(genuine, WORKSTATION, SUPERVISOR, now),
        ),
        "another time": (SUPERVISOR, now - 1, offline_login_proof(genuine, WORKSTATION, SUPERVISOR, now)),
    }
    for why, (clerk, signed_at, proof) in cases.items():
        with pytest.raises(CentralError) as refused:
            logins.client.resume_offline_session(clerk, signed_at, proof)
        assert refused.value.status_code == 401, why
    # Another workstation of the office sending the genuine key's proof: none is kept for it there.
    other_auth = workstation_auth(central.store, "ws-elsewhere", BUERGERAMT_ID)
    with CentralClient(central.url, timeout=5.0, transport=link, auth=other_auth) as other:
        for made_for in (WORKSTATION, "ws-elsewhere"):
            copied = offline_login_proof(genuine, made_for, SUPERVISOR, now)
            with pytest.raises(CentralError) as refused:
                other.resume_offline_session(SUPERVISOR, now, copied)
            assert refused.value.status_code == 401, made_for
    # And the genuine proof, from its workstation: the supervisor's session.
    opened = logins.client.resume_offline_session(
        SUPERVISOR, now, offline_login_proof(genuine, WORKSTATION, SUPERVISOR, now)
    )
    assert opened.role == "supervisor"
