"""Pure rules around a card read: do the chip's names match the appointment, is the document about to
expire, and how the passive-authentication verdict is worded for the clerk.

No I/O and no Textual here: `workstation.card_reading` applies these rules to a real read, and they
are unit- and property-tested on their own.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from devices.card.mrz import icao_transliterate
from workstation.i18n import _, format_date

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

# Length of the MRZ name field (surname<<given<names): a full field may have been truncated.
NAME_FIELD_LENGTH = {"TD1": 30, "TD2": 31, "TD3": 39}
EXPIRY_REMINDER_MONTHS = 3

_NOT_LETTER = re.compile(r"[^A-Z]+")


class NameMatch(StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"
    NO_APPOINTMENT = "no_appointment"


@dataclass(frozen=True)
class NameComparison:
    """How the chip's names compare with the names the appointment was booked under."""

    status: NameMatch
    surname_matches: bool | None
    given_names_match: bool | None
    birth_date_matches: bool | None  # None when the booking has no birth date
    message: str  # German, for the clerk

    @property
    def mismatch(self) -> bool:
        return self.status is NameMatch.MISMATCH


def mrz_tokens(name: str) -> list[str]:
    """A name as the MRZ spells it, split into words: ICAO transliteration (Ä→AE, ß→SS, accents
    stripped), apostrophes dropped, every other non-letter (hyphen, space, filler '<') a separator."""
    spelled = icao_transliterate(name.replace("<", " ").replace("'", "").replace("’", ""))
    return [token for token in _NOT_LETTER.split(spelled) if token]


def _name_field_full(surname: Sequence[str], given: Sequence[str], mrz_format: str) -> bool:
    """True when the chip's name field is used up: the MRZ may have cut the name. A cut right after
    a word leaves one trailing filler, which the parser strips, hence the one character of slack."""
    length = NAME_FIELD_LENGTH.get(mrz_format)
    if length is None:
        return False
    used = len("<".join(surname)) + 2 + len("<".join(given))
    return used >= length - 1


def _is_subsequence(wanted: Iterable[str], available: Sequence[str]) -> bool:
    remaining = iter(available)
    return all(any(token == candidate for candidate in remaining) for token in wanted)


def _truncated_match(chip: Sequence[str], booked: Sequence[str]) -> bool:
    """A truncated MRZ keeps a prefix of each word (down to initials) and may drop trailing words."""
    if not chip or len(chip) > len(booked):
        return False
    pairs = zip(chip, booked, strict=False)
    return all(booked_word.startswith(chip_word) for chip_word, booked_word in pairs)


def compare_names(
    *,
    chip_surname: str,
    chip_given_names: str,
    chip_birth_date: date | None,
    mrz_format: str,
    booked_surname: str | None,
    booked_given_names: str | None,
    booked_birth_date: date | None = None,
) -> NameComparison:
    """Compare the chip's names with the booking's (ICAO transliteration on the booked side).

    Tolerated: the MRZ's truncation when its name field is full, and given names the booking left out
    (a citizen books as "Anna" while the card says "ANNA MARIA"). Anything else is a mismatch.
    """
    if booked_surname is None:
        message = _("Kein Termin: kein Namensabgleich.")
        return NameComparison(NameMatch.NO_APPOINTMENT, None, None, None, message)
    chip_last, chip_first = mrz_tokens(chip_surname), mrz_tokens(chip_given_names)
    booked_last, booked_first = mrz_tokens(booked_surname), mrz_tokens(booked_given_names or "")
    truncated = _name_field_full(chip_last, chip_first, mrz_format)

    surname_ok = chip_last == booked_last or (truncated and _truncated_match(chip_last, booked_last))
    if truncated:
        given_ok = (
            not chip_first  # the surname used the whole field
            or chip_first == booked_first
            or _truncated_match(chip_first, booked_first)
            or (bool(booked_first) and _is_subsequence(booked_first, chip_first))
        )
    else:
        given_ok = bool(booked_first) and _is_subsequence(booked_first, chip_first)
    birth_ok = None
    if booked_birth_date is not None and chip_birth_date is not None:
        birth_ok = booked_birth_date == chip_birth_date

    problems = []
    if not surname_ok:
        problems.append(_("Familienname"))
    if not given_ok:
        problems.append(_("Vorname"))
    if birth_ok is False:
        problems.append(_("Geburtsdatum"))
    if problems:
        template = _("ABWEICHUNG zum Termin: {fields} stimmt nicht überein.")
        message = template.format(fields=", ".join(problems))
        return NameComparison(NameMatch.MISMATCH, surname_ok, given_ok, birth_ok, message)
    message = _("Name stimmt mit dem Termin überein.")
    if truncated:
        message = _("Name stimmt mit dem Termin überein (in der MRZ gekürzt).")
    elif len(booked_first) < len(chip_first):
        message = _("Name stimmt mit dem Termin überein (weitere Vornamen auf dem Dokument).")
    return NameComparison(NameMatch.MATCH, surname_ok, given_ok, birth_ok, message)


class ExpiryKind(StrEnum):
    EXPIRED = "expired"
    EXPIRES_SOON = "expires_soon"


@dataclass(frozen=True)
class ExpiryNotice:
    kind: ExpiryKind
    expiry_date: date
    days_left: int  # negative once expired
    message: str  # German, for the clerk


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (30 Nov + 3 months → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expiry_notice(expiry_date: date, today: date) -> ExpiryNotice | None:
    """A warning when the document is expired or expires within three months (valid through its
    expiry date), else None."""
    days_left = (expiry_date - today).days
    shown = format_date(expiry_date)
    if expiry_date < today:
        message = _("Dokument ist ABGELAUFEN (gültig bis {date}).").format(date=shown)
        return ExpiryNotice(ExpiryKind.EXPIRED, expiry_date, days_left, message)
    if expiry_date <= add_months(today, EXPIRY_REMINDER_MONTHS):
        if days_left == 0:
            when = _("heute")
        elif days_left == 1:
            when = _("morgen")
        else:
            when = _("in {days} Tagen").format(days=days_left)
        message = _("Dokument läuft {when} ab ({date}). Bitte an die Verlängerung erinnern.").format(
            when=when, date=shown
        )
        return ExpiryNotice(ExpiryKind.EXPIRES_SOON, expiry_date, days_left, message)
    return None
