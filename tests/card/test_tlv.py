"""BER-TLV: known encodings, round trips, and hostile input that must end in CardError."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.card.errors import CardError, CardErrorReason
from devices.card.tlv import (
    Tlv,
    encode_length,
    encode_tlv,
    find,
    parse_single,
    parse_tlv,
    parse_tlv_header,
    require,
    tag_bytes,
)


def test_short_and_long_lengths_encode_as_der() -> None:
    assert encode_length(0) == b"\x00"
    assert encode_length(0x7F) == b"\x7f"
    assert encode_length(0x80) == b"\x81\x80"
    assert encode_length(0xFF) == b"\x81\xff"
    assert encode_length(0x100) == b"\x82\x01\x00"
    assert encode_length(0x12345) == b"\x83\x01\x23\x45"


def test_multi_byte_tags_encode_and_parse() -> None:
    assert encode_tlv(0x5F1F, b"AB") == bytes.fromhex("5F1F024142")
    assert encode_tlv(0x7F49, b"") == bytes.fromhex("7F4900")
    assert parse_tlv(bytes.fromhex("5F1F024142")) == [Tlv(0x5F1F, b"AB")]
    # Three tag bytes: second byte has bit 8 set, so a third follows.
    assert parse_tlv(bytes.fromhex("9F810101FF")) == [Tlv(0x9F8101, b"\xff")]


def test_ef_com_like_structure_parses_into_children() -> None:
    # EF.COM from ICAO 9303-10 shape: 60 { 5F01 version, 5F36 unicode, 5C tag list }.
    data = bytes.fromhex("60145F0104303130365F36063034303030305C026175")
    (com,) = parse_tlv(data)
    assert com.tag == 0x60
    assert com.constructed
    assert require(com.children(), 0x5C).value == b"\x61\x75"
    assert com.find(0x5F01) == Tlv(0x5F01, b"0106")
    assert find(com.children(), 0x99) is None


def test_header_reports_total_length_from_first_bytes_only() -> None:
    header = parse_tlv_header(bytes.fromhex("7582 1234 00"))
    assert (header.tag, header.length, header.header_length, header.total_length) == (0x75, 0x1234, 4, 0x1238)


def test_long_value_round_trips() -> None:
    value = bytes(range(256)) * 3
    encoded = encode_tlv(0x5F2E, value)
    assert encoded[:5] == bytes.fromhex("5F2E820300")
    assert parse_single(encoded, 0x5F2E).value == value


@pytest.mark.parametrize(
    "hex_data",
    [
        "",  # parse_single of nothing
        "5F",  # tag truncated
        "5F1F",  # length missing
        "5F1F03AABB",  # value truncated
        "0480",  # indefinite length
        "0485 0000000001",  # length field too long
        "0482 01",  # length bytes truncated
        "1FFFFFFF0100",  # tag longer than four bytes
        "0101AA00",  # trailing garbage for parse_single
    ],
)
def test_malformed_input_raises_card_error(hex_data: str) -> None:
    with pytest.raises(CardError) as caught:
        parse_single(bytes.fromhex(hex_data))
    assert caught.value.reason is CardErrorReason.MALFORMED_DATA


def test_wrong_tag_and_missing_tag_are_malformed() -> None:
    with pytest.raises(CardError):
        parse_single(encode_tlv(0x86, b"x"), 0x87)
    with pytest.raises(CardError):
        require(parse_tlv(encode_tlv(0x86, b"x")), 0x8E)


tags = st.one_of(
    st.integers(0, 0xFF).filter(lambda t: t & 0x1F != 0x1F),
    st.integers(0x1F, 0xFF)
    .filter(lambda t: t & 0x1F == 0x1F)
    .flatmap(lambda first: st.integers(0, 0x7F).map(lambda second: (first << 8) | second)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(tags, st.binary(max_size=300)), max_size=6))
def test_encode_then_parse_is_identity(objects: list[tuple[int, bytes]]) -> None:
    encoded = b"".join(encode_tlv(tag, value) for tag, value in objects)
    assert [(item.tag, item.value) for item in parse_tlv(encoded)] == objects
    if objects:
        assert encoded.startswith(tag_bytes(objects[0][0]))


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_parse_or_raise_card_error(data: bytes) -> None:
    try:
        items = parse_tlv(data)
    except CardError as error:
        assert error.reason is CardErrorReason.MALFORMED_DATA  # noqa: PT017  (fuzz: success is allowed too)
        return
    # When parsing succeeds, re-encoding must not exceed the input (non-minimal lengths shrink).
    assert len(b"".join(item.to_bytes() for item in items)) <= len(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=40), st.integers(0, 40))
def test_truncating_a_valid_object_always_raises(value: bytes, cut: int) -> None:
    encoded = encode_tlv(0x7F49, encode_tlv(0x86, value))
    truncated = encoded[: min(cut, len(encoded) - 1)]
    with pytest.raises(CardError):
        parse_single(truncated)
