"""Kassenzeichen check digit (mod 11, weights 2–7): every single-digit error and adjacent transposition."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sync.kassenzeichen import (
    RUNNING_NUMBER_DIGITS,
    Kassenzeichen,
    KassenzeichenError,
    KassenzeichenRange,
    check_digit,
    is_valid,
)

prefixes = st.text(alphabet="0123456789", min_size=2, max_size=8)
running_numbers = st.integers(min_value=0, max_value=10**RUNNING_NUMBER_DIGITS - 1)


@st.composite
def kassenzeichen(draw: st.DrawFn) -> Kassenzeichen:
    prefix, number = draw(prefixes), draw(running_numbers)
    assume(check_digit(f"{prefix}{number:0{RUNNING_NUMBER_DIGITS}d}") is not None)
    return Kassenzeichen(prefix, number)


@given(kassenzeichen())
def test_issued_numbers_are_valid_and_parse_back(issued: Kassenzeichen) -> None:
    assert is_valid(issued.digits)
    assert is_valid(str(issued))
    assert Kassenzeichen.parse(str(issued), len(issued.prefix)) == issued
    assert Kassenzeichen.parse(issued.digits, len(issued.prefix)) == issued


@given(kassenzeichen(), st.data())
def test_every_single_digit_error_is_detected(issued: Kassenzeichen, data: st.DataObject) -> None:
    digits = issued.digits
    position = data.draw(st.integers(min_value=0, max_value=len(digits) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != digits[position]]))
    assert not is_valid(digits[:position] + wrong + digits[position + 1 :])


@given(kassenzeichen(), st.data())
def test_every_adjacent_transposition_is_detected(issued: Kassenzeichen, data: st.DataObject) -> None:
    digits = issued.digits
    position = data.draw(st.integers(min_value=0, max_value=len(digits) - 2))
    assume(digits[position] != digits[position + 1])
    swapped = digits[:position] + digits[position + 1] + digits[position] + digits[position + 2 :]
    assert not is_valid(swapped)


def test_the_luhn_blind_spot_09_90_is_caught() -> None:
    # Luhn (mod 10) cannot tell "09" from "90"; mod 11 can.
    issued = Kassenzeichen("51", 9)
    assert issued.digits == "5100000093"
    assert not is_valid("5100000903")


def test_known_value() -> None:
    # Reversed 5101 0004711 = 1,1,7,4,0,0,0,1,0,1,5 with weights 2,3,4,5,6,7,2,3,4,5,6:
    # 2+3+28+20+3+5+30 = 91; 91 mod 11 = 3; check digit 11 - 3 = 8.
    assert str(Kassenzeichen("5101", 4711)) == "5101-0004711-8"
    assert is_valid("5101 0004711 8")


@given(prefixes, st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=50))
def test_a_range_issues_increasing_valid_numbers_and_skips_only_unissuable_ones(
    prefix: str, first: int, length: int
) -> None:
    numbers = KassenzeichenRange(prefix, first, first + length)
    issued: list[Kassenzeichen] = []
    last: int | None = None
    while True:
        try:
            next_one = numbers.issue_next(last)
        except KassenzeichenError as error:
            assert "used up" in str(error)
            break
        issued.append(next_one)
        last = next_one.running_number
    assert [k.running_number for k in issued] == sorted({k.running_number for k in issued})
    skipped = set(range(first, first + length + 1)) - {k.running_number for k in issued}
    assert all(check_digit(f"{prefix}{n:07d}") is None for n in skipped)


def test_a_number_without_check_digit_cannot_be_made() -> None:
    unissuable = next(n for n in range(100) if check_digit(f"5101{n:07d}") is None)
    with pytest.raises(KassenzeichenError, match="never issued"):
        Kassenzeichen("5101", unissuable)


@pytest.mark.parametrize("text", ["", "1", "5101-000471a-3", "５１０１"])
def test_garbage_is_not_valid(text: str) -> None:
    assert not is_valid(text)


def test_parse_refuses_a_mistyped_number() -> None:
    issued = KassenzeichenRange("5101", 4711, 4800).issue_next(None)
    broken = issued.digits[:-1] + str((issued.check + 1) % 10)
    with pytest.raises(KassenzeichenError, match="mistyped"):
        Kassenzeichen.parse(broken, 4)
