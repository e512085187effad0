"""A throw-away PostgreSQL for the central-service benches (the tests' own server helper)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.central.postgres_server import PostgresServer


@contextmanager
def postgres_url() -> Iterator[str | None]:
    """The URL of a fresh database on a server started for the bench; None (and a line) without one."""
    with postgres_server() as server:
        yield server.create_database() if server is not None else None


@contextmanager
def postgres_server() -> Iterator[PostgresServer | None]:
    """A server started for the bench; None (and a line) without one."""
    try:
        from tests.central.postgres_server import PostgresUnavailable, start_postgres
    except ImportError:
        yield None
        return
    try:
        server = start_postgres()
    except (PostgresUnavailable, OSError) as error:
        print(f"PostgreSQL: skipped ({error})")
        yield None
        return
    try:
        yield server
    finally:
        server.stop()
