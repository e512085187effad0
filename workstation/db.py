"""The workstation's local SQLite store: engine, sessions, migrations, and German errors.

SQLite in WAL mode with `synchronous=FULL` (a committed outbox operation survives a power cut),
foreign keys on, and a busy timeout so the sync worker and the clerk's actions wait for each other
instead of failing. Two kinds of session:

- `session()`: reads, and writes by the sync engine; pysqlite begins the transaction at the first
  write, so reads never hold the writer lock;
- `write()`: a clerk's command; `BEGIN IMMEDIATE` takes the writer lock before the first read, so a
  command's read-check-write (e.g. the next outbox sequence number) cannot interleave with another.

Every database failure leaves this module as `LocalStoreError` with a German `user_message`.

The file and SQLite's -wal and -shm beside it are 0600 (`workstation.private_files`): the store is
created private before SQLite first opens it, and SQLite gives its -wal and -shm the mode of the
database file. Not the umask: it is per process, and the sync worker's and the UI's threads create
files of their own at the same time.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from workstation.errors import LocalStoreError
from workstation.i18n import _
from workstation.migrations import SCHEMA_HEAD
from workstation.private_files import private_file, private_if_present

if TYPE_CHECKING:
    from collections.abc import Iterator

    from workstation.store_instance import InstanceCheck

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000


class LocalStore:
    """One local database file. Thread-safe: every unit of work opens its own session."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self.engine = self._engine(immediate=False)
        self.write_engine = self._engine(immediate=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)
        # Which instance the file is at its place, found when it was opened for a desk
        # (`workstation.store_instance.check_instance`); None: not checked, never taken for a copy.
        self.instance: InstanceCheck | None = None

    def _engine(self, *, immediate: bool) -> Engine:
        engine = create_engine(f"sqlite:///{self.path}")
        busy_timeout = self.busy_timeout_ms
        path = self.path

        @event.listens_for(engine, "do_connect")
        def _private_store(_dialect: Any, _record: Any, _cargs: Any, _cparams: Any) -> None:
            create_private(path)  # returns None: SQLAlchemy then connects as usual

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
            if immediate:
                dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(f"PRAGMA busy_timeout={busy_timeout}")
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=FULL")
                cursor.execute("PRAGMA foreign_keys=ON")
            finally:
                cursor.close()
            sidecars_private(path)

        if immediate:

            @event.listens_for(engine, "begin")
            def _begin_immediate(connection: Any) -> None:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    # --- sessions ----------------------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reads (and the sync engine's writes); the caller commits."""
        with self._guard("session"):
            session = self._sessions()
            try:
                yield session
            finally:
                session.close()

    @contextmanager
    def dry_run(self) -> Iterator[Session]:
        """A writer session like `write` whose changes are always rolled back: to see what a
        command would do (the documents a finish would print) without doing it."""
        with self._guard("dry run"):
            session = self._write_sessions()
            try:
                yield session
            finally:
                session.rollback()
                session.close()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session holding the writer lock from its first statement; commits when the block ends
        without an exception, rolls back otherwise."""
        with self._guard("write"):
            session = self._write_sessions()
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except DBAPIError as error:
            raise translate_error(self.path, error, what) from error
        except sqlite3.Error as error:  # raised by the driver outside SQLAlchemy's wrapping
            raise translate_error(self.path, error, what) from error

    # --- schema ------------------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest revision; one small query when it is already there.

        Alembic is imported only for an actual upgrade: loading it costs a few hundred milliseconds
        of every start otherwise."""
        with self._guard("migrate"):
            if self.schema_revision() == SCHEMA_HEAD:
                return
            from workstation.migrations.runner import upgrade_to_head

            with self.engine.begin() as connection:
                upgrade_to_head(connection)

    def schema_revision(self) -> str | None:
        """The Alembic revision the file is at (None: no schema yet, or not one single revision)."""
        with self._guard("schema revision"), self.engine.connect() as connection:
            has_table = connection.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).first()
            if has_table is None:
                return None
            revisions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        return str(revisions[0][0]) if len(revisions) == 1 else None

    def check(self) -> None:
        """Fail with `LocalStoreError` unless the file is a healthy SQLite database."""
        with self._guard("check"), self.engine.connect() as connection:
            result = connection.exec_driver_sql("PRAGMA quick_check").scalar()
            if result != "ok":
                raise LocalStoreError(_corrupt_message(self.path), f"quick_check: {result}")

    def dispose(self) -> None:
        self.engine.dispose()
        self.write_engine.dispose()


def create_private(path: Path) -> None:
    """The store file 0600 before SQLite opens it (an empty file is an empty database).

    Where it cannot be created, SQLite cannot either: it says so in its own words, which
    `translate_error` turns into the German sentence, so the OSError is only logged here."""
    try:
        private_file(path)
    except OSError as error:
        log.warning("local store %s not made private: %s", path, type(error).__name__)


def sidecars_private(path: Path) -> None:
    """The -wal and -shm 0600 where an older Tresen left them 0644 (after a crash they outlive the
    connection). On a store already in WAL mode the pragmas have opened both by now."""
    for suffix in ("-wal", "-shm"):
        try:
            private_if_present(path.with_name(path.name + suffix))
        except OSError as error:  # another owner's file: SQLite will refuse it, in its own words
            log.warning("local store %s%s not made private: %s", path, suffix, type(error).__name__)


def _corrupt_message(path: Path) -> str:
    return _(
        "Die lokale Datenbank {path} ist beschädigt oder keine Tresen-Datenbank. "
        "Bitte die IT informieren; die Daten des Tages liegen auch bei der Zentrale."
    ).format(path=path)


def translate_error(path: Path, error: BaseException, what: str) -> LocalStoreError:
    """Map a database failure to the German sentence the clerk can act on (no personal data)."""
    original = getattr(error, "orig", error)
    text = str(original).lower()
    log.error("local store %s failed (%s): %s", what, type(original).__name__, text.splitlines()[0][:200])
    if "disk is full" in text or getattr(original, "errno", None) == errno.ENOSPC:
        message = _("Der Datenträger ist voll: die Aktion wurde nicht gespeichert. Bitte die IT informieren.")
    elif "not a database" in text or "malformed" in text or "corrupt" in text:
        message = _corrupt_message(path)
    elif "unable to open" in text or "readonly" in text or "read-only" in text or "permission" in text:
        message = _(
            "Die lokale Datenbank {path} kann nicht geöffnet oder beschrieben werden. "
            "Bitte Speicherort und Berechtigungen prüfen."
        ).format(path=path)
    elif "locked" in text or "busy" in text:
        message = _("Die lokale Datenbank ist gerade belegt. Bitte die Aktion wiederholen.")
    else:
        message = _("Die lokale Datenbank meldet einen Fehler; die Aktion wurde nicht gespeichert.")
    return LocalStoreError(message, f"local store {what} failed: {type(original).__name__}")
