"""The secrets that open a document chip: the CAN printed on the card, or three MRZ fields.

ICAO 9303-11 §4.3 / §9.7: PACE takes the CAN itself or SHA-1 of the "MRZ information" (document
number, birth date, expiry date, each with its check digit) as password; BAC derives its keys from
the same MRZ information. The values are personal data: they never appear in ``repr`` or logs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from devices.card.errors import CardError, CardErrorReason

CAN_LENGTH = 6
DOCUMENT_NUMBER_FIELD = 9  # the MRZ field; longer numbers spill into the optional data (TD1)
_WEIGHTS = (7, 3, 1)
_DATE = re.compile(r"[0-9<]{6}")
_DOCUMENT_NUMBER = re.compile(r"[0-9A-Z<]{1,22}")


class InvalidAccessKey(CardError, ValueError):
    """The clerk typed a CAN or MRZ that cannot be right; caught before talking to the chip."""

    def __init__(self, detail: str, user_message: str) -> None:
        super().__init__(CardErrorReason.ACCESS_DENIED, detail)
        self._user_message = user_message

    @property
    def user_message(self) -> str:
        return self._user_message


def _character_value(char: str) -> int:
    if char.isdigit() and char.isascii():
        return int(char)
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    if char == "<":
        return 0
    raise InvalidAccessKey("character outside the MRZ alphabet", "Die MRZ enthält ungültige Zeichen.")


def check_digit(text: str) -> str:
    """ICAO 9303-3 §4.9: weights 7-3-1, digits as themselves, A-Z as 10-35, filler '<' as 0."""
    total = sum(_character_value(char) * _WEIGHTS[index % 3] for index, char in enumerate(text))
    return str(total % 10)


@dataclass(frozen=True, slots=True)
class CanKey:
    """Card Access Number: six digits printed on the front of the German ID card."""

    can: str = field(repr=False)

    # PACE password reference in MSE:Set AT (9303-11 §4.4.4.1, tag 83).
    password_reference = 2

    def __post_init__(self) -> None:
        if len(self.can) != CAN_LENGTH or not (self.can.isascii() and self.can.isdigit()):
            raise InvalidAccessKey("CAN is not six digits", "Die CAN muss aus genau 6 Ziffern bestehen.")

    def pace_password(self) -> bytes:
        return self.can.encode("ascii")


@dataclass(frozen=True, slots=True)
class MrzKey:
    """Document number, birth date and expiry date (both ``YYMMDD``) as read from the MRZ."""

    document_number: str = field(repr=False)
    birth_date: str = field(repr=False)
    expiry_date: str = field(repr=False)

    password_reference = 1

    def __post_init__(self) -> None:
        number = self.document_number.strip().upper().replace(" ", "").rstrip("<")
        if not _DOCUMENT_NUMBER.fullmatch(number):
            raise InvalidAccessKey(
                "document number not in MRZ alphabet", "Die Dokumentennummer ist ungültig."
            )
        for name, value in (("birth", self.birth_date), ("expiry", self.expiry_date)):
            if not _DATE.fullmatch(value) or not _plausible_date(value):
                raise InvalidAccessKey(
                    f"{name} date is not YYMMDD", "Geburts- und Ablaufdatum bitte als JJMMTT eingeben."
                )
        object.__setattr__(self, "document_number", number)

    def mrz_information(self) -> str:
        """Document number (filled to 9) + check digit + birth + check digit + expiry + check digit."""
        number = self.document_number.ljust(DOCUMENT_NUMBER_FIELD, "<")
        return (
            number + check_digit(number)
            + self.birth_date + check_digit(self.birth_date)
            + self.expiry_date + check_digit(self.expiry_date)
        )  # fmt: skip

    def key_seed(self) -> bytes:
        """BAC K_seed: the first 16 bytes of SHA-1 over the MRZ information (9303-11 §9.7.2)."""
        return hashlib.sha1(self.mrz_information().encode("ascii")).digest()[:16]

    def pace_password(self) -> bytes:
        """PACE password from the MRZ: SHA-1 over the MRZ information, all 20 bytes."""
        return hashlib.sha1(self.mrz_information().encode("ascii")).digest()

    @classmethod
    def from_mrz(cls, text: str) -> MrzKey:
        """Take the three fields from a full MRZ: TD1 (3×30), TD2 (2×36) or TD3 (2×44).

        Check digits are verified so that a typo is reported before the chip locks us out.
        """
        lines = [line.strip().replace(" ", "").upper() for line in text.strip().splitlines() if line.strip()]
        widths = tuple(len(line) for line in lines)
        if widths == (30, 30, 30):
            number, number_check = _td1_document_number(lines[0])
            birth, birth_check = lines[1][0:6], lines[1][6]
            expiry, expiry_check = lines[1][8:14], lines[1][14]
        elif widths in ((36, 36), (44, 44)):
            line = lines[1]
            number, number_check = line[0:9], line[9]
            birth, birth_check = line[13:19], line[19]
            expiry, expiry_check = line[21:27], line[27]
        else:
            raise InvalidAccessKey(
                "MRZ has neither TD1 nor TD2/TD3 shape",
                "Die MRZ muss 3 Zeilen zu 30 oder 2 Zeilen zu 36/44 Zeichen haben.",
            )
        for value, printed in ((number, number_check), (birth, birth_check), (expiry, expiry_check)):
            if check_digit(value) != printed:
                raise InvalidAccessKey(
                    "MRZ check digit mismatch", "Eine Prüfziffer der MRZ stimmt nicht. Bitte Eingabe prüfen."
                )
        return cls(number.rstrip("<"), birth, expiry)


def _td1_document_number(line: str) -> tuple[str, str]:
    """Document number and its check digit from TD1 line 1.

    Numbers longer than nine characters put '<' in the check digit position and continue in the
    optional data, whose last character before the filler is then the check digit (9303-5 §4.2.4).
    """
    number, check = line[5:14], line[14]
    if check != "<":
        return number, check
    extension = line[15:30].split("<", 1)[0]
    if len(extension) < 2:
        raise InvalidAccessKey("long document number without extension", "Die Dokumentennummer ist ungültig.")
    return number + extension[:-1], extension[-1]


def _plausible_date(value: str) -> bool:
    """Month 01-12 and day 01-31 where given; '<' marks an unknown part (allowed by 9303-3)."""
    month, day = value[2:4], value[4:6]
    if month.isdigit() and not 1 <= int(month) <= 12:
        return False
    return not (day.isdigit() and not 1 <= int(day) <= 31)


AccessKey = CanKey | MrzKey
