"""Issue 9, fault test 10: a new desk's first download cut at half way resumes from its last page.

Pages are applied one transaction each, so the cut leaves the replica at the end of the last whole
page with the cursor pointing there; the next pull asks from that cursor and ends where a clean first
download ends."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from sqlalchemy import func, select

from sync.central.seed import BUERGERAMT_ID
from sync.client import CentralClient
from tests.credentials import workstation_auth
from tests.faults.conftest import CTX, WORKSTATION
from workstation.db import LocalStore
from workstation.models import Appointment, SyncState, Ticket
from workstation.sync_engine import SyncEngine

if TYPE_CHECKING:
    from pathlib import Path

    from sync.central.embedded import EmbeddedCentral
    from tests.faults.proxy import FaultProxy

PAGE = 20  # the seeded day is about 150 changes: eight pages


class _CursorsAsked(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.cursors: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/sync/changes"):
            self.cursors.append(int(request.url.params["cursor"]))
        return super().handle_request(request)


def _state(store: LocalStore) -> tuple[int, int, int]:
    with store.session() as session:
        state = session.get(SyncState, WORKSTATION)
        tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
        appointments = session.scalar(select(func.count()).select_from(Appointment)) or 0
        return (0 if state is None else state.cursor, tickets, appointments)


def _first_download(
    store: LocalStore, proxy: FaultProxy, auth: httpx.Auth, transport: httpx.BaseTransport | None = None
) -> bool:
    with CentralClient(proxy.url, timeout=15.0, transport=transport, auth=auth) as client:
        return SyncEngine(store, client, CTX, page_limit=PAGE).pull().online


def test_a_first_download_cut_at_half_way_resumes_from_its_last_page(
    proxy: FaultProxy, local_store: LocalStore, tmp_path: Path, central: EmbeddedCentral
) -> None:
    auth = workstation_auth(central.store, WORKSTATION, BUERGERAMT_ID)
    clean = LocalStore(tmp_path / "clean.sqlite3")
    clean.migrate()
    assert _first_download(clean, proxy, auth)
    whole = proxy.answer_bytes_forwarded
    clean_state = _state(clean)
    clean.dispose()

    proxy.cut_answers_after(whole // 2)
    assert not _first_download(local_store, proxy, auth)
    cursor_at_cut, tickets_at_cut, appointments_at_cut = _state(local_store)
    assert 0 < cursor_at_cut < clean_state[0]  # whole pages kept, the cut one not
    assert (tickets_at_cut, appointments_at_cut) <= clean_state[1:]

    proxy.healthy()
    asked = _CursorsAsked()
    assert _first_download(local_store, proxy, auth, asked)
    assert asked.cursors[0] == cursor_at_cut  # resumed, not started over
    assert _state(local_store) == clean_state
