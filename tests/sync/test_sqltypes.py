"""The shared `UtcDateTime` column type against a real SQLite database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.exc import StatementError

from sync.sqltypes import UtcDateTime

metadata = MetaData()
events = Table("events", metadata, Column("id", Integer, primary_key=True), Column("at", UtcDateTime))


def test_aware_times_come_back_as_the_same_instant_in_utc() -> None:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    berlin_summer = timezone(timedelta(hours=2))
    written = datetime(2026, 6, 1, 9, 30, tzinfo=berlin_summer)
    with engine.begin() as connection:
        connection.execute(insert(events).values(id=1, at=written))
        connection.execute(insert(events).values(id=2, at=None))
        read = dict(connection.execute(select(events.c.id, events.c.at)).all())
    assert read[1] == written
    assert read[1].tzinfo is UTC
    assert read[1].hour == 7
    assert read[2] is None


def test_naive_times_are_refused() -> None:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection, pytest.raises(StatementError, match="naive datetime"):
        connection.execute(insert(events).values(id=1, at=datetime(2026, 6, 1, 9, 30)))
