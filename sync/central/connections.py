"""Bounds on connections, below the HTTP app: how many one client address may hold open, how long a
connection may take to send a request head, and how long the body after it (slow clients would hold
a connection each for as long as they like otherwise; uvicorn only times out idle keep-alive
connections).

A uvicorn protocol class (`uvicorn.Config(http=bounded_protocol(...))`), a subclass of its h11
protocol: the checks sit where connections are made, before any request exists.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar

from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger(__name__)

MAX_CONNECTIONS_PER_CLIENT = 64  # a whole office behind one NAT address still fits
REQUEST_HEAD_SECONDS = 10.0
# The whole body after its head: the largest allowed (1 MiB, `sync.central.app`) needs 30 s only
# below 35 kB/s, slower than any office LAN or its VPN, and far faster than a slow-body attacker.
REQUEST_BODY_SECONDS = 30.0


class BoundedH11Protocol(H11Protocol):
    max_per_client: ClassVar[int] = MAX_CONNECTIONS_PER_CLIENT
    head_seconds: ClassVar[float] = REQUEST_HEAD_SECONDS
    body_seconds: ClassVar[float] = REQUEST_BODY_SECONDS
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        host = self.client[0] if self.client else None
        if host is not None:
            held = sum(1 for other in self.connections if _client_host(other) == host)
            if held > self.max_per_client:
                log.warning("connection refused: a client holds %d connections already", held - 1)
                transport.close()
                return
        self._expect_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._expect_head()  # the next request on a kept-alive connection gets the same time

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        cycle: RequestResponseCycle | None = self.cycle
        if cycle is not None and cycle is not before and cycle.more_body:
            self.loop.call_later(self.body_seconds, self._close_if_body_unfinished, cycle)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)

    def _expect_head(self) -> None:
        if self._head_timer is not None:  # an earlier request's timer must not cut this wait short
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.head_seconds, self._close_without_request)

    def _close_without_request(self) -> None:
        cycle: RequestResponseCycle | None = self.cycle  # None until the first request head arrived
        waiting_for_a_request = cycle is None or cycle.response_complete
        if waiting_for_a_request and not self.transport.is_closing():
            log.info("connection closed: no request head within %.0f s", self.head_seconds)
            self.transport.close()

    def _close_if_body_unfinished(self, cycle: RequestResponseCycle) -> None:
        if cycle is self.cycle and cycle.more_body and not self.transport.is_closing():
            log.info("connection closed: request body not complete within %.0f s", self.body_seconds)
            self.transport.close()


def _client_host(connection: object) -> str | None:
    client = getattr(connection, "client", None)
    return str(client[0]) if isinstance(client, tuple) and client else None


def bounded_protocol(
    max_per_client: int = MAX_CONNECTIONS_PER_CLIENT,
    head_seconds: float = REQUEST_HEAD_SECONDS,
    body_seconds: float = REQUEST_BODY_SECONDS,
) -> type[BoundedH11Protocol]:
    return type(
        "BoundedH11Protocol",
        (BoundedH11Protocol,),
        {"max_per_client": max_per_client, "head_seconds": head_seconds, "body_seconds": body_seconds},
    )
