"""Issue 9: an idle desk costs the central service one small request per sync interval: the long
poll of the changes feed, nothing else (no push with nothing pending, no lease or range asked again
while the held ones suffice)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import httpx

from sync.central.seed import BUERGERAMT_ID
from sync.client import CentralClient
from tests.credentials import workstation_auth
from tests.sync.support import CLERK, DESK, NOW
from workstation.commands import DeskContext
from workstation.sync_engine import SyncEngine, SyncReport

if TYPE_CHECKING:
    from sync.central.embedded import EmbeddedCentral
    from workstation.db import LocalStore

IDLE_ROUNDS = 4
LONG_POLL_SECONDS = 0.2  # how long the central service holds each idle poll (its side of the wait)
SMALL_ANSWER_BYTES = 1024


class CountingTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, str, int]] = []  # (method, path, answer bytes)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        body = response.read()
        self.requests.append((request.method, request.url.path, len(body)))
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)


def test_an_idle_desk_makes_one_small_request_per_round(
    central: EmbeddedCentral, local_store: LocalStore
) -> None:
    ctx = DeskContext("ws-idle", BUERGERAMT_ID, DESK, CLERK)
    transport = CountingTransport()
    auth = workstation_auth(central.store, ctx.workstation_id, BUERGERAMT_ID)
    client = CentralClient(central.url, timeout=10.0, transport=transport, auth=auth)
    engine = SyncEngine(local_store, client, ctx, clock=lambda: NOW)
    assert engine.sync_once().online  # the first round: the office, leases, a Kassenzeichen range
    first_round = len(transport.requests)
    stop = threading.Event()
    rounds: list[SyncReport] = []

    def counted(report: SyncReport) -> None:
        rounds.append(report)
        if len(rounds) == IDLE_ROUNDS:
            stop.set()

    try:
        engine.run(stop, long_poll=LONG_POLL_SECONDS, idle=0.0, on_round=counted)
    finally:
        client.close()
    idle = transport.requests[first_round:]
    assert all(report.online and report.pulled == 0 for report in rounds), rounds
    assert [(method, path) for method, path, _size in idle] == [("GET", "/api/v1/sync/changes")] * IDLE_ROUNDS
    assert max(size for _method, _path, size in idle) < SMALL_ANSWER_BYTES
