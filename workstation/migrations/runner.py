"""Migrating the local store: Alembic configured in code, skipped when the schema is current."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from workstation.migrations import SCHEMA_HEAD

if TYPE_CHECKING:
    from sqlalchemy import Connection

MIGRATIONS_DIR = Path(__file__).parent


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(connection: Connection) -> None:
    """Upgrade on `connection`; reading one row is all it costs when the schema is current."""
    if current_revision(connection) == SCHEMA_HEAD:
        return
    command.upgrade(alembic_config(connection), "head")
