"""Strict Base64 (no whitespace, no stray characters) for the parsers."""

from __future__ import annotations

import base64
import binascii

from devices.captures.errors import CaptureError, CaptureErrorReason


def b64decode_strict(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CaptureError(CaptureErrorReason.MALFORMED, f"{what}: base64") from None


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
