"""An ASGI app served by uvicorn on a loopback socket in a background thread: the embedded central
service of the demo and the tests, and the capture simulator, start the same way."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

import uvicorn

if TYPE_CHECKING:
    from collections.abc import Callable

START_TIMEOUT_SECONDS = 10.0
_START_POLL_SECONDS = 0.01


def bind_loopback(host: str, port: int) -> socket.socket:
    """A listening TCP socket. proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted
    connections only when the listening socket names its protocol (else every answer waits ~40 ms
    for a delayed ACK). Listening before uvicorn starts: early connections wait in the backlog."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def serve_in_thread(
    app: Callable[..., Any], sock: socket.socket, *, name: str, **config: Any
) -> tuple[uvicorn.Server, threading.Thread]:
    """Serve `app` on `sock` in a daemon thread; returns once uvicorn is up (RuntimeError if not).
    Off the main thread uvicorn leaves the signal handlers alone."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, **config))

    def run() -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        finally:
            sock.close()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:  # a start-up wait with a deadline
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"{name} did not start")
        time.sleep(_START_POLL_SECONDS)
    return server, thread
