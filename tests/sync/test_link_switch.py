"""Cutting and restoring the link to the central service (the demo's "Verbindung trennen"), against
the real central service: the client and the sync engine see a real outage, the service keeps
running for everyone else, and what was done offline is pushed once the link is back."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy import select

from sync.central.credentials import TokenKind
from sync.central.seed import BUERGERAMT_ID, SeedDay
from sync.client import MSG_UNREACHABLE, CentralClient, CentralError, SwitchableTransport
from sync.protocol import API_PREFIX, ChangesPage
from tests.credentials import bearer, workstation_auth
from tests.sync.support import CLERK, DESK
from workstation.commands import DeskContext
from workstation.counter import Counter
from workstation.models import OperationStatus, OutboxOperation, Ticket, TicketState
from workstation.sync_engine import SyncEngine

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sync.central.embedded import EmbeddedCentral
    from workstation.db import LocalStore

CTX = DeskContext(workstation_id="ws-link", office_id=BUERGERAMT_ID, desk_id=DESK, clerk_id=CLERK)


class WatchedNetwork(httpx.BaseTransport):
    """The real network, telling the test when a request has gone out (to cut the link mid-way)."""

    def __init__(self) -> None:
        self._real = httpx.HTTPTransport()
        self.sent = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.set()
        return self._real.handle_request(request)

    def close(self) -> None:
        self._real.close()


@pytest.fixture
def link() -> Iterator[SwitchableTransport]:
    switch = SwitchableTransport()
    yield switch
    switch.close()


@pytest.fixture
def client(central: EmbeddedCentral, link: SwitchableTransport) -> Iterator[CentralClient]:
    auth = workstation_auth(central.store, CTX.workstation_id, BUERGERAMT_ID)
    with CentralClient(central.url, timeout=15.0, transport=link, auth=auth) as central_client:
        yield central_client


def is_cut(link: SwitchableTransport) -> bool:
    """`link.is_cut`, read through a call: mypy would keep an assert's narrowing of the property
    across the `cut()` or `restore()` that changes it."""
    return link.is_cut


def test_a_cut_link_fails_like_an_outage_while_the_service_keeps_serving_others(
    client: CentralClient, link: SwitchableTransport, central: EmbeddedCentral
) -> None:
    assert client.health().status == "ok"
    assert not is_cut(link)
    link.cut()
    assert is_cut(link)
    with pytest.raises(CentralError) as failed:
        client.health()
    assert failed.value.user_message == MSG_UNREACHABLE
    assert failed.value.retryable
    assert "ConnectError" in failed.value.log_message
    other_auth = workstation_auth(central.store, "ws-other", BUERGERAMT_ID)
    with CentralClient(central.url, timeout=15.0, auth=other_auth) as other:  # another workstation's own link
        assert other.health().status == "ok"
    link.restore()
    assert not is_cut(link)
    assert client.health().status == "ok"


def test_toggle_says_whether_the_link_works_afterwards(link: SwitchableTransport) -> None:
    assert link.toggle() is False
    assert is_cut(link)
    assert link.toggle() is True
    assert not is_cut(link)


def test_an_answer_on_its_way_when_the_link_is_cut_is_lost(
    central: EmbeddedCentral, seed_day: SeedDay
) -> None:
    network = WatchedNetwork()
    link = SwitchableTransport(network)
    outcome: list[ChangesPage | CentralError] = []
    auth = workstation_auth(central.store, CTX.workstation_id, BUERGERAMT_ID)
    with CentralClient(central.url, timeout=15.0, transport=link, auth=auth) as client:
        cursor = _pull_everything(client, CTX.workstation_id)[-1].cursor
        network.sent.clear()

        def long_poll() -> None:
            try:
                outcome.append(client.changes(BUERGERAMT_ID, CTX.workstation_id, cursor, wait=20.0))
            except CentralError as error:
                outcome.append(error)

        poller = threading.Thread(target=long_poll)
        poller.start()
        assert network.sent.wait(timeout=10)  # the long poll is out, waiting at the central service
        link.cut()
        # A kiosk elsewhere issues a number: the central service answers the long poll at once.
        service = next(d for d in seed_day.desks if d.id == DESK).service_ids[0]
        kiosk = httpx.post(
            f"{central.url}{API_PREFIX}/tickets",
            json={"office_id": BUERGERAMT_ID, "service_ids": [service], "priority": 0},
            headers=bearer(central.store, TokenKind.KIOSK, BUERGERAMT_ID),
            timeout=5.0,
        )
        assert kiosk.status_code == 201
        poller.join(timeout=15)
        assert not poller.is_alive()
    [result] = outcome
    assert isinstance(result, CentralError)
    assert result.user_message == MSG_UNREACHABLE
    assert "ReadError" in result.log_message
    link.close()


def test_the_sync_engine_goes_offline_when_cut_and_pushes_after_restore(
    local_store: LocalStore,
    client: CentralClient,
    link: SwitchableTransport,
    seed_day: SeedDay,
    central: EmbeddedCentral,
) -> None:
    engine = SyncEngine(local_store, client, CTX)
    assert engine.sync_once().online
    assert engine.is_online
    counter = Counter(local_store, CTX, remote=engine)
    service = next(d for d in seed_day.desks if d.id == DESK).service_ids[0]

    link.cut()
    issued = counter.issue_walk_in([service], 0)
    offline = engine.sync_once()
    assert not offline.online
    assert offline.error_de == MSG_UNREACHABLE
    status = engine.status()
    assert not status.online
    assert status.pending_operations == 1
    assert status.last_error_de == MSG_UNREACHABLE
    # F2 does not wait for the link: the local queue decides, as in a real outage.
    called = counter.call_next()
    assert called is not None
    assert engine.status().pending_operations == 2
    assert not engine.push_pending().online

    link.restore()
    back = engine.sync_once()
    assert back.online
    assert back.pushed == 2
    assert back.rejected == 0
    assert engine.status().pending_operations == 0
    assert engine.is_online
    with local_store.session() as session:
        assert session.get_one(Ticket, called.ticket_id).state == TicketState.CALLED
        statuses = set(session.scalars(select(OutboxOperation.status)))
    assert statuses == {OperationStatus.APPLIED}
    # The central service has the offline work: another workstation sees the number issued offline.
    with CentralClient(
        client.base_url, timeout=15.0, auth=workstation_auth(central.store, "ws-observer", BUERGERAMT_ID)
    ) as other:
        pages = _pull_everything(other, "ws-observer")
    assert issued.ticket_id in {ticket.id for page in pages for ticket in page.tickets}
    assert {ticket.state for page in pages for ticket in page.tickets if ticket.id == called.ticket_id} == {
        "called"
    }


def _pull_everything(client: CentralClient, workstation_id: str) -> list[ChangesPage]:
    pages: list[ChangesPage] = []
    cursor = 0
    while True:
        page = client.changes(BUERGERAMT_ID, workstation_id, cursor, limit=1000)
        pages.append(page)
        if not page.has_more:
            return pages
        cursor = page.cursor
