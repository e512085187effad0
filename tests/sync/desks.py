"""A desk for sync tests: its own store, a link the test can cut, a signed client, a sync engine
and the counter on the tests' clock (tests/sync/test_leases.py, tests/faults/test_state_machine.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from sync.central import store as central_models
from sync.central.seed import BUERGERAMT_ID
from sync.central.store import CentralStore
from sync.client import CentralClient, SwitchableTransport
from tests.credentials import workstation_auth, workstation_auth_at
from tests.sync.support import NOW, FaultyNetwork
from workstation.commands import DeskContext
from workstation.counter import Counter
from workstation.db import LocalStore
from workstation.models import DeskLease, OutboxOperation
from workstation.sync_engine import SyncEngine

if TYPE_CHECKING:
    from pathlib import Path

    from sync.central.embedded import EmbeddedCentral


@dataclass(frozen=True)
class ServedElsewhere:
    """A central service another process runs (`tests/faults/central_process.py`) over `db_url`."""

    url: str
    db_url: str


class Desk:
    """A workstation with its own store, link and engine, at one desk."""

    def __init__(
        self,
        tmp_path: Path,
        central: EmbeddedCentral | ServedElsewhere,
        workstation_id: str,
        desk_id: str,
        clerk_id: str,
        *,
        via: str | None = None,
    ) -> None:
        """`via`: the URL the desk reaches the central service at, when not its own (a proxy)."""
        self.ctx = DeskContext(workstation_id, BUERGERAMT_ID, desk_id, clerk_id)
        self.store = LocalStore(tmp_path / f"{workstation_id}.sqlite3")
        self.store.migrate()
        self.network = FaultyNetwork()
        self.link = SwitchableTransport(self.network)
        if isinstance(central, ServedElsewhere):
            auth = workstation_auth_at(central.db_url, workstation_id, BUERGERAMT_ID)
        else:
            auth = workstation_auth(central.store, workstation_id, BUERGERAMT_ID)
        self.client = CentralClient(via or central.url, timeout=10.0, transport=self.link, auth=auth)
        self.engine = SyncEngine(self.store, self.client, self.ctx, clock=lambda: NOW)
        self.counter = Counter(self.store, self.ctx, remote=self.engine, clock=lambda: NOW)

    def serve_and_finish(self) -> None:
        self.counter.citizen_arrived()
        current = self.counter.current_ticket()
        assert current is not None
        self.counter.finish({service.id: "completed" for service in current.services})

    def leased(self) -> dict[str, int]:
        with self.store.session() as session:
            return {lease.ticket_id: lease.token for lease in session.scalars(select(DeskLease))}

    def call_ops(self) -> list[OutboxOperation]:
        with self.store.session() as session:
            return list(session.scalars(select(OutboxOperation).where(OutboxOperation.kind == "ticket.call")))

    def all_ops(self) -> list[OutboxOperation]:
        with self.store.session() as session:
            return list(session.scalars(select(OutboxOperation).order_by(OutboxOperation.seq)))

    def close(self) -> None:
        self.client.close()
        self.link.close()
        self.store.dispose()


def accepted_calls(central: EmbeddedCentral | CentralStore) -> dict[str, int]:
    """Per ticket, how many first calls (not recalls) the central service holds."""
    store = central if isinstance(central, CentralStore) else central.store
    with store.read() as session:
        rows = session.execute(
            select(central_models.Call.ticket_id, func.count())
            .where(central_models.Call.is_recall.is_(False))
            .group_by(central_models.Call.ticket_id)
        ).all()
    return {ticket_id: count for ticket_id, count in rows}
