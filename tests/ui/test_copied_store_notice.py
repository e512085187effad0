"""A desk working on a copied store (issue 9, fault 12): the clerk is told once, in full, that it
does not sync as the original's workstation, and the desk keeps working on the local queue."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from screens.app import TresenApp
from screens.widgets.status_bar import SyncStatusBar
from sync.client import CentralClient
from tests.ui.support import NOW, Desk, filled_store, settle, wait_until
from workstation.counter import Counter
from workstation.db import LocalStore
from workstation.login import Workplace
from workstation.models import OperationStatus, OutboxOperation
from workstation.store_instance import InstanceRegistry, check_instance
from workstation.sync_engine import SyncEngine

if TYPE_CHECKING:
    from pathlib import Path

SIZE = (160, 50)
TOLD = "Diese lokale Datenbank ist eine Kopie"
NOWHERE = "http://127.0.0.1:9"  # never asked: the copy refuses before it sends anything


def _copied_store(tmp_path: Path) -> tuple[Desk, Path]:
    """A filled store checked at its place, and a copy of its file elsewhere (another machine's
    registry)."""
    (tmp_path / "first").mkdir()
    original = filled_store(tmp_path / "first" / "local.sqlite3")
    check_instance(original.store, InstanceRegistry(tmp_path / "first-state" / "ids.json"), NOW)
    original.store.dispose()
    copy_path = tmp_path / "second" / "local.sqlite3"
    copy_path.parent.mkdir()
    with closing(sqlite3.connect(original.store.path)) as source, closing(sqlite3.connect(copy_path)) as copy:
        source.backup(copy)
    return original, copy_path


async def test_a_copied_store_tells_the_clerk_once_and_the_desk_keeps_working(tmp_path: Path) -> None:
    original, copy_path = _copied_store(tmp_path)
    store = LocalStore(copy_path)
    store.migrate()
    assert check_instance(store, InstanceRegistry(tmp_path / "second-state" / "ids.json"), NOW).copied_from
    desk = Desk(store, original.ctx, original.day)  # the same desk and identity as the original
    engine = SyncEngine(store, CentralClient(NOWHERE, timeout=1.0), desk.ctx)
    counter = Counter(store, desk.ctx, remote=engine, clock=lambda: NOW)
    app = TresenApp(
        workplace=Workplace(counter, engine, "Schalter · Test"), now=lambda: NOW, sync_interval=0.1
    )

    def told() -> list[str]:
        return [n.message for n in app._notifications if n.message.startswith(TOLD)]

    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(told()), "the clerk is told the store is a copy")
        bar = app.screen.query_one(SyncStatusBar)
        assert "offline" in str(bar.content)
        assert TOLD in str(bar.content)
        await pilot.press("f2")  # the local queue, as offline
        await settle(pilot)
        await wait_until(pilot, lambda: "ausstehend: 1" in str(bar.content), "the call is kept")
        assert len(told()) == 1  # once, not every round
    with store.session() as session:
        pending = session.scalar(
            select(func.count())
            .select_from(OutboxOperation)
            .where(OutboxOperation.status == OperationStatus.PENDING)
        )
    assert pending == 1
    store.dispose()
