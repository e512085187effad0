"""Alembic environment: runs inside `workstation.migrations.runner` on the connection it is given."""

from __future__ import annotations

from alembic import context

from workstation.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through workstation.migrations.runner, which passes a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
