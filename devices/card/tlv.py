"""BER-TLV as used by ICAO 9303 and ISO 7816-4: multi-byte tags, definite lengths up to four bytes.

Tags are kept as the integer of their raw bytes (``0x5F1F``, ``0x7F49``), the way the standards
write them. Parsing is strict: anything truncated, indefinite or trailing raises
``CardError(MALFORMED_DATA)``, because the data comes from a chip we do not trust yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from devices.card.errors import CardError, CardErrorReason

if TYPE_CHECKING:
    from collections.abc import Iterable

MAX_TAG_BYTES = 4  # no standard in the card stack uses longer tags
MAX_LENGTH_BYTES = 4  # 0x84 prefix: lengths below 4 GiB


@dataclass(frozen=True, slots=True)
class TlvHeader:
    """Tag, value length and the number of bytes the tag and length took."""

    tag: int
    length: int
    header_length: int

    @property
    def total_length(self) -> int:
        return self.header_length + self.length


@dataclass(frozen=True, slots=True)
class Tlv:
    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        """Bit 6 of the first tag byte: the value is itself a TLV sequence."""
        return bool(tag_bytes(self.tag)[0] & 0x20)

    def children(self) -> list[Tlv]:
        return parse_tlv(self.value)

    def find(self, tag: int) -> Tlv | None:
        return find(self.children(), tag)

    def require(self, tag: int) -> Tlv:
        return require(self.children(), tag)

    def to_bytes(self) -> bytes:
        return encode_tlv(self.tag, self.value)


def _malformed(detail: str) -> CardError:
    return CardError(CardErrorReason.MALFORMED_DATA, detail)


def parse_tlv_header(data: bytes, offset: int = 0) -> TlvHeader:
    """Read the tag and length at ``offset``; the value itself need not be present yet.

    The LDS reader uses this on the first bytes of a file to learn its total size.
    """
    position = offset
    if position >= len(data):
        raise _malformed("TLV truncated before tag")
    first = data[position]
    position += 1
    tag = first
    if first & 0x1F == 0x1F:  # subsequent tag bytes follow, bit 8 says "more"
        while True:
            if position >= len(data):
                raise _malformed("TLV tag truncated")
            if position - offset >= MAX_TAG_BYTES:
                raise _malformed("TLV tag too long")
            byte = data[position]
            position += 1
            tag = (tag << 8) | byte
            if not byte & 0x80:
                break
    if position >= len(data):
        raise _malformed("TLV truncated before length")
    length_byte = data[position]
    position += 1
    if length_byte < 0x80:
        length = length_byte
    elif length_byte == 0x80:
        raise _malformed("indefinite TLV length")
    else:
        count = length_byte & 0x7F
        if count > MAX_LENGTH_BYTES:
            raise _malformed("TLV length field too long")
        if position + count > len(data):
            raise _malformed("TLV length truncated")
        length = int.from_bytes(data[position : position + count], "big")
        position += count
    return TlvHeader(tag, length, position - offset)


def parse_one(data: bytes, offset: int = 0) -> tuple[Tlv, int]:
    """Parse the TLV at ``offset``; returns it and the offset just after it."""
    header = parse_tlv_header(data, offset)
    start = offset + header.header_length
    end = start + header.length
    if end > len(data):
        raise _malformed("TLV value truncated")
    return Tlv(header.tag, bytes(data[start:end])), end


def parse_tlv(data: bytes) -> list[Tlv]:
    """Parse a complete sequence of TLV objects; every byte must belong to one."""
    items: list[Tlv] = []
    offset = 0
    while offset < len(data):
        item, offset = parse_one(data, offset)
        items.append(item)
    return items


def parse_single(data: bytes, tag: int | None = None) -> Tlv:
    """Parse data that must be exactly one TLV object (optionally with a given tag)."""
    item, end = parse_one(data)
    if end != len(data):
        raise _malformed("trailing bytes after TLV")
    if tag is not None and item.tag != tag:
        raise _malformed(f"expected tag {tag:X}, found {item.tag:X}")
    return item


def find(items: Iterable[Tlv], tag: int) -> Tlv | None:
    """The first object with ``tag`` at this level (no descent into children)."""
    return next((item for item in items if item.tag == tag), None)


def find_all(items: Iterable[Tlv], tag: int) -> list[Tlv]:
    return [item for item in items if item.tag == tag]


def require(items: Iterable[Tlv], tag: int) -> Tlv:
    """Like ``find``, but a missing object is malformed data."""
    item = find(items, tag)
    if item is None:
        raise _malformed(f"missing TLV tag {tag:X}")
    return item


def tag_bytes(tag: int) -> bytes:
    """The raw bytes of a tag kept as an integer."""
    if tag < 0:
        raise ValueError("negative tag")
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode_length(length: int) -> bytes:
    """Definite length: short form below 128, else 0x81..0x84 followed by the length bytes."""
    if length < 0:
        raise ValueError("negative length")
    if length < 0x80:
        return bytes((length,))
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    if len(body) > MAX_LENGTH_BYTES:
        raise ValueError("length too large")
    return bytes((0x80 | len(body),)) + body


def encode_tlv(tag: int, value: bytes) -> bytes:
    return tag_bytes(tag) + encode_length(len(value)) + bytes(value)


def encode_constructed(tag: int, *children: bytes) -> bytes:
    """A constructed object from already encoded children."""
    return encode_tlv(tag, b"".join(children))
