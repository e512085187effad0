"""Issue 8: bounds below HTTP: one client address holds a bounded number of connections, and a
connection that sends no request head, or not the whole body after it, in time is closed (a slow
client cannot hold it)."""

from __future__ import annotations

import socket
from contextlib import ExitStack
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest

from sync.central.embedded import start_embedded

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sync.central.embedded import EmbeddedCentral

LIMIT = 3
HEAD_SECONDS = 0.3
DEADLINE = 5.0  # the most any wait below may take: an answer or a close comes well before


def _connect(central: EmbeddedCentral) -> socket.socket:
    address = urlsplit(central.url)
    assert address.hostname is not None
    assert address.port is not None
    sock = socket.create_connection((address.hostname, address.port), timeout=DEADLINE)
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


@pytest.fixture
def few_connections(central_url: str) -> Iterator[EmbeddedCentral]:
    server = start_embedded(central_url, max_connections_per_client=LIMIT)  # heads get the usual 10 s
    yield server
    server.stop()


@pytest.fixture
def quick_heads(central_url: str) -> Iterator[EmbeddedCentral]:
    server = start_embedded(central_url, request_head_seconds=HEAD_SECONDS)
    yield server
    server.stop()


@pytest.fixture
def quick_bodies(central_url: str) -> Iterator[EmbeddedCentral]:
    server = start_embedded(central_url, request_body_seconds=HEAD_SECONDS)
    yield server
    server.stop()


def test_a_client_beyond_its_connections_is_closed_at_once(few_connections: EmbeddedCentral) -> None:
    bounded = few_connections
    with ExitStack() as held:
        for _ in range(LIMIT):
            held.enter_context(_connect(bounded))
        with _connect(bounded) as one_too_many:
            one_too_many.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _closed_by_server(one_too_many)
    # Once those are gone, the client is served again.
    assert httpx.get(f"{bounded.url}/api/v1/health", timeout=DEADLINE).status_code == 200


def test_a_connection_without_a_request_head_is_closed(quick_heads: EmbeddedCentral) -> None:
    bounded = quick_heads
    with _connect(bounded) as silent:
        silent.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")  # the head never ends
        assert _closed_by_server(silent)
    with _connect(bounded) as served:  # a whole request in time is answered
        served.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert served.recv(12).startswith(b"HTTP/1.1 200")


ENROLL = b"POST /api/v1/enrollments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


def test_a_request_whose_body_does_not_arrive_in_time_is_closed(quick_bodies: EmbeddedCentral) -> None:
    bounded = quick_bodies
    body = b'{"code": "nope"}'
    with _connect(bounded) as slow:
        slow.sendall(ENROLL + b"Content-Length: %d\r\n\r\n" % len(body) + body[:5])  # the rest never comes
        assert _closed_by_server(slow)
    with _connect(bounded) as served:  # the whole body in time is answered (a refusal: no such code)
        served.sendall(ENROLL + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        assert served.recv(12).startswith(b"HTTP/1.1 4")
