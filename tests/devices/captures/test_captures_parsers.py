"""Hypothesis fuzzing of every parser a remote party can feed: capture codes, the TR-03170
DataMatrix payload, the terminal's bundle and the cloud's answer. A parser either returns a valid
result or raises CaptureError — never another exception, never a changed payload accepted."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.captures.barcode import CloudCode, build_cloud_code, parse_cloud_code
from devices.captures.cloud import parse_cloud_answer
from devices.captures.codes import normalize_capture_code
from devices.captures.errors import CaptureError, CaptureErrorReason
from devices.captures.simulator import CloudVariant, RunningSimulator, Variant
from devices.captures.terminal import parse_terminal_answer
from devices.captures.trust import TrustAnchor

NOW = datetime.now(UTC)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# --- capture codes -----------------------------------------------------------------------------


@given(st.text(max_size=80))
def test_capture_code_parser_accepts_only_the_canonical_form(text: str) -> None:
    try:
        code = normalize_capture_code(text)
    except CaptureError as error:
        assert error.reason is CaptureErrorReason.INVALID_CODE  # noqa: PT017  (fuzz: success is allowed too)
        return
    assert len(code) == 12
    assert code.isascii()
    assert code == code.upper()
    assert 1 <= int(code[8:10]) <= 31
    assert 1 <= int(code[10:12]) <= 12
    assert normalize_capture_code(code) == code


@pytest.mark.parametrize("look_alike", ["ſ", "ı", "Ａ"])
def test_unicode_look_alikes_are_not_folded_into_a_code(look_alike: str) -> None:
    with pytest.raises(CaptureError):
        normalize_capture_code(f"{look_alike}BCDEFGH0101")


@given(
    st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=8, max_size=8),
    st.dates(),
    st.sampled_from(["", "-", " "]),
)
def test_every_printed_code_form_normalizes(ident: str, birthday: date, sep: str) -> None:
    day, month = birthday.day, birthday.month
    printed = f"{ident[:4]}{sep}{ident[4:]}{sep}{day:02d}{month:02d}".lower()
    assert normalize_capture_code(printed) == f"{ident}{day:02d}{month:02d}"


# --- DataMatrix payload (TR-03170-2 §2.3) -------------------------------------------------------

codes = st.builds(
    CloudCode,
    cloud_url=st.from_regex(
        r"https://[a-z0-9]{1,30}\.[a-z]{2,6}(:[0-9]{2,5})?(/[a-z0-9]{0,20})?", fullmatch=True
    ),
    photo_id=st.uuids(),
    algorithm=st.sampled_from(["AES_128_GCM", "AES_256_GCM"]),
    iv=st.binary(min_size=12, max_size=12),
    padding=st.sampled_from(["", "NONE"]),
    key=st.binary(min_size=32, max_size=32),
)


@given(codes)
def test_datamatrix_payload_round_trips(code: CloudCode) -> None:
    if code.algorithm == "AES_128_GCM":
        code = CloudCode(code.cloud_url, code.photo_id, code.algorithm, code.iv, code.padding, code.key[:16])
    assert parse_cloud_code(build_cloud_code(code)) == code


def test_payload_layout_follows_the_spec_table() -> None:
    photo_id = uuid.UUID("12345678-1234-4234-8234-123456789abc")
    raw = base64.b64decode(
        build_cloud_code(
            CloudCode("https://c.example", photo_id, "AES_256_GCM", b"\x01" * 12, "", b"\x02" * 32)
        )
    )
    v = len("https://c.example")
    assert raw[0x00] == 0xE2
    assert raw[0x01] == 0x01
    assert raw[0x02] == v
    assert raw[0x03 : 0x03 + v] == b"https://c.example"
    assert raw[0x03 + v : 0x13 + v] == photo_id.bytes
    assert raw[0x13 + v] == len("AES_256_GCM")


@given(st.text(max_size=300))
def test_any_scanned_text_is_a_code_or_an_invalid_code(text: str) -> None:
    try:
        parse_cloud_code(text)
    except CaptureError as error:
        assert error.reason in (CaptureErrorReason.INVALID_CODE, CaptureErrorReason.UNSUPPORTED_ALGORITHM)  # noqa: PT017  (fuzz: success is allowed too)


@given(codes, st.data())
def test_a_mutated_payload_is_refused_or_still_well_formed(code: CloudCode, data: st.DataObject) -> None:
    raw = bytearray(base64.b64decode(build_cloud_code(code)))
    action = data.draw(st.sampled_from(["flip", "cut", "append"]))
    if action == "flip":
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] ^= data.draw(st.integers(1, 255))
    elif action == "cut":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    else:
        raw += data.draw(st.binary(min_size=1, max_size=8))
    try:
        parsed = parse_cloud_code(base64.b64encode(bytes(raw)).decode())
    except CaptureError:
        return
    assert len(parsed.iv) == 12
    assert len(parsed.key) in (16, 32)
    assert len(parsed.cloud_url) <= 100


# --- the terminal's bundle -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_terminal_answer(simulator: RunningSimulator) -> tuple[bytes, str, TrustAnchor]:
    code = simulator.state.terminal_code(Variant.GOOD)
    with simulator.state.lock:
        answer = simulator.state.captures[code].answer
    return answer, code, TrustAnchor.from_pem(simulator.state.terminal_cert_pem)


@FUZZ
@given(body=st.binary(max_size=2048))
def test_arbitrary_bytes_are_a_malformed_bundle(
    good_terminal_answer: tuple[bytes, str, TrustAnchor], body: bytes
) -> None:
    _, code, trust = good_terminal_answer
    with pytest.raises(CaptureError):
        parse_terminal_answer(body, code, trust, now=NOW)


@FUZZ
@given(data=st.data())
def test_a_flipped_byte_anywhere_in_a_bundle_is_refused_or_changes_nothing(
    good_terminal_answer: tuple[bytes, str, TrustAnchor], data: st.DataObject
) -> None:
    answer, code, trust = good_terminal_answer
    original = parse_terminal_answer(answer, code, trust, now=NOW)
    damaged = bytearray(answer)
    at = data.draw(st.integers(0, len(damaged) - 1))
    damaged[at] ^= data.draw(st.integers(1, 255))
    try:
        bundle = parse_terminal_answer(bytes(damaged), code, trust, now=NOW)
    except CaptureError:
        return
    # Only a change Base64 ignores (unused bits of a final character) can pass: the content is equal.
    assert bundle.photo.data == original.photo.data
    assert bundle.bundle_sha256 == original.bundle_sha256


@FUZZ
@given(
    field=st.sampled_from(["manifest", "signature", "items", "signature_algorithm"]),
    value=st.text(max_size=40),
)
def test_a_replaced_field_is_refused(
    good_terminal_answer: tuple[bytes, str, TrustAnchor], field: str, value: str
) -> None:
    answer, code, trust = good_terminal_answer
    document = json.loads(answer)
    document[field] = value
    with pytest.raises(CaptureError):
        parse_terminal_answer(json.dumps(document).encode(), code, trust, now=NOW)


def test_a_bundle_for_another_code_is_refused(good_terminal_answer: tuple[bytes, str, TrustAnchor]) -> None:
    answer, _, trust = good_terminal_answer
    with pytest.raises(CaptureError) as caught:
        parse_terminal_answer(answer, "ZZZZZZZZ0101", trust, now=NOW)
    assert caught.value.reason is CaptureErrorReason.WRONG_CAPTURE


# --- the cloud's answer ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_cloud_answer(simulator: RunningSimulator) -> tuple[bytes, CloudCode, TrustAnchor]:
    code = parse_cloud_code(simulator.state.cloud_code(CloudVariant.GOOD))
    with simulator.state.lock:
        answer = simulator.state.photos[str(code.photo_id)].answer
    return answer, code, TrustAnchor.from_pem(simulator.state.cloud_cert_pem)


@FUZZ
@given(body=st.binary(max_size=2048))
def test_arbitrary_bytes_are_a_malformed_cloud_answer(
    good_cloud_answer: tuple[bytes, CloudCode, TrustAnchor], body: bytes
) -> None:
    _, code, trust = good_cloud_answer
    with pytest.raises(CaptureError):
        parse_cloud_answer(body, code, trust, now=NOW)


@FUZZ
@given(data=st.data())
def test_a_flipped_byte_in_a_cloud_answer_is_refused_or_changes_nothing(
    good_cloud_answer: tuple[bytes, CloudCode, TrustAnchor], data: st.DataObject
) -> None:
    answer, code, trust = good_cloud_answer
    original = parse_cloud_answer(answer, code, trust, now=NOW)
    damaged = bytearray(answer)
    at = data.draw(st.integers(0, len(damaged) - 1))
    damaged[at] ^= data.draw(st.integers(1, 255))
    try:
        bundle = parse_cloud_answer(bytes(damaged), code, trust, now=NOW)
    except CaptureError:
        return
    assert bundle.photo.data == original.photo.data
