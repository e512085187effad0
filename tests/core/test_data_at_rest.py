"""Data at rest on the workstation: the store, its -wal and -shm, and the log are 0600 in 0700 dirs."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from typing import TYPE_CHECKING

import pytest

from tresen.desk import open_store
from tresen.logs import logging_to_file
from workstation.db import LocalStore
from workstation.models import Office

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """The common default umask 022 (files 0644, dirs 0755), so the tests fail unless the code itself
    makes its files private — whatever umask the machine running the tests has."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def write_an_office(store: LocalStore) -> None:
    with store.write() as session:
        session.add(
            Office(
                id="o",
                name="Amt",
                max_calls=3,
                recall_block_minutes=5,
                early_window_minutes=5,
                service_level_minutes=15,
            )
        )


def test_a_new_store_its_wal_and_shm_are_0600_in_a_0700_dir(tmp_path: Path) -> None:
    path = tmp_path / "var" / "tresen" / "tresen.sqlite3"
    store = open_store(path)
    try:
        write_an_office(store)
        # The pooled connections stay open: SQLite keeps the -wal and -shm until the last one closes.
        wal, shm = sidecars(path)
        assert wal.exists()
        assert shm.exists()
        assert mode(path) == 0o600
        assert mode(wal) == 0o600
        assert mode(shm) == 0o600
        assert mode(path.parent) == 0o700
    finally:
        store.dispose()


def test_an_existing_store_and_its_dir_are_tightened(tmp_path: Path) -> None:
    directory = tmp_path / "store"
    directory.mkdir(mode=0o755)
    path = directory / "tresen.sqlite3"
    sqlite3.connect(path).close()  # a store of an older Tresen: 0644
    assert mode(path) == 0o644
    store = open_store(path)
    try:
        assert mode(path) == 0o600
        assert mode(directory) == 0o700
    finally:
        store.dispose()


def test_a_left_over_wal_and_shm_are_tightened_on_connect(tmp_path: Path) -> None:
    path = tmp_path / "tresen.sqlite3"
    older = sqlite3.connect(path)  # held open, as a crashed older Tresen leaves its -wal and -shm
    try:
        older.execute("PRAGMA journal_mode=WAL")
        older.execute("CREATE TABLE t (x)")
        older.commit()
        for sidecar in (path, *sidecars(path)):
            sidecar.chmod(0o644)
        store = LocalStore(path)
        try:
            assert store.schema_revision() is None  # the first connection
            assert [mode(p) for p in (path, *sidecars(path))] == [0o600, 0o600, 0o600]
        finally:
            store.dispose()
    finally:
        older.close()


def test_the_log_file_is_0600_in_a_0700_dir(tmp_path: Path) -> None:
    directory = tmp_path / "log"
    directory.mkdir(mode=0o755)
    path = directory / "tresen.log"
    with logging_to_file(path):
        logging.getLogger("tresen.test").warning("Schalter 3 geöffnet")
        assert mode(path) == 0o600
        assert mode(directory) == 0o700
    assert "Schalter 3 geöffnet" in path.read_text("utf-8")


def test_a_new_log_dir_is_0700(tmp_path: Path) -> None:
    path = tmp_path / "state" / "log" / "tresen.log"
    with logging_to_file(path):
        assert mode(path) == 0o600
        assert mode(path.parent) == 0o700
