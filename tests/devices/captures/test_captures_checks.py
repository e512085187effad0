"""Photo checks on images made here: each rule fails on the image that breaks it, and only there."""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.captures.checks import CheckName, CheckStatus, PhotoRules, check_photo
from devices.captures.model import CaptureItem, CaptureKind
from devices.captures.samples import portrait

if TYPE_CHECKING:
    from PIL import Image


def item(data: bytes, media_type: str = "image/jpeg") -> CaptureItem:
    return CaptureItem(CaptureKind.PHOTO, media_type, hashlib.sha256(data).hexdigest(), data)


def jpeg(image: Image.Image, quality: int = 92) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def failed(data: bytes, rules: PhotoRules | None = None, media_type: str = "image/jpeg") -> set[CheckName]:
    return {r.check for r in check_photo(item(data, media_type), rules or PhotoRules()) if r.failed}


GOOD = portrait(3)


def test_a_good_photo_fails_nothing() -> None:
    assert failed(jpeg(GOOD)) == set()


def test_grey_photo_is_allowed() -> None:
    assert failed(jpeg(GOOD.convert("L"))) == set()


def test_cmyk_photo_fails_colour_depth() -> None:
    assert failed(jpeg(GOOD.convert("CMYK"))) == {CheckName.COLOUR_DEPTH}


def test_landscape_fails_the_aspect_ratio() -> None:
    wide = GOOD.resize((1600, 1600)).crop((0, 0, 1600, 1244))
    assert failed(jpeg(wide)) == {CheckName.ASPECT_RATIO, CheckName.PIXEL_SIZE}


def test_square_photo_of_enough_pixels_fails_only_the_aspect_ratio() -> None:
    assert failed(jpeg(GOOD.resize((1600, 1600)))) == {CheckName.ASPECT_RATIO}


def test_larger_photo_of_the_right_ratio_is_accepted() -> None:
    assert failed(jpeg(GOOD.resize((1555, 2000)))) == set()


def test_small_photo_fails_pixel_size() -> None:
    assert CheckName.PIXEL_SIZE in failed(jpeg(GOOD.resize((622, 800))))


def test_file_size_bounds_come_from_the_rules() -> None:
    data = jpeg(GOOD)
    assert failed(data, PhotoRules(max_bytes=len(data) - 1)) == {CheckName.FILE_SIZE}
    assert failed(data, PhotoRules(min_bytes=len(data) + 1)) == {CheckName.FILE_SIZE}


def test_too_many_pixels_are_refused_before_decoding() -> None:
    results = check_photo(item(jpeg(GOOD)), PhotoRules(max_pixels=1000 * 1000))
    decode = next(r for r in results if r.check is CheckName.PHOTO_DECODES)
    assert decode.status is CheckStatus.FAILED
    assert decode.detail_de == "Bild zu groß (1244 × 1600 Pixel)"


def test_a_png_announced_as_jpeg_does_not_decode() -> None:
    out = io.BytesIO()
    GOOD.save(out, "PNG")
    assert CheckName.PHOTO_DECODES in failed(out.getvalue())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096), st.sampled_from(["image/jpeg", "image/jp2"]))
def test_arbitrary_bytes_never_crash_the_checks(data: bytes, media_type: str) -> None:
    results = check_photo(item(data, media_type), PhotoRules())
    assert any(r.check is CheckName.PHOTO_DECODES and r.failed for r in results)


SMALL_JPEG = jpeg(GOOD.resize((311, 400)))


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=len(SMALL_JPEG) - 1), st.integers(min_value=1, max_value=255))
def test_a_damaged_jpeg_either_decodes_or_fails_the_decode_check(offset: int, flip: int) -> None:
    damaged = bytearray(SMALL_JPEG)
    damaged[offset] ^= flip
    results = check_photo(item(bytes(damaged)), PhotoRules(min_width=1, min_height=1, min_bytes=1))
    assert results[0].check is CheckName.PHOTO_DECODES
