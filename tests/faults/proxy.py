"""A TCP proxy of our own between a workstation and the central service, with the faults of a real network.

It forwards bytes, so it sits below HTTP: what the client sees is exactly what a broken link, a
far-away server or a dying central service does to a real connection. One proxy forwards to one
target; the test switches its behaviour while it runs:

- `healthy()`: forward both ways;
- `delay(seconds)`: hold every chunk that far in each direction (a central 200 ms away);
- `refuse()`: no listener on the port any more (connection refused), existing connections reset;
- `blackhole()`: accept, forward nothing (the client's timeout decides);
- `lose_answers()`: forward the request, let the server answer, then close before the answer reaches
  the client (the server committed; the client never knows);
- `cut_answers_after(n)`: forward the first `n` bytes answered on each connection, then close (a
  download cut mid-page).

It runs its own asyncio loop in a daemon thread, so synchronous tests and subprocesses both use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Coroutine
    from types import TracebackType
    from typing import Any

Mode = Literal["healthy", "delay", "refuse", "blackhole", "lose_answers", "cut_answers"]
CHUNK = 65536


@dataclass(frozen=True)
class _Behaviour:
    mode: Mode = "healthy"
    delay: float = 0.0
    answer_bytes: int = 0  # cut_answers: forward this many bytes of each answer


class FaultProxy:
    """Listen on 127.0.0.1:`port` (0 = any free port) and forward to `target_host`:`target_port`."""

    def __init__(self, target_host: str, target_port: int, *, port: int = 0) -> None:
        self.target = (target_host, target_port)
        self._behaviour = _Behaviour()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._thread.start()
        self.port = self._run(self._listen(port))
        self.connections_seen = 0
        self.answer_bytes_forwarded = 0  # all answers' bytes so far, to aim a cut at a share of a download

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mode(self) -> Mode:
        return self._behaviour.mode

    # --- switching faults (from any thread) ----------------------------------------------------

    def retarget(self, target_host: str, target_port: int) -> None:
        """Forward new connections elsewhere (a restarted central service on another port)."""
        self.target = (target_host, target_port)

    def healthy(self) -> None:
        self._switch(_Behaviour())

    def delay(self, seconds: float) -> None:
        self._switch(_Behaviour("delay", delay=seconds))

    def blackhole(self) -> None:
        self._switch(_Behaviour("blackhole"))

    def lose_answers(self) -> None:
        self._switch(_Behaviour("lose_answers"))

    def cut_answers_after(self, answer_bytes: int) -> None:
        self._switch(_Behaviour("cut_answers", answer_bytes=answer_bytes))

    def refuse(self) -> None:
        self._switch(_Behaviour("refuse"))

    def _switch(self, behaviour: _Behaviour) -> None:
        self._run(self._apply(behaviour))

    async def _apply(self, behaviour: _Behaviour) -> None:
        was_refusing = self._behaviour.mode == "refuse"
        self._behaviour = behaviour
        if behaviour.mode == "refuse" and not was_refusing:
            await self._stop_listening()
            for writer in list(self._connections):
                _reset(writer)
        elif was_refusing and behaviour.mode != "refuse":
            await self._listen(self.port)

    # --- the forwarding --------------------------------------------------------------------------

    async def _listen(self, port: int) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port, reuse_address=True)
        bound: int = self._server.sockets[0].getsockname()[1]
        return bound

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.connections_seen += 1
        self._connections.add(client_writer)
        try:
            if self._behaviour.mode == "blackhole":
                await client_reader.read()  # until the client gives up
                return
            await self._forward(client_reader, client_writer)
        finally:
            self._connections.discard(client_writer)
            _close(client_writer)

    async def _forward(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(client_writer)  # the target is down: the client sees a reset, as through a router
            return
        self._connections.add(server_writer)
        try:
            await asyncio.gather(
                self._pipe(client_reader, server_writer, answers=False),
                self._pipe(server_reader, client_writer, answers=True),
            )
        finally:
            self._connections.discard(server_writer)
            _close(server_writer)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, answers: bool
    ) -> None:
        forwarded = 0
        with contextlib.suppress(ConnectionError, OSError):
            while chunk := await reader.read(CHUNK):
                behaviour = self._behaviour
                if behaviour.mode == "delay":
                    await asyncio.sleep(behaviour.delay)
                if answers and behaviour.mode == "lose_answers":
                    _reset(writer)  # the server has answered (committed); the client never hears it
                    return
                if answers and behaviour.mode == "cut_answers":
                    room = behaviour.answer_bytes - forwarded
                    if room <= len(chunk):
                        writer.write(chunk[: max(room, 0)])
                        await writer.drain()
                        _reset(writer)
                        return
                writer.write(chunk)
                await writer.drain()
                forwarded += len(chunk)
                if answers:
                    self.answer_bytes_forwarded += len(chunk)
            if writer.can_write_eof():
                writer.write_eof()

    # --- life cycle ------------------------------------------------------------------------------

    def _run(self, work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=10)

    def close(self) -> None:
        async def shut() -> None:
            await self._stop_listening()
            for writer in list(self._connections):
                _close(writer)

        self._run(shut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN: what a crashed peer or a cut cable looks like to the other side."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, RuntimeError):
        writer.close()
