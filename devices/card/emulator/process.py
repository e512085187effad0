"""The emulated chip in a process of its own, as a real card is a device of its own.

In a thread of the reading process the chip's cryptography (its half of PACE, secure messaging)
would compete with the reader side for one interpreter lock, and the reading process would have
imported and warmed everything the document generator uses (Pillow, the curves). Benchmarks
therefore make the test document and run the card here; the parent learns only what a clerk and
an administrator would know (the CAN, the MRZ key, the CSCA certificate) and inserts and removes
the card by message.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from devices.card.emulator.vpcd import DEFAULT_HOST, DEFAULT_PORT, EmulatorThread

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from devices.card.access import MrzKey

_INSERT, _REMOVE, _QUIT = "insert", "remove", "quit"
_OK = "ok"
_REPLY_SECONDS = 60.0  # a fresh interpreter imports the card stack and makes keys before it answers


class EmulatorProcessError(RuntimeError):
    """The emulator process did not answer or reported a failure."""


@dataclass(frozen=True)
class PrintedData:
    """What is printed on the emulated document or published by its issuer (fictional test data)."""

    can: str
    mrz_key: MrzKey
    csca_der: bytes


class EmulatorProcess:
    """A child process with one generated test document (`make_test_document(**document_options)`).

    Each insert() puts a freshly powered chip (`card_for_document(document, **card_options)`) on
    the virtual reader; remove() takes it off again.
    """

    def __init__(
        self,
        document_options: dict[str, Any] | None = None,
        card_options: dict[str, Any] | None = None,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
    ) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a process that holds PC/SC handles
        self._parent, child = context.Pipe()
        self._process = context.Process(
            target=_serve,
            args=(child, document_options or {}, card_options or {}, host, port),
            name="card-emulator",
            daemon=True,
        )
        self._process.start()
        child.close()
        try:
            printed = self._reply("start")
        except BaseException:
            self.close()
            raise
        if not isinstance(printed, PrintedData):
            self.close()
            raise EmulatorProcessError(f"emulator process sent {type(printed).__name__} on start")
        self.printed: PrintedData = printed

    def insert(self) -> None:
        self._ask(_INSERT)

    def remove(self) -> None:
        self._ask(_REMOVE)

    def close(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(OSError):  # the child may be gone already
                self._parent.send(_QUIT)
            self._process.join(5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)
        self._parent.close()

    def _ask(self, command: str) -> None:
        self._parent.send(command)
        reply = self._reply(command)
        if reply != _OK:
            raise EmulatorProcessError(f"emulator process failed on {command!r}: {reply}")

    def _reply(self, command: str) -> object:
        if not self._parent.poll(_REPLY_SECONDS):
            raise EmulatorProcessError(f"emulator process did not answer {command!r}")
        try:
            return self._parent.recv()
        except EOFError as error:
            raise EmulatorProcessError(f"emulator process ended during {command!r}") from error

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _serve(
    connection: Connection,
    document_options: dict[str, Any],
    card_options: dict[str, Any],
    host: str,
    port: int,
) -> None:
    from devices.card.emulator.card import card_for_document
    from devices.card.emulator.personalization import make_test_document

    try:
        document = make_test_document(**document_options)
    except Exception as error:  # noqa: BLE001  (process boundary: reported to the parent, which raises it)
        connection.send(f"{type(error).__name__}: {error}")
        return
    connection.send(PrintedData(document.can, document.mrz_key, document.csca_der))
    emulator: EmulatorThread | None = None
    while True:
        try:
            command = connection.recv()
        except EOFError:  # the parent went away
            command = _QUIT
        try:
            if command in (_REMOVE, _QUIT) and emulator is not None:
                emulator.remove()
                emulator = None
            if command == _QUIT:
                return
            if command == _INSERT:
                emulator = EmulatorThread(card_for_document(document, **card_options), host, port)
                emulator.insert()
        except Exception as error:  # noqa: BLE001  (process boundary: reported to the parent, which raises it)
            connection.send(f"{type(error).__name__}: {error}")
            continue
        connection.send(_OK)
