"""The embedded server (demo, tests, benchmarks) answers like a real one: no delayed-ACK stalls."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import httpx

from sync.central.embedded import start_embedded

if TYPE_CHECKING:
    from pathlib import Path


def test_connections_are_accepted_with_tcp_nodelay(tmp_path: Path) -> None:
    """Without TCP_NODELAY a small answer written in two parts (headers, body) waits ~40 ms for the
    client's delayed ACK, which alone spends the clerk's whole F2 budget."""
    central = start_embedded(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    with central, httpx.Client(base_url=central.url) as http:
        http.get("/api/v1/health").raise_for_status()  # keep-alive: the connection stays open
        connections = list(central._server.server_state.connections)
        assert connections, "the server keeps the open connection"
        for protocol in connections:
            sock = protocol.transport.get_extra_info("socket")
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
