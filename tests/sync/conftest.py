"""Fixtures for the sync tests: a real local store in a temp dir and, where needed, a real central
service (embedded uvicorn over SQLite) seeded with the generated day."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.central.seed import SeedDay, generate_day
from tests.sync.support import DAY, LocalStore


@pytest.fixture
def local_store(tmp_path: Path) -> Iterator[LocalStore]:
    store = LocalStore(tmp_path / "tresen.sqlite3")
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture(scope="session")
def seed_day() -> SeedDay:
    return generate_day(DAY, seed=7)
