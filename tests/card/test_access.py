"""Access keys: ICAO check digits, MRZ information for BAC/PACE, typed-input validation."""

from __future__ import annotations

import hashlib

import pytest

from devices.card.access import CanKey, InvalidAccessKey, MrzKey, check_digit
from devices.card.errors import CardError

# ICAO 9303-4 Appendix A / 9303-11 Appendix D: specimen passport "L898902C<".
TD3_SPECIMEN = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C<3UTO7408122F1204159ZE184226B<<<<<10"
# ICAO 9303-5 Appendix A specimen TD1.
TD1_SPECIMEN = (
    "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
)


@pytest.mark.parametrize(
    ("text", "digit"),
    [
        ("L898902C<", "3"),
        ("690806", "1"),
        ("940623", "6"),
        ("D23145890", "7"),
        ("740812", "2"),
        ("120415", "9"),
        ("T22000129", "3"),
        ("640812", "5"),
        ("101031", "8"),
    ],
)
def test_check_digits_of_icao_specimens(text: str, digit: str) -> None:
    assert check_digit(text) == digit


def test_mrz_information_of_9303_11_appendix_d() -> None:
    key = MrzKey("L898902C", "690806", "940623")
    assert key.mrz_information() == "L898902C<369080619406236"
    # 9303-11 Appendix D.2: K_seed = 239AB9CB282DAF66231DC5A4DF6BFBAE.
    assert key.key_seed() == bytes.fromhex("239AB9CB282DAF66231DC5A4DF6BFBAE")


def test_pace_password_from_mrz_is_full_sha1() -> None:
    key = MrzKey("T22000129", "640812", "101031")
    assert key.mrz_information() == "T22000129364081251010318"
    assert key.pace_password() == hashlib.sha1(b"T22000129364081251010318").digest()
    assert key.password_reference == 1


def test_td3_and_td1_give_their_document_fields() -> None:
    td3 = MrzKey.from_mrz(TD3_SPECIMEN)
    assert (td3.document_number, td3.birth_date, td3.expiry_date) == ("L898902C", "740812", "120415")
    td1 = MrzKey.from_mrz(TD1_SPECIMEN)
    assert (td1.document_number, td1.birth_date, td1.expiry_date) == ("D23145890", "740812", "120415")


def test_td1_long_document_number_continues_in_optional_data() -> None:
    # 12-character number: 9 in the field, '<', then "345" + check digit in the optional data.
    number = "D23145890345"
    line1 = ("I<UTO" + number[:9] + "<" + number[9:] + check_digit(number)).ljust(30, "<")
    line2 = "7408122F1204159UTO<<<<<<<<<<<6"
    key = MrzKey.from_mrz(f"{line1}\n{line2}\nERIKSSON<<ANNA<MARIA<<<<<<<<<<")
    assert key.document_number == number
    assert key.mrz_information().startswith(number + check_digit(number))


def test_mrz_typo_is_caught_by_check_digit() -> None:
    with pytest.raises(InvalidAccessKey) as caught:
        MrzKey.from_mrz(TD3_SPECIMEN.replace("L898902C<3", "L898902C<4"))
    assert "Prüfziffer" in caught.value.user_message
    assert isinstance(caught.value, CardError)


@pytest.mark.parametrize("can", ["12345", "1234567", "12a456", "١٢٣٤٥٦", ""])
def test_can_must_be_six_ascii_digits(can: str) -> None:
    with pytest.raises(InvalidAccessKey):
        CanKey(can)


def test_can_password_and_reference() -> None:
    key = CanKey("123456")
    assert key.pace_password() == b"123456"
    assert key.password_reference == 2


@pytest.mark.parametrize(
    ("number", "birth", "expiry"),
    [("L898902C", "691306", "940623"), ("L898902C", "6908", "940623"), ("L89-8902", "690806", "940623")],
)
def test_invalid_mrz_fields_are_rejected(number: str, birth: str, expiry: str) -> None:
    with pytest.raises(InvalidAccessKey):
        MrzKey(number, birth, expiry)


def test_keys_never_show_secrets_in_repr() -> None:
    assert "123456" not in repr(CanKey("123456"))
    text = repr(MrzKey("L898902C", "690806", "940623"))
    assert "L898902C" not in text
    assert "690806" not in text


def test_lowercase_and_filler_are_normalised() -> None:
    assert MrzKey("l898902c<", "690806", "940623").document_number == "L898902C"
