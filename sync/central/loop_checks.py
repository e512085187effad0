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

    MAX_CONNECTIONS = 4  # the loop runs one statement's Python at a time: a few cover the waits

    def __init__(self, db_url: str) -> None:
        url = make_url(db_url).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._idle: list[psycopg.AsyncConnection[Row]] = []
        self._open = 0
        self._freed = asyncio.Condition()  # bound to the loop on first use

    async def first(self, sql: str, params: Mapping[str, Any]) -> Row | None:
        """The first row of `sql` (psycopg's `%(name)s` parameters), run in autocommit."""
        async with self._connection() as connection:
            cursor = await connection.execute(sql, params)
            return await cursor.fetchone()

    async def execute(self, sql: str, params: Mapping[str, Any]) -> None:
        async with self._connection() as connection:
            await connection.execute(sql, params)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Row]]:
        connection = await self._take()
        try:
            yield connection
        except BaseException:
            # A failed or cancelled statement may leave the connection mid-protocol: never lend it again.
            await self._give_back(None)
            await connection.close()
            raise
        await self._give_back(None if connection.closed else connection)

    async def _take(self) -> psycopg.AsyncConnection[Row]:
        async with self._freed:
            while not self._idle and self._open >= self.MAX_CONNECTIONS:
                await self._freed.wait()
            if self._idle:
                return self._idle.pop()
            self._open += 1
        try:
            return await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True, options="-c synchronous_commit=off"
            )
        except BaseException:
            await self._give_back(None)
            raise

    async def _give_back(self, connection: psycopg.AsyncConnection[Row] | None) -> None:
        """Back to the idle ones; None: one connection fewer (closed or never opened)."""
        async with self._freed:
            if connection is None:
                self._open -= 1
            else:
                self._idle.append(connection)
            self._freed.notify()
