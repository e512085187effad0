"""What a capture source hands over: a verified bundle of photo, signature image and fingerprints.

The bytes are biometric data: dataclasses keep them out of `repr`, so a stray log line or a
traceback shows sizes and hashes only. Nothing here is written to disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime


class CaptureKind(StrEnum):
    PHOTO = "photo"
    SIGNATURE = "signature"
    FINGERPRINT = "fingerprint"


class SourceKind(StrEnum):
    TERMINAL = "terminal"
    CLOUD = "cloud"


class FingerPosition(IntEnum):
    """Finger position codes of ISO/IEC 19794-4 (and ANSI/NIST-ITL), as the terminal reports them."""

    UNKNOWN = 0
    RIGHT_THUMB = 1
    RIGHT_INDEX = 2
    RIGHT_MIDDLE = 3
    RIGHT_RING = 4
    RIGHT_LITTLE = 5
    LEFT_THUMB = 6
    LEFT_INDEX = 7
    LEFT_MIDDLE = 8
    LEFT_RING = 9
    LEFT_LITTLE = 10


FINGER_LABELS_DE: dict[FingerPosition, str] = {
    FingerPosition.UNKNOWN: "unbekannter Finger",
    FingerPosition.RIGHT_THUMB: "rechter Daumen",
    FingerPosition.RIGHT_INDEX: "rechter Zeigefinger",
    FingerPosition.RIGHT_MIDDLE: "rechter Mittelfinger",
    FingerPosition.RIGHT_RING: "rechter Ringfinger",
    FingerPosition.RIGHT_LITTLE: "rechter kleiner Finger",
    FingerPosition.LEFT_THUMB: "linker Daumen",
    FingerPosition.LEFT_INDEX: "linker Zeigefinger",
    FingerPosition.LEFT_MIDDLE: "linker Mittelfinger",
    FingerPosition.LEFT_RING: "linker Ringfinger",
    FingerPosition.LEFT_LITTLE: "linker kleiner Finger",
}


@dataclass(frozen=True)
class CaptureItem:
    kind: CaptureKind
    media_type: str
    sha256: str  # hex, verified against `data` by the source before the bundle is built
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class Fingerprint:
    item: CaptureItem
    position: FingerPosition
    nfiq2: int | None = None  # NFIQ 2 score 0..100 as the terminal measured it, if it says


@dataclass(frozen=True)
class QualityFlag:
    """One of the terminal's own quality checks (e.g. `eyes_open`), as it reported it."""

    name: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class CaptureBundle:
    source: SourceKind
    # A reference that names the capture at its source without personal data (the terminal's
    # transfer id, the cloud's photo id). The central service may get this and `bundle_sha256`.
    reference: str
    bundle_sha256: str  # hex over what the source signed (terminal manifest / cloud ciphertext+user id)
    photo: CaptureItem
    signature_image: CaptureItem | None
    fingerprints: tuple[Fingerprint, ...]
    captured_at: datetime | None
    quality_flags: tuple[QualityFlag, ...]
    signer: str  # subject of the certificate (or key fingerprint) that verified the bundle
    available_until: datetime | None = None  # until the terminal drops it / the cloud's 6 months end
    # TR-03170-1 §2.6 "Nutzerkennung" (cloud uuid:::account uuid:::registration uuid); the
    # authority stores it with the photo. Not personal data of the citizen, but kept out of repr.
    uploader_id: str | None = field(default=None, repr=False)
    # What the terminal's acknowledgement must name so it deletes exactly what was received.
    ack_token: str | None = field(default=None, repr=False)
