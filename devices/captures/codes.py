"""The terminal's capture code: an Identnummer of 8 letters/digits plus the day and month of birth
(DDMM), after the Speed-Capture pattern. Clerks type it with or without dashes and spaces.

The code is a bearer secret and carries part of a birth date: it is never logged.
"""

from __future__ import annotations

import re
from calendar import monthrange

from devices.captures.errors import CaptureError, CaptureErrorReason

_CODE = re.compile(r"^[A-Z0-9]{8}[0-9]{4}$")
_SEPARATORS = re.compile(r"[\s\-]")


def normalize_capture_code(text: str) -> str:
    """The code in canonical form (12 characters, upper case), or CaptureError(INVALID_CODE)."""
    if len(text) > 64:
        raise CaptureError(CaptureErrorReason.INVALID_CODE, "too long")
    if not text.isascii():  # before upper(): "ſ".upper() is "S", "ı".upper() is "I"
        raise CaptureError(CaptureErrorReason.INVALID_CODE, "syntax")
    code = _SEPARATORS.sub("", text).upper()
    if not _CODE.fullmatch(code):
        raise CaptureError(CaptureErrorReason.INVALID_CODE, "syntax")
    day, month = int(code[8:10]), int(code[10:12])
    # 2000 is a leap year, so 29.02 is accepted: the year of birth is not in the code.
    if not 1 <= month <= 12 or not 1 <= day <= monthrange(2000, month)[1]:
        raise CaptureError(CaptureErrorReason.INVALID_CODE, "day/month")
    return code


def display_capture_code(code: str) -> str:
    """`K7M2X9Q41503` → `K7M2-X9Q4-1503`, as the terminal prints it."""
    return f"{code[0:4]}-{code[4:8]}-{code[8:12]}"
