"""PC/SC transport (pyscard): readers, card presence, APDU exchange with figures and error mapping.

The lowest layer of the card stack. It knows nothing about eMRTDs: it sends command APDUs, follows
61XX/6CXX, uses extended length where the card announces it (and falls back to short length when
the path answers 6700), and turns every PC/SC failure into a `CardError` the clerk can act on.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smartcard import scard

from devices.card.apdu import SHORT_MAX_NC, SHORT_MAX_NE, CommandAPDU, ResponseAPDU
from devices.card.errors import CardError, CardErrorReason

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

SW_WRONG_LENGTH = 0x6700
_GET_RESPONSE_INS = 0xC0
# A hostile card must not keep us in a 61XX loop forever; a secured 64 KiB answer in 256-byte
# pieces (T=0 style) takes a little over 256 rounds.
_MAX_CHAINED_GET_RESPONSES = 512
_POLL_MILLISECONDS = 200

_ERROR_REASONS: dict[int, CardErrorReason] = {
    scard.SCARD_E_NO_SERVICE: CardErrorReason.READER_UNAVAILABLE,
    scard.SCARD_E_SERVICE_STOPPED: CardErrorReason.READER_UNAVAILABLE,
    scard.SCARD_E_READER_UNAVAILABLE: CardErrorReason.READER_UNAVAILABLE,
    scard.SCARD_E_NO_READERS_AVAILABLE: CardErrorReason.NO_READER,
    scard.SCARD_E_UNKNOWN_READER: CardErrorReason.NO_READER,
    scard.SCARD_E_NO_SMARTCARD: CardErrorReason.NO_CARD,
    scard.SCARD_W_REMOVED_CARD: CardErrorReason.CARD_REMOVED,
    scard.SCARD_W_UNPOWERED_CARD: CardErrorReason.NO_CARD,
    scard.SCARD_W_UNRESPONSIVE_CARD: CardErrorReason.NO_CARD,
    scard.SCARD_W_RESET_CARD: CardErrorReason.CARD_REMOVED,
    scard.SCARD_E_TIMEOUT: CardErrorReason.TIMEOUT,
    scard.SCARD_E_NOT_TRANSACTED: CardErrorReason.CARD_REMOVED,
    scard.SCARD_F_COMM_ERROR: CardErrorReason.CARD_REMOVED,
    scard.SCARD_E_PROTO_MISMATCH: CardErrorReason.UNSUPPORTED_DOCUMENT,
}


class ExtendedLengthRefused(CardError):
    """The card or reader answered 6700 to an extended-length APDU that cannot be resent short
    (it is secured): the caller must start over with short blocks."""

    def __init__(self) -> None:
        super().__init__(CardErrorReason.PROTOCOL, "extended length refused (6700)")


def _check(hresult: int, action: str, *, during_transmit: bool = False) -> None:
    if hresult == scard.SCARD_S_SUCCESS:
        return
    reason = _ERROR_REASONS.get(hresult, CardErrorReason.READER_UNAVAILABLE)
    if during_transmit and reason is CardErrorReason.NO_CARD:
        reason = CardErrorReason.CARD_REMOVED
    raise CardError(reason, f"{action}: {scard.SCardGetErrorMessage(hresult)} (0x{hresult & 0xFFFFFFFF:08X})")


class _Context:
    """A PC/SC context; released on close."""

    def __init__(self) -> None:
        hresult, self.handle = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        _check(hresult, "establish context")

    def readers(self) -> list[str]:
        hresult, names = scard.SCardListReaders(self.handle, [])
        if hresult in (scard.SCARD_E_NO_READERS_AVAILABLE, scard.SCARD_E_READER_UNAVAILABLE):
            return []
        _check(hresult, "list readers")
        return list(names)

    def close(self) -> None:
        scard.SCardReleaseContext(self.handle)


def list_readers() -> list[str]:
    """Names of the PC/SC readers attached now; raises CardError when pcscd is not reachable."""
    context = _Context()
    try:
        return context.readers()
    finally:
        context.close()


def atr_announces_extended_length(atr: bytes) -> bool | None:
    """What the ATR's card capabilities (ISO 7816-4 8.1.1.2.7, third byte, bit 0x40) say about
    extended Lc/Le: True, False, or None when the ATR does not say."""
    historical = _historical_bytes(atr)
    if not historical or historical[0] not in (0x00, 0x80):
        return None
    body = historical[1:]
    if historical[0] == 0x00:
        body = body[:-3]  # status indicator is the last three bytes, outside the TLV objects
    index = 0
    while index < len(body):
        tag, length = body[index] >> 4, body[index] & 0x0F
        value = body[index + 1 : index + 1 + length]
        if tag == 0x7 and len(value) >= 3:
            return bool(value[2] & 0x40)
        index += 1 + length
    return None


def _historical_bytes(atr: bytes) -> bytes:
    if len(atr) < 2:
        return b""
    count = atr[1] & 0x0F
    index, indicator = 1, atr[1]
    while True:
        # Each of TA/TB/TC/TD present per the high nibble of the indicator byte.
        present = [bool(indicator & bit) for bit in (0x10, 0x20, 0x40, 0x80)]
        index += sum(present)
        if not present[3]:
            break
        if index >= len(atr):
            return b""
        indicator = atr[index]
    start = index + 1
    return atr[start : start + count]


@dataclass
class TransportFigures:
    apdus: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    card_seconds: float = 0.0  # inside SCardConnect/SCardStatus/SCardTransmit
    wait_seconds: float = 0.0  # until a card lay on the reader (the person, not the read)


class CardChannel:
    """A connection to the card on one reader. `transmit` is a `devices.card.apdu.Transmit`."""

    def __init__(self, context: _Context, card_handle: Any, protocol: int, reader: str, atr: bytes) -> None:
        self._context = context
        self._card = card_handle
        self._protocol = protocol
        self.reader = reader
        self.atr = atr
        announced = atr_announces_extended_length(atr)
        self.extended_length = bool(announced)
        self.figures = TransportFigures()

    @classmethod
    def connect(cls, reader_name: str | None = None, *, wait_seconds: float = 0.0) -> CardChannel:
        """Connect to the card on the named reader (or the first reader with a card), waiting up to
        wait_seconds for a card to be put on."""
        context = _Context()
        started = time.perf_counter()
        try:
            reader = _wait_for_card(context, reader_name, wait_seconds)
            present = time.perf_counter()
            hresult, card_handle, protocol = scard.SCardConnect(
                context.handle,
                reader,
                scard.SCARD_SHARE_SHARED,
                scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
            )
            _check(hresult, "connect")
            hresult, _, _, _, atr = scard.SCardStatus(card_handle)
            _check(hresult, "status")
        except BaseException:
            context.close()
            raise
        log.debug("connected to a card on %s, protocol %d", reader, protocol)
        channel = cls(context, card_handle, protocol, reader, bytes(atr))
        # Powering the card up and reading its ATR is card I/O; waiting for it to be put on is not.
        channel.figures.wait_seconds = present - started
        channel.figures.card_seconds = time.perf_counter() - present
        return channel

    @property
    def max_response_length(self) -> int:
        return 65536 if self.extended_length else SHORT_MAX_NE

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        sent = command if self.extended_length else _as_short(command)
        response = self._transmit_following(sent)
        if response.sw == SW_WRONG_LENGTH and sent.needs_extended:
            log.info("extended length refused; falling back to short length")
            self.extended_length = False
            if _is_secured(sent):
                raise ExtendedLengthRefused
            response = self._transmit_following(_as_short(sent))
        return response

    def _transmit_following(self, command: CommandAPDU) -> ResponseAPDU:
        """Send, then follow 6CXX (wrong Le: resend with the right one) and 61XX (GET RESPONSE)."""
        response = self._exchange(command.to_bytes())
        if response.sw1 == 0x6C:
            response = self._exchange(_with_ne(command, response.sw2 or SHORT_MAX_NE).to_bytes())
        data = bytearray(response.data)
        rounds = 0
        while response.sw1 == 0x61:
            rounds += 1
            if rounds > _MAX_CHAINED_GET_RESPONSES:
                raise CardError(CardErrorReason.PROTOCOL, "endless GET RESPONSE chain")
            get_response = CommandAPDU(
                command.cla & 0x03, _GET_RESPONSE_INS, 0, 0, ne=response.sw2 or SHORT_MAX_NE
            )
            response = self._exchange(get_response.to_bytes())
            data += response.data
        return ResponseAPDU(bytes(data), response.sw1, response.sw2)

    def _exchange(self, raw: bytes) -> ResponseAPDU:
        started = time.perf_counter()
        hresult, answer = scard.SCardTransmit(self._card, self._protocol, list(raw))
        self.figures.card_seconds += time.perf_counter() - started
        self.figures.apdus += 1
        self.figures.bytes_sent += len(raw)
        _check(hresult, "transmit", during_transmit=True)
        self.figures.bytes_received += len(answer)
        if len(answer) < 2:
            # vpcd answers "success, no bytes" when the card leaves the field; pcscd notices the
            # removal only at its next poll. No status word means the card is gone for us.
            raise CardError(CardErrorReason.CARD_REMOVED, "reader returned no status word")
        return ResponseAPDU.from_bytes(bytes(answer))

    def close(self, *, unpower: bool = False) -> None:
        if self._card is not None:
            disposition = scard.SCARD_UNPOWER_CARD if unpower else scard.SCARD_LEAVE_CARD
            scard.SCardDisconnect(self._card, disposition)
            self._card = None
        self._context.close()

    def __enter__(self) -> CardChannel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _is_secured(command: CommandAPDU) -> bool:
    return command.cla & 0x0C == 0x0C


def _with_ne(command: CommandAPDU, ne: int | None) -> CommandAPDU:
    return CommandAPDU(command.cla, command.ins, command.p1, command.p2, command.data, ne)


def _as_short(command: CommandAPDU) -> CommandAPDU:
    """The same command within short length: Le capped at 256 (the card sends what fits)."""
    if len(command.data) > SHORT_MAX_NC:
        raise CardError(CardErrorReason.PROTOCOL, "command data too long for short length")
    if command.ne is not None and command.ne > SHORT_MAX_NE:
        return _with_ne(command, SHORT_MAX_NE)
    return command


def wait_for_card(reader_name: str | None, timeout: float) -> str:
    """Block until a card lies on the named reader (or any reader); returns that reader's name.

    Raises CardError: NO_READER when no (such) reader is attached, NO_CARD after the timeout.
    """
    context = _Context()
    try:
        return _wait_for_card(context, reader_name, timeout)
    finally:
        context.close()


def _wait_for_card(context: _Context, reader_name: str | None, wait_seconds: float) -> str:
    deadline = time.monotonic() + wait_seconds
    while True:
        readers = context.readers()
        if not readers:
            raise CardError(CardErrorReason.NO_READER, "no PC/SC reader attached")
        if reader_name is not None and reader_name not in readers:
            raise CardError(CardErrorReason.NO_READER, "the requested reader is not attached")
        candidates = [reader_name] if reader_name is not None else readers
        states = [(name, scard.SCARD_STATE_UNAWARE) for name in candidates]
        # pyscard is untyped: the answer is (hresult, [(reader, event state, ATR bytes)]).
        hresult: int
        changed: list[tuple[str, int, list[int]]]
        hresult, changed = scard.SCardGetStatusChange(context.handle, 0, states)
        if hresult not in (scard.SCARD_S_SUCCESS, scard.SCARD_E_TIMEOUT):
            _check(hresult, "reader status")
        for name, event_state, _atr in changed:
            if event_state & scard.SCARD_STATE_PRESENT and not event_state & scard.SCARD_STATE_MUTE:
                return name
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CardError(CardErrorReason.NO_CARD, "no card on the reader")
        # Block until a reader's state changes (or the poll interval passes).
        watched = [(name, event_state) for name, event_state, _atr in changed]
        timeout = int(min(remaining * 1000, _POLL_MILLISECONDS))
        scard.SCardGetStatusChange(context.handle, timeout, watched)


def wait_for_card_removal(reader_name: str, timeout: float) -> bool:
    """Block until the reader reports no card (True) or the timeout passes (False)."""
    context = _Context()
    try:
        deadline = time.monotonic() + timeout
        state = scard.SCARD_STATE_UNAWARE
        while True:
            hresult, states = scard.SCardGetStatusChange(context.handle, 0, [(reader_name, state)])
            if hresult == scard.SCARD_S_SUCCESS:
                _name, state, _atr = states[0]
                if not state & scard.SCARD_STATE_PRESENT:
                    return True
            elif hresult != scard.SCARD_E_TIMEOUT:
                _check(hresult, "reader status")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            timeout_ms = int(min(remaining * 1000, _POLL_MILLISECONDS))
            scard.SCardGetStatusChange(context.handle, timeout_ms, [(reader_name, state)])
    finally:
        context.close()


@dataclass(frozen=True)
class ReaderEvent:
    kind: str  # "reader_added" | "reader_removed" | "card_inserted" | "card_removed"
    reader: str
    atr: bytes = b""


class ReaderWatcher:
    """Watches PC/SC readers and cards (pyscard's monitors) and reports changes to a callback.

    The callback runs on pyscard's monitor threads; a UI must hand the event to its own thread.
    """

    def __init__(self, on_event: Callable[[ReaderEvent], None]) -> None:
        self._on_event = on_event
        self._lock = threading.Lock()
        self._reader_monitor: Any = None
        self._card_monitor: Any = None
        self._observers: list[Any] = []

    def start(self) -> None:
        from smartcard.CardMonitoring import CardMonitor, CardObserver
        from smartcard.ReaderMonitoring import ReaderMonitor, ReaderObserver

        watcher = self

        class _Readers(ReaderObserver):  # type: ignore[misc]  # pyscard is untyped
            def update(self, observable: object, actions: tuple[list[Any], list[Any]]) -> None:  # noqa: ARG002  (pyscard's observer signature)
                added, removed = actions
                for reader in added:
                    watcher._emit(ReaderEvent("reader_added", str(reader)))
                for reader in removed:
                    watcher._emit(ReaderEvent("reader_removed", str(reader)))

        class _Cards(CardObserver):  # type: ignore[misc]  # pyscard is untyped
            def update(self, observable: object, actions: tuple[list[Any], list[Any]]) -> None:  # noqa: ARG002  (pyscard's observer signature)
                added, removed = actions
                for card in added:
                    watcher._emit(ReaderEvent("card_inserted", str(card.reader), bytes(card.atr)))
                for card in removed:
                    watcher._emit(ReaderEvent("card_removed", str(card.reader), bytes(card.atr)))

        self._reader_monitor = ReaderMonitor()
        self._card_monitor = CardMonitor()
        readers, cards = _Readers(), _Cards()
        self._observers = [readers, cards]
        self._reader_monitor.addObserver(readers)
        self._card_monitor.addObserver(cards)

    def _emit(self, event: ReaderEvent) -> None:
        with self._lock:
            try:
                self._on_event(event)
            except Exception:  # a failing listener must not kill pyscard's monitor thread
                log.exception("reader event listener failed")

    def stop(self) -> None:
        if self._reader_monitor is not None:
            self._reader_monitor.deleteObserver(self._observers[0])
            self._card_monitor.deleteObserver(self._observers[1])
        self._reader_monitor = self._card_monitor = None
        self._observers = []

    def __enter__(self) -> ReaderWatcher:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
