"""Alembic migrations of the local store (programmatic configuration, no alembic.ini)."""
