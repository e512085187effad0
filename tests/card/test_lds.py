"""LDS files: EF.COM, DG1, DG2, EF.SOD parsed and built; block-read lengths; hostile input."""

from __future__ import annotations

import hashlib
import io
from functools import cache
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, features

from devices.card import lds
from devices.card.emulator.personalization import TestDocument, make_test_document
from devices.card.errors import CardError, CardErrorReason
from devices.card.tlv import encode_tlv
from tests.services import require_service

if TYPE_CHECKING:
    from collections.abc import Callable

UTOPIA_TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"


@cache
def _document() -> TestDocument:
    return make_test_document("td1", signer="ecdsa-p256", face_bytes=3_000, seed=7)


def _image(fmt: str, size: tuple[int, int] = (60, 80)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 120, 150)).save(buffer, fmt)
    return buffer.getvalue()


def _assert_malformed(call: Callable[..., object], *args: object) -> None:
    with pytest.raises(CardError) as caught:
        call(*args)
    assert caught.value.reason is CardErrorReason.MALFORMED_DATA


def test_file_ids() -> None:
    assert (lds.EF_COM, lds.EF_SOD, lds.DG1, lds.DG2, lds.EF_CARD_ACCESS) == (
        0x011E,
        0x011D,
        0x0101,
        0x0102,
        0x011C,
    )
    assert [lds.dg_file_id(n) for n in (1, 2, 14, 16)] == [0x0101, 0x0102, 0x010E, 0x0110]
    with pytest.raises(ValueError, match="no data group 17"):
        lds.dg_file_id(17)


@pytest.mark.parametrize("size", [5, 127, 128, 255, 256, 65_535, 65_536, 200_000])
def test_read_length_from_header_for_every_length_form(size: int) -> None:
    encoded = encode_tlv(0x75, bytes(size))
    assert lds.read_length_from_header(encoded[:8]) == len(encoded)


def test_read_length_from_real_files() -> None:
    for content in _document().files.values():
        assert lds.read_length_from_header(content[:4]) == len(content)


@pytest.mark.parametrize(
    "first", [b"", b"\x75", b"\x75\x82\x01", b"\x75\x85\x00\x00\x00\x00\x01", b"\x99\x01\x00"]
)
def test_read_length_rejects_truncated_or_foreign_headers(first: bytes) -> None:
    _assert_malformed(lds.read_length_from_header, first)


def test_com_from_9303_10_layout() -> None:
    # LDS 1.7, Unicode 4.0.0, DG1 DG2 DG14 DG15 — byte for byte as 9303-10 §4.6.1 lays it out.
    raw = bytes.fromhex("60165F0104303130375F3606303430303030 5C04 61756E6F".replace(" ", ""))
    com = lds.parse_com(raw)
    assert com == lds.ComInfo("0107", "040000", (1, 2, 14, 15))
    assert lds.build_com([1, 2, 14, 15]) == raw


def test_com_with_unknown_tag_is_malformed() -> None:
    _assert_malformed(lds.parse_com, bytes.fromhex("600E5F0104303130375F3600 5C02 6199".replace(" ", "")))


def test_dg1_round_trip_with_specimen() -> None:
    dg1 = lds.build_dg1(UTOPIA_TD3)
    assert dg1[:5] == bytes.fromhex("615B5F1F58")  # 61 len 5F1F len 88
    mrz = lds.parse_dg1(dg1)
    assert (mrz.document_number, mrz.surname, mrz.format, mrz.check_digits_ok) == (
        "L898902C3",
        "ERIKSSON",
        "TD3",
        True,
    )


def test_dg1_with_line_breaks_is_malformed() -> None:
    _assert_malformed(lds.parse_dg1, encode_tlv(0x61, encode_tlv(0x5F1F, UTOPIA_TD3.encode())))


