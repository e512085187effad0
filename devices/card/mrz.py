"""Machine readable zone (ICAO 9303-3/-4/-5): parse TD1, TD2 and TD3, build them, transliterate names.

The parser is used on DG1 from a chip we do not trust yet and on text the clerk typed, so anything
outside the MRZ shape raises ``CardError(MALFORMED_DATA)``. Wrong check digits do not raise: the
data is still shown, with ``check_digits_ok`` false, so the clerk sees the problem.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from devices.card.access import check_digit
from devices.card.errors import CardError, CardErrorReason

MrzFormat = Literal["TD1", "TD2", "TD3"]
LINE_SHAPES: dict[tuple[int, ...], MrzFormat] = {(30, 30, 30): "TD1", (36, 36): "TD2", (44, 44): "TD3"}
# DG1 stores the MRZ without line breaks.
FLAT_LENGTHS: dict[int, MrzFormat] = {90: "TD1", 72: "TD2", 88: "TD3"}
WIDTHS: dict[MrzFormat, int] = {"TD1": 30, "TD2": 36, "TD3": 44}

_MRZ_ALPHABET = re.compile(r"[0-9A-Z<]*")
_DATE_FIELD = re.compile(r"[0-9<]{6}")

# ICAO 9303-3 §6 (transliteration of Latin characters) for letters that are not a base letter plus
# accents; everything else loses its diacritics.
_SPECIAL_LETTERS: dict[str, str] = {
    "Ä": "AE", "Ö": "OE", "Ü": "UE", "ß": "SS", "ẞ": "SS", "Å": "AA", "Æ": "AE", "Ø": "OE",
    "Œ": "OE", "Þ": "TH", "Ð": "D", "Đ": "D", "Ł": "L", "Ħ": "H", "Ĳ": "IJ", "Ŋ": "N", "ı": "I",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class MrzData:
    """The printed data of a document as its MRZ carries it. Personal data: never log it."""

    document_code: str = field(repr=False)
    issuing_state: str = field(repr=False)
    document_number: str = field(repr=False)
    surname: str = field(repr=False)
    given_names: str = field(repr=False)
    nationality: str = field(repr=False)
    birth_date: date = field(repr=False)  # unknown day/month ('<<') become 01
    sex: str = field(repr=False)  # "F", "M" or "X" ('<' in the MRZ)
    expiry_date: date = field(repr=False)
    optional_data: str = field(repr=False)
    check_digits_ok: bool
    format: MrzFormat


def _malformed(detail: str) -> CardError:
    return CardError(CardErrorReason.MALFORMED_DATA, detail)


def icao_transliterate(name: str) -> str:
    """A name in the MRZ alphabet: Ä→AE, Ö→OE, Ü→UE, ß→SS, accents dropped, upper case.

    Spaces and hyphens become single spaces (the MRZ writes them as '<'); apostrophes and other
    punctuation are dropped; characters with no Latin transliteration are dropped too.
    """
    result: list[str] = []
    for char in name.strip():
        upper = char.upper() if char not in ("ß", "ı") else char
        if upper in _SPECIAL_LETTERS:
            result.append(_SPECIAL_LETTERS[upper])
        elif upper in " -\t":
            result.append(" ")
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", upper) if not unicodedata.combining(c))
            result.append("".join(c for c in base.upper() if "A" <= c <= "Z"))
    return " ".join("".join(result).split())


def mrz_name(surname: str, given_names: str, width: int) -> str:
    """The name field: SURNAME<<GIVEN<NAMES, filled or truncated to ``width``."""
    field_text = icao_transliterate(surname).replace(" ", "<") + "<<" + icao_transliterate(given_names)
    return field_text.replace(" ", "<")[:width].ljust(width, "<")


def _split_lines(text: str) -> tuple[list[str], MrzFormat]:
    compact = text.strip().replace("\r", "")
    if "\n" in compact:
        lines = [line.strip().replace(" ", "") for line in compact.split("\n") if line.strip()]
        shape = LINE_SHAPES.get(tuple(len(line) for line in lines))
        if shape is None:
            raise _malformed("MRZ lines have neither TD1, TD2 nor TD3 shape")
        return lines, shape
    shape = FLAT_LENGTHS.get(len(compact))
    if shape is None:
        raise _malformed("MRZ length fits neither TD1, TD2 nor TD3")
    width = WIDTHS[shape]
    return [compact[start : start + width] for start in range(0, len(compact), width)], shape


def _date(value: str, *, expiry: bool, today: date) -> date:
    """YYMMDD to a date. Birth dates lie in the past; expiry dates within the next 50 years."""
    if not _DATE_FIELD.fullmatch(value):
        raise _malformed("MRZ date is not YYMMDD")
    year = int(value[0:2]) if value[0:2].isdigit() else 0
    month = int(value[2:4]) if value[2:4].isdigit() else 1
    day = int(value[4:6]) if value[4:6].isdigit() else 1
    century = today.year // 100 * 100
    full_year = century + year
    if expiry and full_year < today.year - 50:
        full_year += 100
    if not expiry and full_year > today.year:
        full_year -= 100
    try:
        return date(full_year, month, day)
    except ValueError as error:
        raise _malformed("MRZ date does not exist") from error


def _name(field_text: str) -> tuple[str, str]:
    surname, _, given = field_text.rstrip("<").partition("<<")
    return surname.replace("<", " ").strip(), given.replace("<", " ").strip()


def _digit_ok(value: str, printed: str) -> bool:
    # An all-filler optional field may carry '<' as its check digit (9303-4 §4.2.2.2).
    if printed == "<":
        return value.strip("<") == ""
    return check_digit(value) == printed


def parse_mrz(text: str, *, today: date | None = None) -> MrzData:
    """Parse an MRZ given as lines (TD1 3×30, TD2 2×36, TD3 2×44) or as DG1 stores it (no breaks)."""
    lines, shape = _split_lines(text.upper())
    if not all(_MRZ_ALPHABET.fullmatch(line) for line in lines):
        raise _malformed("MRZ contains characters outside its alphabet")
    today = today or date.today()
    if shape == "TD1":
        return _parse_td1(lines, today)
    return _parse_td2_td3(lines, shape, today)


def _parse_td1(lines: list[str], today: date) -> MrzData:
    first, second, third = lines
    number, number_check = first[5:14], first[14]
    optional = first[15:30]
    if number_check == "<" and optional.strip("<"):
        # Long document numbers continue in the optional data, ending with their check digit.
        extension, _, rest = optional.partition("<")
        number, number_check, optional = number + extension[:-1], extension[-1:], rest
    composite = first[5:30] + second[0:7] + second[8:15] + second[18:29]
    checks = [
        _digit_ok(number, number_check),
        check_digit(second[0:6]) == second[6],
        check_digit(second[8:14]) == second[14],
        check_digit(composite) == second[29],
    ]
    surname, given = _name(third)
    return MrzData(
        document_code=first[0:2].rstrip("<"),
        issuing_state=first[2:5].rstrip("<"),
        document_number=number.rstrip("<"),
        surname=surname,
        given_names=given,
        nationality=second[15:18].rstrip("<"),
        birth_date=_date(second[0:6], expiry=False, today=today),
        sex=_sex(second[7]),
        expiry_date=_date(second[8:14], expiry=True, today=today),
        optional_data=(optional.strip("<") + " " + second[18:29].strip("<")).strip(),
        check_digits_ok=all(checks),
        format="TD1",
    )


def _parse_td2_td3(lines: list[str], shape: MrzFormat, today: date) -> MrzData:
    first, second = lines
    # TD3 has its own check digit after the optional data; the composite covers it, TD2 has none.
    optional_end = 42 if shape == "TD3" else 35
    composite_end = 43 if shape == "TD3" else 35
    checks = [
        check_digit(second[0:9]) == second[9],
        check_digit(second[13:19]) == second[19],
        check_digit(second[21:27]) == second[27],
        check_digit(second[0:10] + second[13:20] + second[21:composite_end]) == second[-1],
    ]
    if shape == "TD3":
        checks.append(_digit_ok(second[28:42], second[42]))
    surname, given = _name(first[5:])
    return MrzData(
        document_code=first[0:2].rstrip("<"),
        issuing_state=first[2:5].rstrip("<"),
        document_number=second[0:9].rstrip("<"),
        surname=surname,
        given_names=given,
        nationality=second[10:13].rstrip("<"),
        birth_date=_date(second[13:19], expiry=False, today=today),
        sex=_sex(second[20]),
        expiry_date=_date(second[21:27], expiry=True, today=today),
        optional_data=second[28:optional_end].strip("<"),
        check_digits_ok=all(checks),
        format=shape,
    )


def _sex(char: str) -> str:
    if char not in "FMX<":
        raise _malformed("MRZ sex field is not F, M or <")
    return "X" if char == "<" else char


def _field(value: str, width: int) -> str:
    if len(value) > width:
        raise ValueError("MRZ field too long")
    return value.ljust(width, "<")


def _yymmdd(value: date) -> str:
    return value.strftime("%y%m%d")


def build_td1(
    *,
    document_code: str,
    issuing_state: str,
    document_number: str,
    surname: str,
    given_names: str,
    nationality: str,
    birth_date: date,
    sex: str,
    expiry_date: date,
    optional_data: str = "",
) -> str:
    """Three 30-character lines with all check digits (9303-5); document numbers up to 9 characters."""
    number = _field(document_number, 9)
    first = _field(document_code, 2) + _field(issuing_state, 3) + number + check_digit(number)
    first += _field(optional_data, 15)
    birth, expiry = _yymmdd(birth_date), _yymmdd(expiry_date)
    second = birth + check_digit(birth) + (sex if sex in "FM" else "<") + expiry + check_digit(expiry)
    second += _field(nationality, 3) + "<" * 11
    composite = first[5:30] + second[0:7] + second[8:15] + second[18:29]
    second += check_digit(composite)
    return "\n".join((first, second, mrz_name(surname, given_names, 30)))


def build_td3(
    *,
    document_code: str,
    issuing_state: str,
    document_number: str,
    surname: str,
    given_names: str,
    nationality: str,
    birth_date: date,
    sex: str,
    expiry_date: date,
    optional_data: str = "",
) -> str:
    """Two 44-character lines with all check digits (9303-4)."""
    first = _field(document_code, 2) + _field(issuing_state, 3) + mrz_name(surname, given_names, 39)
    number = _field(document_number, 9)
    birth, expiry = _yymmdd(birth_date), _yymmdd(expiry_date)
    optional = _field(optional_data, 14)
    optional_check = check_digit(optional) if optional.strip("<") else "<"
    second = number + check_digit(number) + _field(nationality, 3) + birth + check_digit(birth)
    second += (sex if sex in "FM" else "<") + expiry + check_digit(expiry) + optional + optional_check
    second += check_digit(second[0:10] + second[13:20] + second[21:43])
    return first + "\n" + second
