"""The terminal client against the real simulator over HTTP: the good bundle is accepted and passes
the checks; each damaged variant is refused with its reason and German message."""

from __future__ import annotations

import contextlib
import logging
import socket
from datetime import UTC, datetime, timedelta

import pytest

from devices.captures.checks import CheckName, check_bundle
from devices.captures.codes import display_capture_code
from devices.captures.errors import CaptureError, CaptureErrorReason
from devices.captures.model import CaptureKind, FingerPosition, SourceKind
from devices.captures.simulator import RunningSimulator, Variant
from devices.captures.terminal import TerminalSource
from devices.captures.trust import TrustAnchor
from tests.devices.captures.support import terminal_source


def refusal(source: TerminalSource, code: str) -> CaptureError:
    with pytest.raises(CaptureError) as caught:
        source.fetch(code)
    return caught.value


@pytest.mark.parametrize("variant", [Variant.GOOD, Variant.GOOD_JP2])
def test_good_bundle_is_verified_and_passes_the_checks(
    simulator: RunningSimulator, terminal: TerminalSource, variant: Variant
) -> None:
    bundle = terminal.fetch(simulator.state.terminal_code(variant))
    assert bundle.source is SourceKind.TERMINAL
    assert bundle.photo.kind is CaptureKind.PHOTO
    assert bundle.photo.media_type == ("image/jp2" if variant is Variant.GOOD_JP2 else "image/jpeg")
    assert bundle.signature_image is not None
    assert [f.position for f in bundle.fingerprints] == [
        FingerPosition.RIGHT_INDEX,
        FingerPosition.LEFT_INDEX,
    ]
    assert bundle.signer == "CN=Tresen Simulator Capture Terminal"
    report = check_bundle(bundle)
    assert report.passed, report.lines_de()
    assert {r.check for r in report.results} >= {
        CheckName.PHOTO_DECODES, CheckName.PIXEL_SIZE, CheckName.ASPECT_RATIO, CheckName.COLOUR_DEPTH,
        CheckName.FILE_SIZE, CheckName.TERMINAL_FLAG, CheckName.SIGNATURE_IMAGE, CheckName.FINGERPRINT,
    }  # fmt: skip


def test_code_is_accepted_as_printed_with_dashes_and_lower_case(
    simulator: RunningSimulator, terminal: TerminalSource
) -> None:
    printed = display_capture_code(simulator.state.terminal_code(Variant.GOOD)).lower()
    assert terminal.fetch(f" {printed} ").photo.size > 0


def test_bundle_repr_shows_no_image_bytes_or_code(
    simulator: RunningSimulator, terminal: TerminalSource
) -> None:
    code = simulator.state.terminal_code(Variant.GOOD)
    bundle = terminal.fetch(code)
    text = repr(bundle)
    assert code not in text
    assert "data=" not in text
    assert "ack_token" not in text


@pytest.mark.parametrize(
    ("variant", "reason", "german"),
    [
        (Variant.HASH_MISMATCH, CaptureErrorReason.HASH_MISMATCH, "Prüfsumme falsch"),
        (Variant.BAD_SIGNATURE, CaptureErrorReason.BAD_SIGNATURE, "Signatur der Aufnahme ist ungültig"),
        (Variant.OVERSIZED, CaptureErrorReason.OVERSIZED, "zu groß"),
        (Variant.OVERSIZED_STREAM, CaptureErrorReason.OVERSIZED, "zu groß"),
        (Variant.EXPIRED, CaptureErrorReason.EXPIRED_CODE, "abgelaufen"),
        (Variant.CUT_TRANSFER, CaptureErrorReason.INCOMPLETE, "Übertragung wurde unterbrochen"),
    ],
)
def test_damaged_bundle_is_refused_with_its_reason(
    simulator: RunningSimulator,
    terminal: TerminalSource,
    variant: Variant,
    reason: CaptureErrorReason,
    german: str,
) -> None:
    error = refusal(terminal, simulator.state.terminal_code(variant))
    assert error.reason is reason
    assert german in error.user_message


def test_oversized_stream_is_dropped_long_before_its_end(
    simulator: RunningSimulator, terminal: TerminalSource
) -> None:
    stats = simulator.state.stream_stats
    error = refusal(terminal, simulator.state.terminal_code(Variant.OVERSIZED_STREAM))
    assert error.reason is CaptureErrorReason.OVERSIZED
    assert stats.finished.wait(timeout=30), "the simulator's stream did not stop after the client left"
    from devices.captures.simulator import OVERSIZED_BYTES

    assert stats.bytes_sent < OVERSIZED_BYTES // 2


