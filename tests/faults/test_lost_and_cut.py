"""Issue 9, fault tests 2 and 4 through a real TCP proxy: an answer lost after the central service
committed, and a download cut in the middle of a page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from tests.faults.conftest import CTX, WORKSTATION
from tests.sync.support import DESK, central_operations
from tests.sync_fixtures import BOTH_BACKENDS
from workstation.counter import Counter
from workstation.models import OperationStatus, OutboxOperation, SyncState, Ticket

if TYPE_CHECKING:
    from sync.central.seed import SeedDay
    from tests.faults.proxy import FaultProxy
    from workstation.db import LocalStore
    from workstation.sync_engine import SyncEngine


pytestmark = BOTH_BACKENDS  # the central store matters here: SQLite and PostgreSQL


def _outbox(store: LocalStore) -> list[tuple[int, str, str]]:
    with store.session() as session:
        rows = session.scalars(select(OutboxOperation).order_by(OutboxOperation.seq))
        return [(row.seq, row.op_id, row.status) for row in rows]


def _cursor(store: LocalStore) -> int:
    with store.session() as session:
        state = session.get(SyncState, WORKSTATION)
        return 0 if state is None else state.cursor


def _tickets(store: LocalStore) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


def test_an_answer_lost_after_the_central_committed_is_delivered_once_with_the_stored_result(
    engine: SyncEngine, proxy: FaultProxy, local_store: LocalStore, central_url: str, seed_day: SeedDay
) -> None:
    assert engine.sync_once().online
    service = next(d for d in seed_day.desks if d.id == DESK).service_ids[0]
    Counter(local_store, CTX).issue_walk_in([service], 0)
    [(seq, op_id, status)] = _outbox(local_store)
    assert status == OperationStatus.PENDING

    proxy.lose_answers()
    lost = engine.push_pending()
    assert not lost.online
    assert central_operations(central_url, WORKSTATION) == [(seq, op_id, "applied")]  # committed, answer lost
    assert _outbox(local_store)[0][2] == OperationStatus.PENDING  # the desk does not know yet

    proxy.healthy()
    assert engine.sync_once().online
    assert central_operations(central_url, WORKSTATION) == [(seq, op_id, "applied")]  # not applied twice
    assert _outbox(local_store) == [(seq, op_id, OperationStatus.APPLIED)]


def test_a_download_cut_mid_page_leaves_the_cursor_and_the_replica_as_they_were(
    engine: SyncEngine, proxy: FaultProxy, local_store: LocalStore
) -> None:
    proxy.cut_answers_after(4_000)  # the first page is far longer: cut inside its body
    cut = engine.pull()
    assert not cut.online
    assert _cursor(local_store) == 0
    assert _tickets(local_store) == 0

    proxy.healthy()
    healed = engine.pull()
    assert healed.online
    assert healed.pulled > 0
    assert _cursor(local_store) > 0
    assert _tickets(local_store) > 0
