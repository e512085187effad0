"""Kassenzeichen: the payment reference on a receipt — prefix, running number, check digit.

Both sides apply this rule (the workstation issues numbers from a range the central service
reserved for its desk, the central service checks the numbers it receives), so it lives in sync/.

Check digit: **modulus 11, weights 2, 3, 4, 5, 6, 7 repeating from the right** (the weights of the
Bundesbank's check-digit method 06), over prefix and running number. Chosen over
Luhn (mod 10) because Luhn misses the adjacent transposition 09 ↔ 90, while mod 11 detects
*every* single-digit error (each weight is a unit modulo the prime 11) and *every* adjacent
transposition (neighbouring weights, the check digit's weight 1 included, differ by 1 or 5, also
units modulo 11). The price: a remainder of 10 has no digit. Such running numbers are simply not
issued (`issue_next` skips them, about one in eleven), so every Kassenzeichen stays all-digit for
bank transfer forms, and the guarantees hold without the usual "10 counts as 0" weakening.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WEIGHTS = (2, 3, 4, 5, 6, 7)
MODULUS = 11
RUNNING_NUMBER_DIGITS = 7
# The central service reserves running numbers per desk in ranges of this size (about 909 of each
# 1000 are issuable, the rest have no check digit); a desk asks for its next range while less than
# REFILL_SHARE of its range is left, so it has a whole range in hand before an outage.
RANGE_SIZE = 1000
REFILL_SHARE = 0.2
DEFAULT_PREFIX = "5101"  # the cash office's digits where the central service is given none
_SEPARATORS = re.compile(r"[\s\-./]")


class KassenzeichenError(ValueError):
    """A malformed or mistyped Kassenzeichen, or an exhausted range."""


def check_digit(digits: str) -> int | None:
    """The mod-11 check digit of `digits`, or None when the remainder allows none (not issued)."""
    if not digits.isascii() or not digits.isdigit():
        raise KassenzeichenError("a Kassenzeichen consists of digits only")
    total = sum(int(digit) * WEIGHTS[index % len(WEIGHTS)] for index, digit in enumerate(reversed(digits)))
    check = (MODULUS - total % MODULUS) % MODULUS
    return None if check == 10 else check


def is_valid(text: str) -> bool:
    """True when the check digit (the last digit) fits the digits before it; separators are ignored."""
    digits = _SEPARATORS.sub("", text)
    if len(digits) < 2 or not digits.isascii() or not digits.isdigit():
        return False
    return check_digit(digits[:-1]) == int(digits[-1])


@dataclass(frozen=True, order=True)
class Kassenzeichen:
    prefix: str  # the cash office's digits, e.g. "5101"
    running_number: int

    def __post_init__(self) -> None:
        if not self.prefix.isascii() or not self.prefix.isdigit() or not 2 <= len(self.prefix) <= 8:
            raise KassenzeichenError("the prefix must be 2 to 8 digits")
        if not 0 <= self.running_number < 10**RUNNING_NUMBER_DIGITS:
            raise KassenzeichenError(f"the running number must have at most {RUNNING_NUMBER_DIGITS} digits")
        if check_digit(self.payload) is None:
            raise KassenzeichenError("this running number has no mod-11 check digit and is never issued")

    @property
    def payload(self) -> str:
        return f"{self.prefix}{self.running_number:0{RUNNING_NUMBER_DIGITS}d}"

    @property
    def check(self) -> int:
        digit = check_digit(self.payload)
        assert digit is not None  # guaranteed by __post_init__
        return digit

    def __str__(self) -> str:
        """Grouped for reading aloud and typing: '5101-0004711-3'."""
        return f"{self.prefix}-{self.running_number:0{RUNNING_NUMBER_DIGITS}d}-{self.check}"

    @property
    def digits(self) -> str:
        return f"{self.payload}{self.check}"

    @classmethod
    def parse(cls, text: str, prefix_length: int) -> Kassenzeichen:
        """Read a Kassenzeichen typed or scanned, with or without separators."""
        digits = _SEPARATORS.sub("", text)
        if len(digits) != prefix_length + RUNNING_NUMBER_DIGITS + 1:
            raise KassenzeichenError("wrong number of digits for a Kassenzeichen")
        if not is_valid(digits):
            raise KassenzeichenError("check digit does not match: mistyped Kassenzeichen")
        return cls(digits[:prefix_length], int(digits[prefix_length:-1]))


@dataclass(frozen=True)
class KassenzeichenRange:
    """Running numbers first..last (inclusive) reserved for one desk, so offline desks never collide."""

    prefix: str
    first: int
    last: int

    def __post_init__(self) -> None:
        if not 0 <= self.first <= self.last < 10**RUNNING_NUMBER_DIGITS:
            raise KassenzeichenError("invalid range of running numbers")

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    def left(self, last_issued: int | None) -> int:
        """Running numbers after `last_issued` still in the range (issuable or skipped)."""
        return self.size if last_issued is None else max(0, self.last - last_issued)

    def runs_low(self, last_issued: int | None) -> bool:
        """Time to ask for the next range: less than REFILL_SHARE of this one is left."""
        return self.left(last_issued) < REFILL_SHARE * self.size

    def issue_next(self, last_issued: int | None) -> Kassenzeichen:
        """The next issuable Kassenzeichen after `last_issued` (None: the range's first)."""
        number = self.first if last_issued is None else last_issued + 1
        while number <= self.last:
            if check_digit(f"{self.prefix}{number:0{RUNNING_NUMBER_DIGITS}d}") is not None:
                return Kassenzeichen(self.prefix, number)
            number += 1
        raise KassenzeichenError("the reserved range of Kassenzeichen is used up")
