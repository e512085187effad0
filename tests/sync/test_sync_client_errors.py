"""CentralClient against a real HTTP server that misbehaves the way proxies and broken services do."""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.client import CentralClient, CentralError, SequenceGapError
from sync.protocol import (
    CLIENT_KEEP_ALIVE_SECONDS,
    SERVER_KEEP_ALIVE_SECONDS,
    CallNextRequest,
    Operation,
    PushRequest,
)

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass
class Scripted:
    status: int
    body: bytes
    content_type: str = "application/json"
    delay: float = 0.0


class _QuietServer(ThreadingHTTPServer):
    """The scripted server's handler threads end with it (joined on close), and a client that gave
    up before the answer (the timeout tests) is not a traceback on stderr: a later test's capsys
    in the same worker would read it."""

    daemon_threads = False
    block_on_close = True

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class ScriptedServer:
    """Answers every request with whatever `answer` currently holds."""

    def __init__(self) -> None:
        self.answer = Scripted(200, b"{}")
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _respond(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                server.requests.append((self.command, self.path))
                answer = server.answer
                if answer.delay:
                    threading.Event().wait(answer.delay)
                self.send_response(answer.status)
                self.send_header("content-type", answer.content_type)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = _respond  # noqa: N815 - http.server's naming

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    yield scripted
    scripted.stop()


@pytest.fixture
def client(server: ScriptedServer) -> Iterator[CentralClient]:
    with CentralClient(server.url, timeout=1.0) as central:
        yield central


def _push_request() -> PushRequest:
    return PushRequest(
        workstation_id="ws-1",
        office_id="office-1",
        operations=[
            Operation(
                op_id="0190f0a0-0000-7000-8000-000000000001",
                seq=1,
                kind="ticket.no_show",
                args={"ticket_id": "t-1", "at": "2026-03-02T09:00:00+00:00"},
                created_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
            )
        ],
    )


def test_health_parses_a_valid_answer(server: ScriptedServer, client: CentralClient) -> None:
    server.answer = Scripted(200, b'{"status": "ok", "epoch": "e-1"}')
    assert client.health().epoch == "e-1"
    assert server.requests == [("GET", "/api/v1/health")]


@pytest.mark.parametrize(
    "answer",
    [
        Scripted(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
        Scripted(500, b'{"detail": "Internal Server Error"}'),
        Scripted(200, b"<html>captive portal login</html>", "text/html"),
        Scripted(200, b'{"status": "ok"'),  # cut off
        Scripted(200, b'{"results": "not a list", "acked_seq": 1}'),
        Scripted(200, b"[]"),
        Scripted(204, b""),
    ],
    ids=["html-502", "json-500", "html-200", "truncated", "wrong-shape", "wrong-type", "no-content"],
)
def test_malformed_answers_become_central_error(
    server: ScriptedServer, client: CentralClient, answer: Scripted, caplog: pytest.LogCaptureFixture
) -> None:
    server.answer = answer
    with caplog.at_level(logging.WARNING, logger="sync.client"), pytest.raises(CentralError) as caught:
        client.push(_push_request())
    error = caught.value
    assert error.retryable
    assert "Zentrale" in error.user_message  # German, for the clerk
    assert "/sync/push" in error.log_message  # English, for the log
    assert any("/sync/push" in r.getMessage() for r in caplog.records)
    # the client stays usable after a bad answer
    server.answer = Scripted(200, b'{"status": "ok", "epoch": "e-2"}')
    assert client.health().epoch == "e-2"


def test_refusal_is_not_retryable_and_body_is_not_logged(
    server: ScriptedServer, client: CentralClient, caplog: pytest.LogCaptureFixture
) -> None:
    server.answer = Scripted(422, '{"detail": [{"input": "Müller, Jürgen"}]}'.encode())
    with caplog.at_level(logging.DEBUG), pytest.raises(CentralError) as caught:
        client.push(_push_request())
    assert caught.value.status_code == 422
    assert not caught.value.retryable
    assert "Müller" not in caplog.text


def test_sequence_gap_carries_expected_seq(server: ScriptedServer, client: CentralClient) -> None:
    server.answer = Scripted(409, b'{"detail": "expected seq 4", "expected_seq": 4}')
    with pytest.raises(SequenceGapError) as caught:
        client.push(_push_request())
    assert caught.value.expected_seq == 4
    assert caught.value.retryable


def test_timeout_becomes_central_error(server: ScriptedServer) -> None:
    server.answer = Scripted(200, b'{"status": "ok", "epoch": "e"}', delay=1.0)
    with CentralClient(server.url, timeout=0.2) as slow, pytest.raises(CentralError) as caught:
        slow.health()
    assert "nicht rechtzeitig" in caught.value.user_message


def test_long_poll_is_allowed_to_take_longer_than_the_timeout(server: ScriptedServer) -> None:
    page = {"epoch": "e", "cursor": 3, "has_more": False, "acked_seq": 0}
    server.answer = Scripted(200, json.dumps(page).encode(), delay=0.5)
    with CentralClient(server.url, timeout=0.3) as central:
        assert central.changes("office-1", "ws-1", 0, wait=1.0).cursor == 3
    assert "wait=1.0" in server.requests[-1][1]


def test_nobody_listening_becomes_unreachable() -> None:
    with socket.socket() as probe:  # a port that is free, so nothing answers there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    central = CentralClient(f"http://127.0.0.1:{port}", timeout=0.5)
    with central, pytest.raises(CentralError) as caught:
        central.call_next("desk-1", CallNextRequest(workstation_id="ws-1", clerk_id="c-1", call_id="call-1"))
    assert "nicht erreichbar" in caught.value.user_message
    assert caught.value.status_code is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=200) | st.text(max_size=200).map(str.encode),
    status=st.sampled_from([200, 409]),
)
def test_any_garbage_answer_is_a_central_error_never_a_crash(
    server: ScriptedServer, client: CentralClient, body: bytes, status: int
) -> None:
    server.answer = Scripted(status, body)
    with pytest.raises(CentralError):
        client.changes("office-1", "ws-1", 0)


def test_the_client_lets_idle_connections_go_before_the_central_service_closes_them() -> None:
    """A request on a connection the server closes at that very moment fails as "server
    disconnected"; httpx's default expiry (5 s) is the central service's keep-alive (5 s)."""
    client = CentralClient("http://127.0.0.1:9")
    try:
        pool = client._http._transport._pool  # type: ignore[attr-defined]  # httpx has no public getter
        assert pool._keepalive_expiry == CLIENT_KEEP_ALIVE_SECONDS < SERVER_KEEP_ALIVE_SECONDS
    finally:
        client.close()
