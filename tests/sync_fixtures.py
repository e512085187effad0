"""Fixtures shared by the sync and fault tests (registered in tests/conftest.py): a real local store
in a temp dir and, where needed, a real central service (embedded uvicorn over SQLite) seeded with
the generated day."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from sync.central.embedded import EmbeddedCentral, start_embedded
from sync.central.seed import SeedDay, generate_day
from tests.sync.support import DAY, central_clock, seeded_central_db
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


@pytest.fixture
def central_url(tmp_path: Path, seed_day: SeedDay) -> str:
    """URL of a seeded central database (SQLite) that no server runs yet."""
    return seeded_central_db(tmp_path / "central.sqlite3", seed_day)


@pytest.fixture
def central(central_url: str) -> Iterator[EmbeddedCentral]:
    """A real central service (uvicorn in a thread) over the seeded database."""
    server = start_embedded(central_url, clock=central_clock)
    yield server
    server.stop()
