"""Alembic migrations of the local store (programmatic configuration, no alembic.ini)."""

# The head revision, here so that a start can compare it with the store's without importing Alembic
# (workstation.db) and the runner can upgrade to it; tests/core/test_start_path.py keeps it equal to
# the head of the migration scripts.
SCHEMA_HEAD = "0008"
