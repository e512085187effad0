"""The central service in a background thread of this process (for `tresen demo` and tests).

A real uvicorn server on a real socket, so clients talk HTTP exactly as they would to a remote one.
The socket is bound before the thread starts, so `port=0` gives a free port and `url` is known at once.
`clock` is the service's "now" for arbitration, due times and check-ins: the demo gives it the same
clock as the workstation (`sync.central.demo_clock`), so both sides agree on the time of day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sync.central.app import create_app
from sync.central.connections import REQUEST_BODY_SECONDS, REQUEST_HEAD_SECONDS, bounded_protocol
from sync.clock import Clock, utc_now
from sync.serving import bind_loopback, serve_in_thread

if TYPE_CHECKING:
    import threading

    import uvicorn
    from fastapi import FastAPI

    from sync.central.seed import SeedDay
    from sync.central.store import CentralStore


@dataclass
class EmbeddedCentral:
    url: str
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _app: FastAPI = field(repr=False)

    @property
    def app(self) -> FastAPI:
        return self._app

    @property
    def store(self) -> CentralStore:
        """The service's own database (administrators' tools and tests write credentials there)."""
        central_store: CentralStore = self._app.state.store
        return central_store

    def stop(self) -> None:
        from sync.central.display import close_streams

        # Open waiting-room streams first: uvicorn would wait for them until its graceful timeout.
        close_streams(self._app)
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> EmbeddedCentral:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_embedded(
    db_url: str,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    clock: Clock = utc_now,
    max_connections_per_client: int = 1000,  # the demo and the tests are all one client, 127.0.0.1
    request_head_seconds: float = REQUEST_HEAD_SECONDS,
    request_body_seconds: float = REQUEST_BODY_SECONDS,
) -> EmbeddedCentral:
    app = create_app(db_url, clock=clock)
    sock = bind_loopback(host, port)
    bound_port = sock.getsockname()[1]
    server, thread = serve_in_thread(
        app,
        sock,
        name="tresen-central",
        lifespan="on",
        timeout_graceful_shutdown=2,
        http=bounded_protocol(max_connections_per_client, request_head_seconds, request_body_seconds),
    )
    return EmbeddedCentral(url=f"http://{host}:{bound_port}", _server=server, _thread=thread, _app=app)


def start_demo_central(
    db_url: str, *, clock: Clock, seed: int = 0, appointments: int = 150, waiting: int = 8
) -> tuple[EmbeddedCentral, SeedDay]:
    """`tresen demo`'s central service: a fresh database holding the day laid around `clock()`
    (`generate_day_around`), served on `clock`. Returns the running service and the day seeded."""
    from sync.central.demo_history import seed_demo_history
    from sync.central.seed import generate_day_around, seed_central
    from sync.central.store import CentralStore

    now = clock()
    day = generate_day_around(now, seed, appointments=appointments, waiting=waiting)
    central_store = CentralStore(db_url)
    try:
        central_store.create_schema()
        with central_store.write() as session:
            seed_central(session, day)
            session.flush()
            seed_demo_history(session, day, now)  # the morning's cases and logins, for the figures
    finally:
        central_store.dispose()
    return start_embedded(db_url, clock=clock), day
