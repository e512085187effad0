"""A photographer's TR-03170 cloud (docs/photo-cloud.openapi.yaml).

`fetch(code)` takes the text scanned from the printout's DataMatrix: it names the cloud, the photo
id and the key. The cloud must be one configured for this office (the barcode alone would let any
printout send Tresen to any host); its answer is bounded, its signature over
SHA-256(ciphertext ‖ Nutzerkennung) is checked against that cloud's pinned certificate
(TR-03170-1 §2.6), and only then is the photo decrypted with AES-GCM (whose tag also proves the key
fits). The photo stays fetchable at the cloud for up to 6 months; `acknowledge(delete=True)` asks
the cloud to delete it when the citizen does not want it kept (TR-03170-1 §2.8.3).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import ValidationError

from devices.captures._b64 import b64decode_strict
from devices.captures.barcode import CloudCode, parse_cloud_code
from devices.captures.errors import CaptureError, CaptureErrorReason
from devices.captures.model import CaptureBundle, CaptureItem, CaptureKind, SourceKind
from devices.captures.transport import DEFAULT_TIMEOUT, raise_for_status, request_bounded
from devices.captures.wire import CloudPhotoAnswer

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from devices.captures.trust import TrustAnchor

log = logging.getLogger(__name__)

DEFAULT_MAX_PHOTO_ANSWER_BYTES = 8 * 1024 * 1024
_MAX_SMALL_ANSWER = 16 * 1024
ORGANISATION_KEY_HEADER = "X-Organisation-Key"


class CloudSource:
    def __init__(
        self,
        clouds: Mapping[str, TrustAnchor],
        organisation_key: str,
        *,
        client: httpx.Client | None = None,
        max_answer_bytes: int = DEFAULT_MAX_PHOTO_ANSWER_BYTES,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`clouds`: base URL of each admitted cloud → its certificate (DVDV stands in for this)."""
        self._clouds = {url.rstrip("/"): anchor for url, anchor in clouds.items()}
        self._org = organisation_key
        self._client = client or httpx.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=False)
        self._max = max_answer_bytes
        self._clock = clock

    def close(self) -> None:
        self._client.close()

    def fetch(self, code: str) -> CaptureBundle:
        try:
            return self._fetch(code)
        except CaptureError as error:
            error.source = "cloud"  # the clerk's message names the photo service, not a terminal
            raise

    def _fetch(self, code: str) -> CaptureBundle:
        cloud_code = parse_cloud_code(code)
        trust = self._clouds.get(cloud_code.origin)
        if trust is None:
            log.warning("cloud code refused: its cloud is not configured")
            raise CaptureError(CaptureErrorReason.UNKNOWN_CLOUD)
        status, body = request_bounded(
            self._client,
            "GET",
            f"{cloud_code.origin}/api/v1/photos/{cloud_code.photo_id}",
            max_bytes=self._max,
            headers={ORGANISATION_KEY_HEADER: self._org},
        )
        raise_for_status(status)
        bundle = parse_cloud_answer(body, cloud_code, trust, now=self._clock())
        log.info("cloud photo verified and decrypted")
        return bundle

    def acknowledge(self, bundle: CaptureBundle, *, delete: bool = True) -> None:
        if bundle.source is not SourceKind.CLOUD or bundle.ack_token is None:
            raise ValueError("not a cloud bundle")
        if not delete:
            return  # the citizen asked the cloud to keep the photo; nothing to tell it
        try:
            self._delete(bundle.ack_token, bundle.reference)
        except CaptureError as error:
            error.source = "cloud"
            raise

    def _delete(self, origin: str, photo_id: str) -> None:
        status, _ = request_bounded(
            self._client,
            "DELETE",
            f"{origin}/api/v1/photos/{photo_id}",
            max_bytes=_MAX_SMALL_ANSWER,
            headers={ORGANISATION_KEY_HEADER: self._org},
        )
        raise_for_status(status)
        log.info("cloud photo deleted at the cloud")


def parse_cloud_answer(body: bytes, code: CloudCode, trust: TrustAnchor, *, now: datetime) -> CaptureBundle:
    try:
        answer = CloudPhotoAnswer.model_validate_json(body)
    except ValidationError:
        raise CaptureError(CaptureErrorReason.MALFORMED, "photo answer") from None
    if answer.photo_id != str(code.photo_id):
        raise CaptureError(CaptureErrorReason.WRONG_CAPTURE, "photo id")
    ciphertext = b64decode_strict(answer.encrypted_photo, "encrypted photo")
    signature = b64decode_strict(answer.signature, "signature")
    digest = hashlib.sha256(ciphertext + answer.user_identifier.encode("ascii")).digest()
    trust.verify_digest(signature, digest, now=now)
    if answer.stored_until <= now:
        raise CaptureError(CaptureErrorReason.EXPIRED_CODE, "stored_until")
    try:
        photo = AESGCM(code.key).decrypt(code.iv, ciphertext, None)
    except InvalidTag:
        log.warning("cloud photo refused: decryption failed")
        raise CaptureError(CaptureErrorReason.DECRYPTION_FAILED) from None
    media_type = sniff_photo_type(photo)
    return CaptureBundle(
        source=SourceKind.CLOUD,
        reference=answer.photo_id,
        bundle_sha256=digest.hex(),
        photo=CaptureItem(CaptureKind.PHOTO, media_type, hashlib.sha256(photo).hexdigest(), photo),
        signature_image=None,
        fingerprints=(),
        captured_at=answer.uploaded_at,
        quality_flags=(),
        signer=trust.subject,
        available_until=answer.stored_until,
        uploader_id=answer.user_identifier,
        ack_token=code.origin,
    )


def sniff_photo_type(data: bytes) -> str:
    """JPEG or JPEG 2000 (JP2 file or bare codestream) by their magic bytes; else MALFORMED."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") or data.startswith(b"\xff\x4f\xff\x51"):
        return "image/jp2"
    raise CaptureError(CaptureErrorReason.MALFORMED, "photo type")
