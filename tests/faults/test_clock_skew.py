"""Issue 9, fault test 8: a workstation whose clock is an hour off serves a citizen with the same
outcome at the central service as one whose clock is right."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from tests.faults.conftest import CTX, WORKSTATION
from tests.sync.support import NOW, central_operations, central_ticket, serve_and_finish
from workstation.counter import Counter
from workstation.models import OperationStatus, OutboxOperation
from workstation.sync_engine import SyncEngine

if TYPE_CHECKING:
    from workstation.db import LocalStore


@pytest.mark.parametrize(
    "skew", [timedelta(hours=1), timedelta(hours=-1), timedelta(0)], ids=["ahead", "behind", "right"]
)
def test_a_desk_whose_clock_is_an_hour_off_gets_the_same_outcome(
    engine: SyncEngine, local_store: LocalStore, central_url: str, skew: timedelta
) -> None:
    desk_time = NOW + skew  # the central service's clock is NOW (tests/sync/support.py)
    skewed = SyncEngine(local_store, engine.client, CTX, clock=lambda: desk_time)
    assert skewed.sync_once().online
    counter = Counter(local_store, CTX, remote=None, clock=lambda: desk_time)
    assert counter.call_next() is not None
    finished = serve_and_finish(counter)
    assert skewed.sync_once().online

    assert [status for _seq, _op, status in central_operations(central_url, WORKSTATION)] == [
        "applied",
        "applied",
        "applied",
    ]  # call, serve, finish
    assert central_ticket(central_url, finished) == ("finished", CTX.desk_id)
    with local_store.session() as session:
        assert set(session.scalars(select(OutboxOperation.status))) == {OperationStatus.APPLIED}
