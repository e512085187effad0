"""The hot single statements run in the event loop on PostgreSQL, without a worker thread.

A signed request's check (`request_check`, one statement) and a woken long poll's look at the head
(`changes`, one statement) used to run in AnyIO's worker threads: two hand-overs per long poll,
and the hand-over (waking a thread, taking the GIL back) was the largest single item of a central
process's profile (docs/benchmarks.md, stop 21). Here they run on psycopg's async connections in
the process's event loop: the same SQL, the same autocommit and `synchronous_commit = off` as
`CentralStore.check_engine`, so nothing about what they see or record changes. SQLite keeps the
thread path (one process, no async driver).
"""

from __future__ import annotations

import asyncio
from collections import deque
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import psycopg
from sqlalchemy import make_url

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

Row = tuple[Any, ...]


class LoopChecks:
    """A few autocommit connections of the event loop, each running one statement at a time.

    Connections are opened on first use and kept; one whose statement failed or was cancelled is
    closed, and the error reaches the caller (the app answers 503, as for any lost connection)."""

    MAX_CONNECTIONS = 8  # as many as the worker threads had for these statements (check_engine)

    def __init__(self, db_url: str) -> None:
        url = make_url(db_url).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._idle: list[psycopg.AsyncConnection[Row]] = []
        self._open = 0
        # Callers waiting for a connection, first come first served: a freed connection goes to the
        # first of them, never to one who came later (under load, a waiter woken to compete could
        # lose to newcomers again and again: a push's p99 of 12 s in bench/central_load.py).
        self._waiting: deque[asyncio.Future[psycopg.AsyncConnection[Row] | None]] = deque()

    async def first(self, sql: str, params: Mapping[str, Any]) -> Row | None:
        """The first row of `sql` (psycopg's `%(name)s` parameters), run in autocommit."""
        async with self._connection() as connection:
            cursor = await connection.execute(sql, params)
            return await cursor.fetchone()

    async def execute(self, sql: str, params: Mapping[str, Any]) -> None:
        async with self._connection() as connection:
            await connection.execute(sql, params)

    async def close(self) -> None:
        await self._close_idle()

    async def _close_idle(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            self._give_back(None)
            await connection.close()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Row]]:
        connection = await self._take()
        try:
            yield connection
        except BaseException as error:
            # A failed or cancelled statement may leave the connection mid-protocol: never lend it again.
            self._give_back(None)
            await connection.close()
            if isinstance(error, psycopg.OperationalError):
                # A lost connection: the idle ones most likely went with it (a restarted database),
                # and each would cost a desk a 503 of its own. SQLAlchemy's pool does the same.
                await self._close_idle()
            raise
        if connection.closed:
            self._give_back(None)
        else:
            self._give_back(connection)

    async def _take(self) -> psycopg.AsyncConnection[Row]:
        while True:
            if self._idle and not self._waiting:
                return self._idle.pop()
            if self._open < self.MAX_CONNECTIONS and not self._waiting:
                return await self._connect()
            turn: asyncio.Future[psycopg.AsyncConnection[Row] | None] = (
                asyncio.get_running_loop().create_future()
            )
            self._waiting.append(turn)
            try:
                handed = await turn
            except BaseException:
                if turn.done() and not turn.cancelled():
                    self._give_back(turn.result())  # handed over as this caller was cancelled
                else:
                    self._waiting.remove(turn)
                raise
            if handed is not None:
                return handed
            # None: a connection was closed, so one may be opened in its place.
            if self._open < self.MAX_CONNECTIONS:
                return await self._connect()

    async def _connect(self) -> psycopg.AsyncConnection[Row]:
        self._open += 1
        try:
            return await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True, options="-c synchronous_commit=off"
            )
        except BaseException:
            self._give_back(None)
            raise

    def _give_back(self, connection: psycopg.AsyncConnection[Row] | None) -> None:
        """To the first waiting caller, else to the idle ones; None: one connection fewer (closed, or
        never opened), and the first waiting caller may open one."""
        if connection is None:
            self._open -= 1
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(connection)
                return
        if connection is not None:
            self._idle.append(connection)
