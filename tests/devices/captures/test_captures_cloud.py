"""The TR-03170 cloud client against the real simulator over HTTP."""

from __future__ import annotations

import pytest

from devices.captures.barcode import CloudCode, build_cloud_code, parse_cloud_code
from devices.captures.checks import CheckName, CheckStatus, check_bundle
from devices.captures.cloud import CloudSource
from devices.captures.errors import CaptureError, CaptureErrorReason
from devices.captures.model import SourceKind
from devices.captures.simulator import CloudVariant, RunningSimulator
from devices.captures.trust import TrustAnchor
from tests.devices.captures.support import cloud_source


def refusal(source: CloudSource, code: str) -> CaptureError:
    with pytest.raises(CaptureError) as caught:
        source.fetch(code)
    return caught.value


def test_good_photo_is_decrypted_verified_and_checked(
    simulator: RunningSimulator, cloud: CloudSource
) -> None:
    code = simulator.state.cloud_code(CloudVariant.GOOD)
    bundle = cloud.fetch(code)
    assert bundle.source is SourceKind.CLOUD
    assert bundle.reference == str(parse_cloud_code(code).photo_id)
    assert bundle.photo.media_type == "image/jpeg"
    assert bundle.available_until is not None
    assert bundle.captured_at is not None
    assert (bundle.available_until - bundle.captured_at).days == 183  # six months at the cloud
    assert bundle.uploader_id is not None
    assert bundle.uploader_id.count(":::") == 2
    report = check_bundle(bundle)
    assert report.passed, report.lines_de()
    flags = [r for r in report.results if r.check is CheckName.TERMINAL_FLAG]
    assert [r.status for r in flags] == [CheckStatus.NOT_CHECKED]  # a cloud reports no quality flags


def test_the_same_photo_can_be_fetched_again(simulator: RunningSimulator, cloud: CloudSource) -> None:
    code = simulator.state.cloud_code(CloudVariant.GOOD)
    assert cloud.fetch(code).photo.sha256 == cloud.fetch(code).photo.sha256


@pytest.mark.parametrize(
    ("variant", "reason", "german"),
    [
        (CloudVariant.BAD_SIGNATURE, CaptureErrorReason.BAD_SIGNATURE, "Signatur der Aufnahme ist ungültig"),
        (CloudVariant.WRONG_KEY, CaptureErrorReason.DECRYPTION_FAILED, "nicht entschlüsselt"),
        (CloudVariant.EXPIRED, CaptureErrorReason.EXPIRED_CODE, "abgelaufen"),
    ],
)
def test_damaged_cloud_photo_is_refused_with_its_reason(
    simulator: RunningSimulator,
    cloud: CloudSource,
    variant: CloudVariant,
    reason: CaptureErrorReason,
    german: str,
) -> None:
    error = refusal(cloud, simulator.state.cloud_code(variant))
    assert error.reason is reason
    assert german in error.user_message


def test_a_code_naming_a_cloud_not_configured_is_refused_without_a_request(
    simulator: RunningSimulator,
) -> None:
    other = CloudSource(
        {"https://cloud.example": TrustAnchor.from_pem(simulator.state.cloud_cert_pem)}, "org"
    )
    error = refusal(other, simulator.state.cloud_code(CloudVariant.GOOD))
    assert error.reason is CaptureErrorReason.UNKNOWN_CLOUD
    assert "nicht zugelassen" in error.user_message


def test_garbage_instead_of_a_datamatrix_is_an_invalid_code(cloud: CloudSource) -> None:
    assert refusal(cloud, "das ist kein Code").reason is CaptureErrorReason.INVALID_CODE


def test_acknowledge_with_delete_removes_the_photo_at_the_cloud(fresh_simulator: RunningSimulator) -> None:
    source = cloud_source(fresh_simulator)
    code = fresh_simulator.state.cloud_code(CloudVariant.GOOD)
    bundle = source.fetch(code)
    source.acknowledge(bundle, delete=False)  # the citizen wants it kept: nothing is deleted
    assert source.fetch(code).reference == bundle.reference
    source.acknowledge(bundle, delete=True)
    assert refusal(source, code).reason is CaptureErrorReason.UNKNOWN_CODE


def test_an_unreachable_cloud_is_named_as_the_photo_service(simulator: RunningSimulator) -> None:
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    good = parse_cloud_code(simulator.state.cloud_code(CloudVariant.GOOD))
    code = build_cloud_code(CloudCode(url, good.photo_id, good.algorithm, good.iv, good.padding, good.key))
    source = CloudSource({url: TrustAnchor.from_pem(simulator.state.cloud_cert_pem)}, "org")
    error = refusal(source, code)
    assert error.reason is CaptureErrorReason.UNREACHABLE
    assert error.user_message == "Der Fotodienst ist nicht erreichbar. Bitte Verbindung prüfen."
