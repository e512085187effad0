"""The local store: pragmas, migrations, and German errors for broken files."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tests.statements import recorded_statements
from workstation.db import LocalStore
from workstation.errors import LocalStoreError
from workstation.migrations import SCHEMA_HEAD
from workstation.migrations.runner import alembic_config, current_revision
from workstation.models import Base

if TYPE_CHECKING:
    from pathlib import Path


def test_pragmas_for_a_durable_outbox(store: LocalStore) -> None:
    for engine in (store.engine, store.write_engine):
        with engine.connect() as connection:

            def pragma(name: str) -> object:
                return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

            assert pragma("journal_mode") == "wal"
            assert pragma("foreign_keys") == 1
            assert pragma("synchronous") == 2  # FULL
            assert pragma("busy_timeout") == 5000


def test_the_migrated_schema_is_the_models_schema(store: LocalStore) -> None:
    with store.engine.connect() as connection:
        assert current_revision(connection) == SCHEMA_HEAD
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_recorded_head_is_the_scripts_head() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == SCHEMA_HEAD


def test_migrate_again_is_cheap_and_keeps_data(store: LocalStore) -> None:
    with store.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO offices (id, name, kind, max_calls, recall_block_minutes, "
            "early_window_minutes, service_level_minutes, version) "
            "VALUES ('o', 'Amt', 'buergeramt', 3, 5, 5, 15, 0)"
        )
    with recorded_statements(store.engine, store.write_engine) as statements:
        store.migrate()
    # Cheap: on a current schema it only reads the revision (no Alembic run, no DDL, no writes).
    assert len(statements) <= 2, statements
    assert all(statement.lstrip().upper().startswith("SELECT") for statement in statements), statements
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT name FROM offices").scalar() == "Amt"


def test_a_corrupt_file_is_a_german_error(tmp_path: Path) -> None:
    path = tmp_path / "tresen.sqlite3"
    path.write_bytes(b"Dies ist keine Datenbank, sondern ein Einkaufszettel.\n" * 200)
    store = LocalStore(path)
    with pytest.raises(LocalStoreError) as failed:
        store.migrate()
    assert "beschädigt" in failed.value.user_message
    assert str(path) in failed.value.user_message
    store.dispose()


def test_a_damaged_database_page_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "tresen.sqlite3"
    store = LocalStore(path)
    store.migrate()
    store.dispose()
    with path.open("r+b") as file:  # the file header survives, the schema's page does not
        file.seek(100)
        file.write(b"\xff" * 2000)
    damaged = LocalStore(path)
    with pytest.raises(LocalStoreError) as failed:  # noqa: PT012  (the check or the migration refuses)
        damaged.check()
        damaged.migrate()
    assert "beschädigt" in failed.value.user_message
    damaged.dispose()


def test_an_unwritable_place_is_a_german_error(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "missing-dir" / "tresen.sqlite3")
    with pytest.raises(LocalStoreError) as failed:
        store.migrate()
    assert "kann nicht geöffnet" in failed.value.user_message
    store.dispose()
