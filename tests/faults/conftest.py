"""Fixtures for the fault tests: a seeded central service, a fault proxy in front of it, and a
workstation store whose sync engine talks to the central service only through the proxy."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from sync.central.embedded import EmbeddedCentral, start_embedded
from sync.central.seed import BUERGERAMT_ID, SeedDay, generate_day
from sync.client import CentralClient
from tests.faults.proxy import FaultProxy
from tests.sync.support import CLERK, DAY, DESK, central_clock, seeded_central_db
from workstation.commands import DeskContext
from workstation.db import LocalStore
from workstation.sync_engine import SyncEngine

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

WORKSTATION = "ws-fault"
CTX = DeskContext(workstation_id=WORKSTATION, office_id=BUERGERAMT_ID, desk_id=DESK, clerk_id=CLERK)


@pytest.fixture(scope="session")
def seed_day() -> SeedDay:
    return generate_day(DAY, seed=7)


@pytest.fixture
def central_url(tmp_path: Path, seed_day: SeedDay) -> str:
    return seeded_central_db(tmp_path / "central.sqlite3", seed_day)


@pytest.fixture
def central(central_url: str) -> Iterator[EmbeddedCentral]:
    server = start_embedded(central_url, clock=central_clock)
    yield server
    server.stop()


@pytest.fixture
def proxy(central: EmbeddedCentral) -> Iterator[FaultProxy]:
    address = urlsplit(central.url)
    assert address.hostname is not None
    assert address.port is not None
    with FaultProxy(address.hostname, address.port) as faulty:
        yield faulty


@pytest.fixture
def local_store(tmp_path: Path) -> Iterator[LocalStore]:
    store = LocalStore(tmp_path / "tresen.sqlite3")
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def engine(local_store: LocalStore, proxy: FaultProxy) -> Iterator[SyncEngine]:
    client = CentralClient(proxy.url, timeout=2.0)
    yield SyncEngine(local_store, client, CTX, page_limit=200)
    client.close()
