"""Client side of the vsmartcard vpcd wire protocol: our emulated card plugs into pcscd's virtual reader.

vpcd (the PC/SC driver inside pcscd) listens on TCP; the card connects. Every frame is a 2-byte
big-endian length and a payload. A 1-byte payload is a control code (0 power off, 1 power on,
2 reset, 4 send the ATR); anything longer is a command APDU that gets a response APDU back.
Control codes other than "ATR" get no answer.
"""

from __future__ import annotations

import fcntl
import logging
import socket
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 35963

POWER_OFF = 0
POWER_ON = 1
RESET = 2
GET_ATR = 4

_POLL_SECONDS = 0.1
MAX_FRAME = 0xFFFF  # the 2-byte length prefix
_LOCK_FOLDER = Path("/tmp")


class VirtualCard(Protocol):
    """What vpcd needs from a card."""

    @property
    def atr(self) -> bytes: ...

    def power_on(self) -> None: ...

    def power_off(self) -> None: ...

    def reset(self) -> None: ...

    def process_apdu(self, apdu: bytes) -> bytes: ...


class CardVanished(Exception):
    """Raised by a card to simulate its removal from the field: the connection to vpcd is dropped."""


def _quick_ack(sock: socket.socket) -> None:
    # Linux re-enables delayed ACKs after each read; without this every APDU waits ~40 ms.
    quickack = getattr(socket, "TCP_QUICKACK", None)
    if quickack is not None:
        sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)


class VpcdLink:
    """One TCP connection to vpcd, serving one card until stopped, vanished or disconnected."""

    def __init__(self, card: VirtualCard, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        self.card = card
        self.host = host
        self.port = port
        self._stop = threading.Event()
        self.apdus_served = 0

    def stop(self) -> None:
        self._stop.set()

    def serve(self, connect_timeout: float = 5.0) -> None:
        """Connect and answer frames until stop(), the card vanishes or vpcd closes the link."""
        with socket.create_connection((self.host, self.port), timeout=connect_timeout) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _quick_ack(sock)
            sock.settimeout(_POLL_SECONDS)
            log.info("card connected to vpcd at %s:%d", self.host, self.port)
            try:
                self._loop(sock)
            except CardVanished:
                log.info("card removed from the virtual reader")
            except (ConnectionError, EOFError):
                log.info("vpcd closed the connection")

    def _loop(self, sock: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                header = _recv_exact(sock, 2, self._stop)
            except TimeoutError:
                continue
            if header is None:
                return
            length = int.from_bytes(header, "big")
            payload = _recv_exact(sock, length, self._stop, partial_ok=False) if length else b""
            if payload is None:
                return
            _quick_ack(sock)
            answer = self._handle(payload)
            if answer is not None:
                if len(answer) > MAX_FRAME:
                    log.error("card answer of %d bytes does not fit a vpcd frame", len(answer))
                    answer = bytes.fromhex("6F00")  # "no precise diagnosis", as a chip would fail
                sock.sendall(len(answer).to_bytes(2, "big") + answer)
                _quick_ack(sock)

    def _handle(self, payload: bytes) -> bytes | None:
        if len(payload) == 1:
            code = payload[0]
            if code == GET_ATR:
                return self.card.atr
            if code == POWER_ON:
                self.card.power_on()
            elif code == POWER_OFF:
                self.card.power_off()
            elif code == RESET:
                self.card.reset()
            else:
                log.warning("unknown vpcd control code %d", code)
            return None
        self.apdus_served += 1
        return self.card.process_apdu(payload)


def _recv_exact(
    sock: socket.socket, count: int, stop: threading.Event, *, partial_ok: bool = True
) -> bytes | None:
    """Read exactly count bytes; None when the peer closed or stop was requested.

    A timeout before the first byte is passed on (the caller polls its stop flag); once a frame
    has started, it is read to the end.
    """
    buffer = bytearray()
    while len(buffer) < count:
        if stop.is_set():
            return None
        try:
            chunk = sock.recv(count - len(buffer))
        except TimeoutError:
            if not buffer and partial_ok:
                raise
            continue
        if not chunk:
            return None
        buffer += chunk
    return bytes(buffer)


class EmulatorThread:
    """Runs a VpcdLink in a background thread (tests, benchmarks): insert() and remove() a card."""

    def __init__(self, card: VirtualCard, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        self.link = VpcdLink(card, host, port)
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def insert(self) -> None:
        self._thread = threading.Thread(target=self._run, name="card-emulator", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.link.serve()
        except BaseException as exc:  # kept for the test to inspect; a thread has nobody else to tell
            self.error = exc
            log.exception("card emulator stopped with an error")

    def remove(self, timeout: float = 5.0) -> None:
        self.link.stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def connected(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> EmulatorThread:
        self.insert()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()


@contextmanager
def exclusive_reader(
    port: int = DEFAULT_PORT, *, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold the virtual reader on this port for the block: tests, benchmarks, the emulator tool and
    separate pytest runs on one machine take turns instead of plugging cards into one slot at once.
    `on_wait` is called once when someone else holds it (to say why nothing happens)."""
    with (_LOCK_FOLDER / f"tresen-vpcd-{port}.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
