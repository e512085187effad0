"""ISO 7816-4 command and response APDUs, short and extended length.

``ne`` is the expected maximum response length (Ne): ``None`` means no Le field at all (German
documents refuse Le on SELECT and MSE:Set AT), 256 is the short maximum (Le ``00``) and 65536 the
extended maximum (Le ``0000``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from devices.card.errors import CardError, CardErrorReason

SHORT_MAX_NC = 255
SHORT_MAX_NE = 256
EXTENDED_MAX_NE = 65536


@dataclass(frozen=True, slots=True)
class CommandAPDU:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int | None = None

    @property
    def needs_extended(self) -> bool:
        return len(self.data) > SHORT_MAX_NC or (self.ne is not None and self.ne > SHORT_MAX_NE)

    def to_bytes(self, extended: bool | None = None) -> bytes:
        """Encode; ``extended=None`` picks extended length only when the fields need it."""
        use_extended = self.needs_extended if extended is None else extended
        if not use_extended and self.needs_extended:
            raise ValueError("APDU fields do not fit short length")
        header = bytes((self.cla, self.ins, self.p1, self.p2))
        body = bytearray()
        if use_extended:
            if self.data:
                body += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
            if self.ne is not None:
                le = 0 if self.ne >= EXTENDED_MAX_NE else self.ne
                body += (b"" if self.data else b"\x00") + le.to_bytes(2, "big")
        else:
            if self.data:
                body += bytes((len(self.data),)) + self.data
            if self.ne is not None:
                body += bytes((0 if self.ne >= SHORT_MAX_NE else self.ne,))
        return header + bytes(body)

    @classmethod
    def from_bytes(cls, raw: bytes) -> CommandAPDU:
        """Decode the four ISO 7816-3 cases, short and extended; raises on malformed input."""
        if len(raw) < 4:
            raise CardError(CardErrorReason.MALFORMED_DATA, "command APDU shorter than header")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, ne=body[0] or SHORT_MAX_NE)
        if body[0] != 0:  # short Lc
            nc = body[0]
            if len(body) == 1 + nc:
                return cls(cla, ins, p1, p2, body[1:])
            if len(body) == 2 + nc:
                return cls(cla, ins, p1, p2, body[1 : 1 + nc], body[-1] or SHORT_MAX_NE)
            raise CardError(CardErrorReason.MALFORMED_DATA, "short APDU length mismatch")
        # Extended: first body byte is 00.
        if len(body) == 3:
            le = int.from_bytes(body[1:3], "big")
            return cls(cla, ins, p1, p2, ne=le or EXTENDED_MAX_NE)
        if len(body) < 3:
            raise CardError(CardErrorReason.MALFORMED_DATA, "extended APDU too short")
        nc = int.from_bytes(body[1:3], "big")
        if nc == 0:
            raise CardError(CardErrorReason.MALFORMED_DATA, "extended APDU with Lc 0")
        rest = body[3:]
        if len(rest) == nc:
            return cls(cla, ins, p1, p2, rest)
        if len(rest) == nc + 2:
            le = int.from_bytes(rest[nc:], "big")
            return cls(cla, ins, p1, p2, rest[:nc], le or EXTENDED_MAX_NE)
        raise CardError(CardErrorReason.MALFORMED_DATA, "extended APDU length mismatch")


@dataclass(frozen=True, slots=True)
class ResponseAPDU:
    data: bytes
    sw1: int
    sw2: int

    @property
    def sw(self) -> int:
        return (self.sw1 << 8) | self.sw2

    @property
    def ok(self) -> bool:
        return self.sw == 0x9000

    def to_bytes(self) -> bytes:
        return self.data + bytes((self.sw1, self.sw2))

    @classmethod
    def from_bytes(cls, raw: bytes) -> ResponseAPDU:
        if len(raw) < 2:
            raise CardError(CardErrorReason.MALFORMED_DATA, "response APDU shorter than status word")
        return cls(bytes(raw[:-2]), raw[-2], raw[-1])

    @classmethod
    def status(cls, sw: int) -> ResponseAPDU:
        return cls(b"", sw >> 8, sw & 0xFF)


# What every protocol layer sends through: plain, or wrapped by secure messaging.
Transmit = Callable[[CommandAPDU], ResponseAPDU]
