"""The office's self-service capture terminal (docs/capture-terminal.openapi.yaml).

`fetch(code)`: POST the code (in the body, never in a URL that access logs keep), read a bounded
answer, verify the terminal's signature over the manifest bytes against the certificate pinned at
enrollment, parse the manifest from exactly those signed bytes, check that it is the capture asked
for, and check every item's SHA-256 and size. Only then is a `CaptureBundle` built.
`acknowledge(bundle)`: names the transfer and manifest hash, so the terminal deletes exactly what
Tresen received.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
from pydantic import ValidationError

from devices.captures._b64 import b64decode_strict
from devices.captures.codes import normalize_capture_code
from devices.captures.errors import CaptureError, CaptureErrorReason
from devices.captures.model import (
    CaptureBundle,
    CaptureItem,
    CaptureKind,
    FingerPosition,
    Fingerprint,
    QualityFlag,
    SourceKind,
)
from devices.captures.transport import DEFAULT_TIMEOUT, raise_for_status, request_bounded
from devices.captures.wire import (
    AcknowledgeRequest,
    ManifestItem,
    RetrieveRequest,
    TerminalBundleAnswer,
    TerminalManifest,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from devices.captures.trust import TrustAnchor

log = logging.getLogger(__name__)

# A photo of 1244×1600 px is 0.3–1 MB as JPEG; two fingerprints and a signature add little.
# Base64 adds a third. 12 MiB leaves room and still bounds memory.
DEFAULT_MAX_BUNDLE_BYTES = 12 * 1024 * 1024
_MAX_SMALL_ANSWER = 16 * 1024


class TerminalSource:
    def __init__(
        self,
        base_url: str,
        trust: TrustAnchor,
        *,
        client: httpx.Client | None = None,
        headers: Mapping[str, str] | None = None,
        max_bundle_bytes: int = DEFAULT_MAX_BUNDLE_BYTES,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._base = base_url.rstrip("/")
        self._trust = trust
        self._client = client or httpx.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=False)
        self._headers = dict(headers or {})
        self._max = max_bundle_bytes
        self._clock = clock

    def close(self) -> None:
        self._client.close()

    def fetch(self, code: str) -> CaptureBundle:
        capture_code = normalize_capture_code(code)
        status, body = request_bounded(
            self._client,
            "POST",
            f"{self._base}/api/v1/captures/retrieve",
            max_bytes=self._max,
            json=RetrieveRequest(capture_code=capture_code).model_dump(),
            headers=self._headers,
        )
        raise_for_status(status)
        bundle = parse_terminal_answer(body, capture_code, self._trust, now=self._clock())
        log.info("capture bundle verified: %d items from terminal", 1 + len(bundle.fingerprints))
        return bundle

    def acknowledge(self, bundle: CaptureBundle, *, delete: bool = True) -> None:
        if bundle.source is not SourceKind.TERMINAL or bundle.ack_token is None:
            raise ValueError("not a terminal bundle")
        if not delete:
            raise ValueError("the terminal always deletes an acknowledged capture")
        request = AcknowledgeRequest(
            capture_code=bundle.ack_token, transfer_id=bundle.reference, manifest_sha256=bundle.bundle_sha256
        )
        status, _ = request_bounded(
            self._client,
            "POST",
            f"{self._base}/api/v1/captures/acknowledge",
            max_bytes=_MAX_SMALL_ANSWER,
            json=request.model_dump(),
            headers=self._headers,
        )
        raise_for_status(status)
        log.info("capture transfer acknowledged; the terminal deletes its copy")


def parse_terminal_answer(
    body: bytes, capture_code: str, trust: TrustAnchor, *, now: datetime
) -> CaptureBundle:
    """Verify and parse a terminal's 200 answer; every failure is a CaptureError with its reason."""
    try:
        answer = TerminalBundleAnswer.model_validate_json(body)
    except ValidationError:
        raise CaptureError(CaptureErrorReason.MALFORMED, "bundle") from None
    manifest_bytes = b64decode_strict(answer.manifest, "manifest")
    signature = b64decode_strict(answer.signature, "signature")
    trust.verify(signature, manifest_bytes, now=now)
    try:
        manifest = TerminalManifest.model_validate_json(manifest_bytes)
    except ValidationError:
        raise CaptureError(CaptureErrorReason.MALFORMED, "manifest") from None
    if not hmac.compare_digest(manifest.capture_code, capture_code):
        raise CaptureError(CaptureErrorReason.WRONG_CAPTURE, "capture code")
    if manifest.expires_at <= now:
        raise CaptureError(CaptureErrorReason.EXPIRED_CODE, "manifest expired")
    if set(answer.items) != {item.id for item in manifest.items} or len(answer.items) != len(manifest.items):
        raise CaptureError(CaptureErrorReason.MALFORMED, "item ids")

    photos: list[CaptureItem] = []
    signatures: list[CaptureItem] = []
    fingerprints: list[Fingerprint] = []
    for entry in manifest.items:
        item = _verified_item(entry, b64decode_strict(answer.items[entry.id], "item"))
        if entry.kind == "photo":
            photos.append(item)
        elif entry.kind == "signature":
            signatures.append(item)
        else:
            if entry.finger_position is None:
                raise CaptureError(CaptureErrorReason.MALFORMED, "finger position")
            fingerprints.append(Fingerprint(item, FingerPosition(entry.finger_position), entry.nfiq2))
    if len(photos) != 1 or len(signatures) > 1:
        raise CaptureError(CaptureErrorReason.MALFORMED, "photo/signature count")
    positions = [f.position for f in fingerprints]
    if len(set(positions)) != len(positions):
        raise CaptureError(CaptureErrorReason.MALFORMED, "duplicate finger position")
    if photos[0].media_type not in ("image/jpeg", "image/jp2"):
        raise CaptureError(CaptureErrorReason.MALFORMED, "photo media type")
    return CaptureBundle(
        source=SourceKind.TERMINAL,
        reference=manifest.transfer_id,
        bundle_sha256=hashlib.sha256(manifest_bytes).hexdigest(),
        photo=photos[0],
        signature_image=signatures[0] if signatures else None,
        fingerprints=tuple(fingerprints),
        captured_at=manifest.captured_at,
        quality_flags=tuple(QualityFlag(f.name, f.passed, f.detail) for f in manifest.quality_flags),
        signer=trust.subject,
        available_until=manifest.expires_at,
        ack_token=capture_code,
    )


def _verified_item(entry: ManifestItem, data: bytes) -> CaptureItem:
    if len(data) != entry.size:
        log.warning("capture item refused: size differs from the manifest")
        raise CaptureError(CaptureErrorReason.HASH_MISMATCH, f"{entry.id}: size")
    digest = hashlib.sha256(data).hexdigest()
    if not hmac.compare_digest(digest, entry.sha256):
        log.warning("capture item refused: SHA-256 differs from the manifest")
        raise CaptureError(CaptureErrorReason.HASH_MISMATCH, entry.id)
    return CaptureItem(CaptureKind(entry.kind), entry.media_type, digest, data)
