"""Fixtures shared by the sync and fault tests (registered in tests/conftest.py): a real local store
in a temp dir and, where needed, a real central service (embedded uvicorn) seeded with the
generated day — over SQLite, or over both SQLite and PostgreSQL where a module says
`pytestmark = BOTH_BACKENDS` (the fault tests where the central store matters)."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest

from sync.central.embedded import EmbeddedCentral, start_embedded
from sync.central.seed import SeedDay, generate_day
from tests.central.conftest import MovableClock
from tests.central.postgres_server import PostgresServer, PostgresUnavailable, start_postgres
from tests.services import service_missing
from tests.sync.support import DAY, NOW, central_clock, seeded_central, seeded_central_db
from workstation.db import LocalStore

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def local_store(tmp_path: Path) -> Iterator[LocalStore]:
    store = LocalStore(tmp_path / "tresen.sqlite3")
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture(scope="session")
def seed_day() -> SeedDay:
    return generate_day(DAY, seed=7)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One server per xdist worker, started on first use, stopped at the worker's session end; when it
    cannot start: fails under CI, else skips with the reason."""
    try:
        server = start_postgres()
    except (PostgresUnavailable, OSError, subprocess.SubprocessError) as error:
        service_missing(str(error) or type(error).__name__, "PostgreSQL")
    yield server
    server.stop()


BOTH_BACKENDS = pytest.mark.parametrize(
    "central_backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def central_backend(request: pytest.FixtureRequest) -> str:
    """Which database the central service of `central_url` uses: SQLite unless parametrized."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def central_url(
    tmp_path: Path, seed_day: SeedDay, central_backend: str, request: pytest.FixtureRequest
) -> str:
    """URL of a seeded central database that no server runs yet."""
    if central_backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        return seeded_central(server.create_database(), seed_day)
    return seeded_central_db(tmp_path / "central.sqlite3", seed_day)


@pytest.fixture
def central_time() -> MovableClock:
    """The clock of `served`, which a test moves (lease expiry, the office day)."""
    return MovableClock(NOW)


@pytest.fixture
def served(central_url: str, central_time: MovableClock) -> Iterator[EmbeddedCentral]:
    """A real central service over the seeded database on `central_time`."""
    server = start_embedded(central_url, clock=central_time)
    yield server
    server.stop()


@pytest.fixture
def central(central_url: str) -> Iterator[EmbeddedCentral]:
    """A real central service (uvicorn in a thread) over the seeded database."""
    server = start_embedded(central_url, clock=central_clock)
    yield server
    server.stop()
