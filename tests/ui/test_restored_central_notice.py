"""Fault test 11 at the counter: the central service restored from an older backup. The desk pulls
everything again and sends what the restore lost, and the clerk is told so once, in German."""

from __future__ import annotations

from typing import TYPE_CHECKING

from screens.app import SyncReported, TresenApp
from sync.central.embedded import start_embedded
from sync.central.seed import BUERGERAMT_ID
from sync.client import CentralClient
from tests.credentials import workstation_auth
from tests.sync.central_backup import backup_central, restore_central
from tests.sync.support import CLERK, DESK, NOW, central_clock
from tests.ui.support import wait_until
from workstation.commands import DeskContext
from workstation.counter import Counter
from workstation.login import Workplace
from workstation.sync_engine import SyncEngine

if TYPE_CHECKING:
    from pathlib import Path

    from textual.message import Message

    from sync.central.embedded import EmbeddedCentral
    from sync.central.seed import SeedDay
    from workstation.db import LocalStore

SIZE = (160, 50)
WORKSTATION = "ws-restore"
TOLD = (
    "Die Zentrale wurde aus einer Sicherung wiederhergestellt: Daten neu geladen, 1 Vorgang erneut gesendet."
)


async def test_the_clerk_is_told_once_that_the_central_was_restored(
    central: EmbeddedCentral, central_url: str, local_store: LocalStore, seed_day: SeedDay, tmp_path: Path
) -> None:
    ctx = DeskContext(workstation_id=WORKSTATION, office_id=BUERGERAMT_ID, desk_id=DESK, clerk_id=CLERK)
    auth = workstation_auth(central.store, WORKSTATION, BUERGERAMT_ID)
    engine = SyncEngine(local_store, CentralClient(central.url, timeout=10.0, auth=auth), ctx)
    counter = Counter(local_store, ctx, remote=engine, clock=lambda: NOW)
    assert engine.sync_once().online
    backup = tmp_path / "central.backup"
    backup_central(central_url, backup)  # the desk's enrollment is in it; the walk-in below is not
    service = next(d for d in seed_day.desks if d.id == DESK).service_ids[0]
    counter.issue_walk_in([service], 0)
    assert engine.sync_once().pushed == 1

    central.stop()
    restore_central(central_url, backup)
    port = int(central.url.rsplit(":", 1)[1])
    restarted = start_embedded(central_url, port=port, clock=central_clock)
    app = TresenApp(
        workplace=Workplace(counter, engine, "Schalter · Test"),
        now=lambda: NOW,
        sync_interval=0.05,
        long_poll=0.2,
    )
    messages: list[Message] = []

    def told() -> list[str]:
        return [str(n.message) for n in app._notifications if str(n.message).startswith("Die Zentrale wurde")]

    def rounds() -> int:
        return sum(isinstance(message, SyncReported) for message in messages)

    try:
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await wait_until(pilot, lambda: bool(told()), "the clerk is told the central was restored")
            assert told() == [TOLD]
            seen = rounds()
            await wait_until(pilot, lambda: rounds() >= seen + 2, "two more sync rounds")
            assert told() == [TOLD]  # once, not every round
            assert engine.status().pending_operations == 0
    finally:
        restarted.stop()
        engine.close()