def test_dg2_jpeg_round_trip() -> None:
    jpeg = _image("JPEG", (120, 160))
    faces = lds.parse_dg2(lds.build_dg2([lds.FaceImage("image/jpeg", jpeg, 120, 160)]))
    assert faces == [lds.FaceImage("image/jpeg", jpeg, 120, 160)]


def test_dg2_jpeg2000_round_trip_takes_size_from_the_image() -> None:
    require_service(None if features.check("jpg_2000") else "Pillow built without OpenJPEG", "JPEG 2000")
    jp2 = _image("JPEG2000", (64, 96))
    # The record claims another size; the image's own header wins.
    (face,) = lds.parse_dg2(lds.build_dg2([lds.FaceImage("image/jp2", jp2, 1, 1)]))
    assert (face.mime, face.width, face.height, face.data) == ("image/jp2", 64, 96, jp2)


def test_dg2_image_type_must_match_the_data() -> None:
    dg2 = lds.build_dg2([lds.FaceImage("image/jp2", _image("JPEG"), 60, 80)])
    _assert_malformed(lds.parse_dg2, dg2)


def test_dg2_from_test_document_has_the_requested_size() -> None:
    document = make_test_document("td1", signer="ecdsa-p256", face_bytes=25_000, seed=3)
    (face,) = lds.parse_dg2(document.files[lds.DG2])
    assert len(face.data) == 25_000
    assert (face.width, face.height) == (413, 531)  # 25 kB needs no shrinking
    with Image.open(io.BytesIO(face.data)) as opened:
        opened.load()  # padding comments leave a decodable JPEG


def test_sod_hashes_match_the_data_groups() -> None:
    document = _document()
    sod = lds.parse_sod(document.files[lds.EF_SOD])
    assert sod.hash_algorithm == "sha256"
    assert sod.data_group_hashes == {
        1: hashlib.sha256(document.files[lds.DG1]).digest(),
        2: hashlib.sha256(document.files[lds.DG2]).digest(),
    }
    assert len(sod.certificates) == 1
    assert sod.signer_info["digest_algorithm"]["algorithm"].native == "sha256"


def test_sod_with_other_content_type_is_malformed() -> None:
    from asn1crypto import cms

    data = cms.ContentInfo({"content_type": "data", "content": b"hello"}).dump()
    _assert_malformed(lds.parse_sod, encode_tlv(0x77, data))


# --- hostile input ------------------------------------------------------------------------------

PARSERS = {
    lds.EF_COM: lds.parse_com,
    lds.DG1: lds.parse_dg1,
    lds.DG2: lds.parse_dg2,
    lds.EF_SOD: lds.parse_sod,
}
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _only_malformed(parser: Callable[[bytes], object], data: bytes) -> None:
    try:
        parser(data)
    except CardError as error:
        assert error.reason is CardErrorReason.MALFORMED_DATA  # noqa: PT017  (fuzz: success is allowed too)


@given(file_id=st.sampled_from(sorted(PARSERS)), data=st.binary(max_size=300))
@FUZZ
def test_random_bytes_give_only_malformed_data(file_id: int, data: bytes) -> None:
    _only_malformed(PARSERS[file_id], data)
    _only_malformed(lds.read_length_from_header, data)


@given(
    file_id=st.sampled_from(sorted(PARSERS)),
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=4),
)
@FUZZ
def test_mutated_files_give_only_malformed_data(file_id: int, edits: list[tuple[float, int]]) -> None:
    content = bytearray(_document().files[file_id])
    for where, value in edits:
        content[int(where * len(content))] = value
    _only_malformed(PARSERS[file_id], bytes(content))
    _only_malformed(lds.read_length_from_header, bytes(content[:6]))


@given(file_id=st.sampled_from(sorted(PARSERS)), cut=st.floats(0, 1, exclude_max=True))
@FUZZ
def test_truncated_files_are_malformed(file_id: int, cut: float) -> None:
    content = _document().files[file_id]
    _assert_malformed(PARSERS[file_id], content[: int(cut * len(content))])
