"""Fixtures for the fault tests: a seeded central service, a fault proxy in front of it, and a
workstation store whose sync engine talks to the central service only through the proxy."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from sync.central.seed import BUERGERAMT_ID
from sync.client import CentralClient
from tests.credentials import workstation_auth
from tests.faults.proxy import FaultProxy
from tests.sync.support import CLERK, DESK
from workstation.commands import DeskContext
from workstation.sync_engine import SyncEngine

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sync.central.embedded import EmbeddedCentral
    from workstation.db import LocalStore

WORKSTATION = "ws-fault"
CTX = DeskContext(workstation_id=WORKSTATION, office_id=BUERGERAMT_ID, desk_id=DESK, clerk_id=CLERK)


@pytest.fixture
def proxy(central: EmbeddedCentral) -> Iterator[FaultProxy]:
    address = urlsplit(central.url)
    assert address.hostname is not None
    assert address.port is not None
    with FaultProxy(address.hostname, address.port) as faulty:
        yield faulty


@pytest.fixture
def engine(local_store: LocalStore, central: EmbeddedCentral, proxy: FaultProxy) -> Iterator[SyncEngine]:
    # Generous: the proxy's lost and cut answers end at once (a reset), and no test with this engine
    # is about timeouts; under `-n 4` a first pull of the day once took more than 2 s.
    client = CentralClient(
        proxy.url, timeout=15.0, auth=workstation_auth(central.store, WORKSTATION, BUERGERAMT_ID)
    )
    yield SyncEngine(local_store, client, CTX, page_limit=200)
    client.close()
