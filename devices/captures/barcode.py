"""The DataMatrix payload of a TR-03170 printout (BSI TR-03170-2 v1.2, §2.3, Tabelle 2).

The symbol carries Base64 text; decoded, the bytes are
  0xE2 (magic) · version 0x01 · len(url) · url (ASCII, ≤ 100) · photo id (16 bytes, UUID)
  · len(alg) · alg (e.g. "AES_256_GCM") · len(iv) · iv · len(padding) · padding · len(key) · key.
Where the spec leaves a detail open we chose, and say so in docs/captures.md: the algorithm and
padding names are read as ASCII text of the C40 character set (the spec says "C40-kodiert" inside a
Base64 byte stream), and only AES-GCM is accepted (its tag is appended to the ciphertext).
The key is personal-data grade: `CloudCode` keeps it out of repr and nothing logs it.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass, field

from devices.captures.errors import CaptureError, CaptureErrorReason

MAGIC = 0xE2
VERSION = 0x01
MAX_URL = 100
MAX_PAYLOAD_TEXT = 1024
_NAME = re.compile(r"^[A-Z0-9_ ]{0,64}$")
# Algorithm name → key length in bytes; the IV of GCM is 96 bits (NIST SP 800-38D recommends it).
SUPPORTED_ALGORITHMS = {"AES_128_GCM": 16, "AES_256_GCM": 32}
GCM_IV_BYTES = 12


@dataclass(frozen=True)
class CloudCode:
    cloud_url: str
    photo_id: uuid.UUID
    algorithm: str
    iv: bytes = field(repr=False)
    padding: str = ""
    key: bytes = field(default=b"", repr=False)

    @property
    def origin(self) -> str:
        return self.cloud_url.rstrip("/")


def parse_cloud_code(text: str) -> CloudCode:
    """Parse the scanned text; every length and field is checked, a bad one is INVALID_CODE."""
    if len(text) > MAX_PAYLOAD_TEXT:
        raise CaptureError(CaptureErrorReason.INVALID_CODE, "too long")
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CaptureError(CaptureErrorReason.INVALID_CODE, "not base64") from None
    reader = _Reader(raw)
    if reader.byte() != MAGIC:
        raise CaptureError(CaptureErrorReason.INVALID_CODE, "magic")
    if reader.byte() != VERSION:
        raise CaptureError(CaptureErrorReason.UNSUPPORTED_ALGORITHM, "barcode version")
    url_bytes = reader.field()
    if not 1 <= len(url_bytes) <= MAX_URL:
        raise CaptureError(CaptureErrorReason.INVALID_CODE, "url length")
    url = _ascii(url_bytes, "url")
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~\-/]*)?", url):
        raise CaptureError(CaptureErrorReason.INVALID_CODE, "url syntax")
    photo_id = uuid.UUID(bytes=reader.take(16))
    algorithm = _name(reader.field(), "algorithm")
    iv = reader.field()
    padding = _name(reader.field(), "padding")
    key = reader.field()
    if not reader.at_end():
        raise CaptureError(CaptureErrorReason.INVALID_CODE, "trailing bytes")
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise CaptureError(CaptureErrorReason.UNSUPPORTED_ALGORITHM, "algorithm")
    if len(key) != SUPPORTED_ALGORITHMS[algorithm] or len(iv) != GCM_IV_BYTES or padding not in ("", "NONE"):
        raise CaptureError(CaptureErrorReason.INVALID_CODE, "key/iv/padding")
    return CloudCode(url, photo_id, algorithm, iv, padding, key)


def build_cloud_code(code: CloudCode) -> str:
    """The Base64 payload for a code (the simulator prints these; tests round-trip them)."""
    url = code.cloud_url.encode("ascii")
    if len(url) > MAX_URL:
        raise ValueError("cloud url longer than 100 characters")
    parts = [bytes([MAGIC, VERSION, len(url)]), url, code.photo_id.bytes]
    for value in (code.algorithm.encode("ascii"), code.iv, code.padding.encode("ascii"), code.key):
        parts += [bytes([len(value)]), value]
    return base64.b64encode(b"".join(parts)).decode("ascii")


def _ascii(value: bytes, what: str) -> str:
    try:
        return value.decode("ascii")
    except UnicodeDecodeError:
        raise CaptureError(CaptureErrorReason.INVALID_CODE, what) from None


def _name(value: bytes, what: str) -> str:
    text = _ascii(value, what)
    if not _NAME.fullmatch(text):
        raise CaptureError(CaptureErrorReason.INVALID_CODE, what)
    return text


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def take(self, count: int) -> bytes:
        if self._at + count > len(self._data):
            raise CaptureError(CaptureErrorReason.INVALID_CODE, "truncated")
        value = self._data[self._at : self._at + count]
        self._at += count
        return value

    def byte(self) -> int:
        return self.take(1)[0]

    def field(self) -> bytes:
        return self.take(self.byte())

    def at_end(self) -> bool:
        return self._at == len(self._data)
