"""Fixtures for the central service: the API on SQLite and on a real PostgreSQL server, a seeded day,
a clock the test moves, and a running uvicorn server for tests that need real concurrency."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from sync.central.app import create_app
from sync.central.seed import generate_day, seed_central
from tests.credentials import signed_client, workstation_auth

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from fastapi import FastAPI

    from tests.central.postgres_server import PostgresServer

DAY = date(2026, 3, 2)
OPENING = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 in Berlin
OFFICE = "ba-mitte"
DESK = "ba-mitte-d1"
CLERK = "ba-mitte-c2"
WORKSTATION = "ws-central-test"  # the signed identity of `client`


@dataclass
class MovableClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'central.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(OPENING + timedelta(hours=1))


@pytest.fixture
def central_app(db_url: str, clock: MovableClock) -> FastAPI:
    """The API, seeded with the generated day (150 appointments, 8 waiting walk-ins)."""
    app = create_app(db_url, clock=clock)
    with app.state.store.write() as session:
        seed_central(session, generate_day(DAY, seed=3, now=OPENING + timedelta(minutes=30)))
    return app


@pytest.fixture
def client(central_app: FastAPI) -> Iterator[TestClient]:
    """The API in process, signed as workstation WORKSTATION of OFFICE."""
    auth = workstation_auth(central_app.state.store, WORKSTATION, OFFICE)
    with signed_client(central_app, auth) as test_client:
        yield test_client


@pytest.fixture
def signed_as(central_app: FastAPI, client: TestClient) -> Callable[[str, str], TestClient]:
    """More workstations beside `client` (whose lifespan the app runs in): `signed_as(office, ws)`."""
    del client  # only needed running

    def make(office_id: str, workstation_id: str) -> TestClient:
        return signed_client(
            central_app, workstation_auth(central_app.state.store, workstation_id, office_id)
        )

    return make


@pytest.fixture
def anonymous(central_app: FastAPI, client: TestClient) -> TestClient:
    """The API without any credential."""
    del client  # only needed running
    return TestClient(central_app)
