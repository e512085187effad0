"""The fault proxy itself: each fault does to a real HTTP exchange what its name says."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.faults.proxy import FaultProxy

if TYPE_CHECKING:
    from collections.abc import Iterator

ANSWER = b"x" * 20_000


class _CountingServer(ThreadingHTTPServer):
    daemon_threads = True
    requests_seen = 0


class _Handler(BaseHTTPRequestHandler):
    server: _CountingServer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests_seen += 1
        self.send_response(200)
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)

    def log_message(self, format: str, *args: object) -> None:  # noqa: ARG002 - keep stderr quiet
        return


@pytest.fixture
def server() -> Iterator[_CountingServer]:
    http = _CountingServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield http
    http.shutdown()
    http.server_close()


@pytest.fixture
def proxy(server: _CountingServer) -> Iterator[FaultProxy]:
    with FaultProxy("127.0.0.1", server.server_address[1]) as faulty:
        yield faulty


def _post(proxy: FaultProxy, timeout: float = 5.0) -> httpx.Response:
    with httpx.Client(timeout=timeout) as client:
        return client.post(proxy.url + "/op", content=b"payload")


def test_a_healthy_proxy_forwards_both_ways(proxy: FaultProxy, server: _CountingServer) -> None:
    assert _post(proxy).content == ANSWER
    assert server.requests_seen == 1


def test_a_delayed_link_still_delivers_everything(proxy: FaultProxy) -> None:
    proxy.delay(0.02)
    assert _post(proxy).content == ANSWER


def test_refusing_closes_the_port_and_healing_opens_the_same_port_again(
    proxy: FaultProxy, server: _CountingServer
) -> None:
    port = proxy.port
    proxy.refuse()
    with pytest.raises(httpx.ConnectError):
        _post(proxy)
    proxy.healthy()
    assert proxy.port == port
    assert _post(proxy).content == ANSWER
    assert server.requests_seen == 1


def test_a_lost_answer_reaches_the_server_but_not_the_client(
    proxy: FaultProxy, server: _CountingServer
) -> None:
    proxy.lose_answers()
    with pytest.raises(httpx.TransportError):
        _post(proxy)
    assert server.requests_seen == 1  # the server did the work


def test_an_answer_cut_midway_is_an_error_not_a_short_answer(
    proxy: FaultProxy, server: _CountingServer
) -> None:
    proxy.cut_answers_after(5_000)
    with pytest.raises(httpx.TransportError):
        _post(proxy)
    assert server.requests_seen == 1


def test_a_blackhole_ends_in_the_clients_timeout(proxy: FaultProxy, server: _CountingServer) -> None:
    proxy.blackhole()
    with pytest.raises(httpx.TimeoutException):
        _post(proxy, timeout=0.3)
    assert server.requests_seen == 0
