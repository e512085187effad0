"""Back up a central database and put the backup back, on SQLite and on PostgreSQL alike: what an
administrator does when the central host's disk dies (fault test 11)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from tests.central.postgres_server import find_bin_dir


def backup_central(db_url: str, to: Path) -> None:
    """A consistent copy of the running central service's database."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        # SQLite's online backup, so what may still be in the WAL is in it; closed, the copy's own WAL
        # is folded into its file.
        with closing(sqlite3.connect(str(url.database))) as source, closing(sqlite3.connect(to)) as copy:
            source.backup(copy)
        return
    _pg(["pg_dump", "--format=custom", f"--file={to}", *_pg_target(db_url)])


def restore_central(db_url: str, backup: Path) -> None:
    """The database replaced by `backup`; the central service must be stopped."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        database = Path(str(url.database))
        for suffix in ("-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        shutil.copy(backup, database)
        return
    admin = f"host={url.host} port={url.port} user={url.username} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{url.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{url.database}" TEMPLATE template0')
    _pg(["pg_restore", "--exit-on-error", *_pg_target(db_url, flag="--dbname="), str(backup)])


def _pg_target(db_url: str, flag: str = "--dbname=") -> list[str]:
    url = make_url(db_url)
    return [f"--host={url.host}", f"--port={url.port}", f"--username={url.username}", f"{flag}{url.database}"]


def _pg(command: list[str]) -> None:
    tool = find_bin_dir() / command[0]
    subprocess.run([str(tool), *command[1:]], check=True, capture_output=True, timeout=120)
