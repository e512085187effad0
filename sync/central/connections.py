"""Bounds on connections, below the HTTP app: how many one client address may hold open, and how
long a connection may take to send a request head (slow-header clients would hold a connection
each for as long as they like otherwise; uvicorn only times out idle keep-alive connections).

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


class BoundedH11Protocol(H11Protocol):
    max_per_client: ClassVar[int] = MAX_CONNECTIONS_PER_CLIENT
    head_seconds: ClassVar[float] = REQUEST_HEAD_SECONDS

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

    def _expect_head(self) -> None:
        self.loop.call_later(self.head_seconds, self._close_without_request)

    def _close_without_request(self) -> None:
        cycle: RequestResponseCycle | None = self.cycle  # None until the first request head arrived
        waiting_for_a_request = cycle is None or cycle.response_complete
        if waiting_for_a_request and not self.transport.is_closing():
            log.info("connection closed: no request head within %.0f s", self.head_seconds)
            self.transport.close()


def _client_host(connection: object) -> str | None:
    client = getattr(connection, "client", None)
    return str(client[0]) if isinstance(client, tuple) and client else None


def bounded_protocol(
    max_per_client: int = MAX_CONNECTIONS_PER_CLIENT, head_seconds: float = REQUEST_HEAD_SECONDS
) -> type[BoundedH11Protocol]:
    return type(
        "BoundedH11Protocol",
        (BoundedH11Protocol,),
        {"max_per_client": max_per_client, "head_seconds": head_seconds},
    )