def test_truncated_image_passes_integrity_but_fails_the_decode_check(
    simulator: RunningSimulator, terminal: TerminalSource
) -> None:
    # The terminal hashed and signed the cut file itself: integrity holds, the photo does not decode.
    report = check_bundle(terminal.fetch(simulator.state.terminal_code(Variant.TRUNCATED_IMAGE)))
    assert not report.passed
    failure = report.failures[0]
    assert failure.check is CheckName.PHOTO_DECODES
    assert failure.detail_de == "Bilddatei ist unvollständig oder beschädigt"
    assert failure.action_de == "Foto neu aufnehmen lassen."


def test_poor_capture_lists_each_failure_with_what_to_do(
    simulator: RunningSimulator, terminal: TerminalSource
) -> None:
    report = check_bundle(terminal.fetch(simulator.state.terminal_code(Variant.POOR_QUALITY)))
    failed = {(r.check, r.subject) for r in report.failures}
    assert failed == {
        (CheckName.PIXEL_SIZE, ""), (CheckName.FILE_SIZE, ""), (CheckName.TERMINAL_FLAG, "eyes_open"),
    }  # fmt: skip
    assert all(r.action_de == "Foto neu aufnehmen lassen." for r in report.failures)
    assert "✗ Bildgröße: 827 × 1063 Pixel, mindestens 1244 × 1600 nötig → Foto neu aufnehmen lassen." in (
        report.lines_de()
    )


def test_unknown_code_says_so(terminal: TerminalSource) -> None:
    error = refusal(terminal, "ZZZZZZZZ0101")
    assert error.reason is CaptureErrorReason.UNKNOWN_CODE
    assert error.user_message == "Zu diesem Code gibt es keine Aufnahme. Bitte den Code prüfen."


@pytest.mark.parametrize("code", ["", "ABC", "ABCDEFGH3201", "ABCDEFGH0013", "ABCDEFGH3002", "ÄBCDEFGH0101"])
def test_malformed_code_is_refused_before_any_request(code: str) -> None:
    source = TerminalSource("http://127.0.0.1:9", TrustAnchor.from_pem(_any_cert()))  # nothing listens
    error = refusal(source, code)
    assert error.reason is CaptureErrorReason.INVALID_CODE


def test_a_terminal_signed_by_another_key_is_refused(simulator: RunningSimulator) -> None:
    wrong = TerminalSource(simulator.url, TrustAnchor.from_pem(simulator.state.cloud_cert_pem))
    assert (
        refusal(wrong, simulator.state.terminal_code(Variant.GOOD)).reason is CaptureErrorReason.BAD_SIGNATURE
    )


def test_an_expired_terminal_certificate_is_refused(simulator: RunningSimulator) -> None:
    later = datetime.now(UTC) + timedelta(days=400)
    source = TerminalSource(
        simulator.url, TrustAnchor.from_pem(simulator.state.terminal_cert_pem), clock=lambda: later
    )
    error = refusal(source, simulator.state.terminal_code(Variant.GOOD))
    assert error.reason is CaptureErrorReason.UNTRUSTED_CERTIFICATE


def test_unreachable_terminal_says_so() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = TerminalSource(f"http://127.0.0.1:{port}", TrustAnchor.from_pem(_any_cert()))
    error = refusal(source, "ABCDEFGH0101")
    assert error.reason is CaptureErrorReason.UNREACHABLE
    assert "nicht erreichbar" in error.user_message


def test_acknowledge_deletes_the_terminal_copy(fresh_simulator: RunningSimulator) -> None:
    source = terminal_source(fresh_simulator)
    code = fresh_simulator.state.terminal_code(Variant.GOOD)
    bundle = source.fetch(code)
    assert source.fetch(code).reference == bundle.reference  # fetching alone deletes nothing
    source.acknowledge(bundle)
    assert not fresh_simulator.state.has_capture(code)
    assert refusal(source, code).reason is CaptureErrorReason.UNKNOWN_CODE


def test_acknowledge_of_another_transfer_deletes_nothing(fresh_simulator: RunningSimulator) -> None:
    from dataclasses import replace

    source = terminal_source(fresh_simulator)
    code = fresh_simulator.state.terminal_code(Variant.GOOD_JP2)
    bundle = source.fetch(code)
    with pytest.raises(CaptureError) as caught:
        source.acknowledge(replace(bundle, bundle_sha256="0" * 64))
    assert caught.value.reason is CaptureErrorReason.WRONG_CAPTURE
    assert fresh_simulator.state.has_capture(code)


def _any_cert() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_logs_carry_no_code_and_no_capture_bytes(
    simulator: RunningSimulator, terminal: TerminalSource, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    codes = [simulator.state.terminal_code(v) for v in Variant]
    for code in codes:
        with contextlib.suppress(CaptureError):
            terminal.fetch(code)
    assert caplog.records, "the fetches should have logged something"
    text = caplog.text
    assert not any(code in text for code in codes)
    assert "base64" not in text.lower()
    assert "/9j/" not in text
