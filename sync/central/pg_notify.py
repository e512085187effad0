"""Change wake-ups across central processes (PostgreSQL): several stateless processes behind one
database each wake their own long polls and waiting-room streams when *any* of them commits.

Every writing transaction that stamps rows also sends `NOTIFY tresen_changes, '<office>'`
(`announce`, from `store.stamp`); PostgreSQL delivers it at commit, to every listening connection,
and never for a rolled-back transaction. Each process runs one `ChangeListener` thread that
listens and hands the office to its in-process `ChangeNotifier`. The long poll's periodic re-read
stays as the safety net for a listener that is reconnecting.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import psycopg
from sqlalchemy import bindparam, func, make_url, select

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sync.central.changes import ChangeNotifier

log = logging.getLogger(__name__)

CHANNEL = "tresen_changes"
RECONNECT_SECONDS = 1.0


_ANNOUNCE = select(func.pg_notify(CHANNEL, bindparam("office_id")))  # built once (see store.current_version)


def announce(session: Session, office_id: str) -> None:
    """Queue the office's wake-up in this transaction (sent by PostgreSQL at commit)."""
    session.execute(_ANNOUNCE, {"office_id": office_id})


class ChangeListener:
    """LISTENs on its own connection in a daemon thread until `stop`."""

    def __init__(self, db_url: str, notifier: ChangeNotifier) -> None:
        url = make_url(db_url).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._notifier = notifier
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tresen-change-listener", daemon=True)
        self.listening = threading.Event()  # set once LISTEN is in place (tests wait for it)

    def start(self) -> ChangeListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    while not self._stop.is_set():
                        for notice in connection.notifies(timeout=0.5):
                            self._notifier.notify(notice.payload)
            except psycopg.Error as error:
                self.listening.clear()
                log.warning("change listener lost its connection (%s); listening again", type(error).__name__)
                self._stop.wait(RECONNECT_SECONDS)
