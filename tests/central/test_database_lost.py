"""A central whose database connections are lost (PostgreSQL restarted, a connection killed) answers
503 "retry later" and serves again once it has reconnected; a defect in a statement is not passed off
as an outage."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from sqlalchemy import make_url

from sync.central.loop_checks import LoopChecks
from tests.central.conftest import OFFICE

if TYPE_CHECKING:
    from collections.abc import Mapping

    from fastapi.testclient import TestClient

    from tests.central.postgres_server import PostgresServer

pytestmark = pytest.mark.postgres

CHANGES = "/api/v1/sync/changes"
UNAVAILABLE = {"detail": "database unavailable; retry later"}
ENGINES = 4  # the central's connection holders a request can meet: the loop's and three engines


@pytest.fixture
def db_url(postgres_server: PostgresServer) -> str:
    """PostgreSQL only: SQLite has no connections to lose, and no statements in the event loop."""
    return postgres_server.create_database()


def _kill_every_other_connection(db_url: str) -> int:
    conninfo = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert killed is not None
    return int(killed[0])


def test_lost_connections_answer_503_until_the_central_has_reconnected(
    client: TestClient, db_url: str
) -> None:
    params = {"office_id": OFFICE}
    assert client.get(CHANGES, params=params).status_code == 200  # connections open, in the loop too
    assert _kill_every_other_connection(db_url) >= 2

    answers = [client.get(CHANGES, params=params) for _ in range(ENGINES + 1)]

    failed = [a for a in answers if a.status_code != 200]
    assert failed, "the killed connections went unnoticed: the test no longer kills the right ones"
    assert all(a.status_code == 503 and a.json() == UNAVAILABLE for a in failed)
    # Each holder of connections fails once, then has dropped all it held: no desk meets a dead
    # connection twice.
    assert len(failed) <= ENGINES
    assert answers[-1].status_code == 200


def test_a_defect_in_a_statement_of_the_loop_is_no_outage(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(_checks: LoopChecks, _sql: str, _params: Mapping[str, Any]) -> None:
        raise psycopg.errors.UndefinedColumn("column does not exist")

    monkeypatch.setattr(LoopChecks, "first", broken)

    # A 500 with the traceback in the log (TestClient raises it here), not a 503 that would send
    # every desk into retries of a request that can never succeed.
    with pytest.raises(psycopg.errors.UndefinedColumn):
        client.get(CHANGES, params={"office_id": OFFICE})


def test_the_loop_drops_every_idle_connection_once_one_is_found_lost(db_url: str) -> None:
    async def scenario() -> list[str]:
        checks = LoopChecks(db_url)
        try:
            # Three at once: three connections opened, then idle.
            await asyncio.gather(*(checks.first("SELECT 1", {}) for _ in range(3)))
            _kill_every_other_connection(db_url)
            outcomes = []
            for _ in range(2):
                try:
                    await checks.first("SELECT 1", {})
                    outcomes.append("ok")
                except psycopg.OperationalError:
                    outcomes.append("lost")
            return outcomes
        finally:
            await checks.close()

    assert asyncio.run(scenario()) == ["lost", "ok"]
