"""The JSON of both APIs (docs/capture-terminal.openapi.yaml, docs/photo-cloud.openapi.yaml).

Strict pydantic models: unknown fields, wrong types and out-of-range values are refused; sizes of
every string are bounded so a hostile answer cannot make the parser allocate much beyond the
transport's byte limit. The simulator builds its answers from the same models.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

MANIFEST_FORMAT: Final = "tresen-capture-manifest/1"
MAX_ITEMS = 16
MAX_FLAGS = 64

Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
ItemId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
Base64Text = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]*={0,2}$", max_length=64 * 1024 * 1024)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
Uuid = Annotated[str, StringConstraints(pattern=rf"^{_UUID}$")]
# TR-03170-1 §2.6: cloud UUID, account UUID and registration UUID joined by ":::".
UserIdentifier = Annotated[str, StringConstraints(pattern=rf"^{_UUID}:::{_UUID}:::{_UUID}$")]
MediaType = Literal["image/jpeg", "image/jp2", "image/png", "image/x-wsq"]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class ManifestItem(_Strict):
    id: ItemId
    kind: Literal["photo", "signature", "fingerprint"]
    media_type: MediaType
    sha256: Hex64
    size: int = Field(ge=1, le=32 * 1024 * 1024)
    finger_position: int | None = Field(default=None, ge=0, le=10)
    nfiq2: int | None = Field(default=None, ge=0, le=100)


class QualityFlagModel(_Strict):
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")]
    passed: bool
    detail: ShortText = ""


class TerminalManifest(_Strict):
    """The signed part of a bundle: everything but the item bytes, which it names by SHA-256."""

    format: Literal["tresen-capture-manifest/1"]
    transfer_id: Uuid
    capture_code: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{12}$")]
    terminal_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
    captured_at: AwareDatetime
    expires_at: AwareDatetime
    items: list[ManifestItem] = Field(min_length=1, max_length=MAX_ITEMS)
    quality_flags: list[QualityFlagModel] = Field(default_factory=list, max_length=MAX_FLAGS)


class TerminalBundleAnswer(_Strict):
    """`POST /api/v1/captures/retrieve` → 200. `manifest` is Base64 of the exact bytes signed."""

    manifest: Base64Text
    signature_algorithm: Literal["ECDSA-P256-SHA256"]
    signature: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]*={0,2}$", max_length=256)]
    items: dict[ItemId, Base64Text] = Field(max_length=MAX_ITEMS)


class RetrieveRequest(_Strict):
    capture_code: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{12}$")]


class AcknowledgeRequest(_Strict):
    capture_code: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{12}$")]
    transfer_id: Uuid
    manifest_sha256: Hex64


class CloudPhotoAnswer(_Strict):
    """`GET /api/v1/photos/{photo_id}` → 200 (TR-03170-1 §2.8.2: ciphertext, Nutzerkennung, seal)."""

    photo_id: Uuid
    encrypted_photo: Base64Text
    user_identifier: UserIdentifier
    signature_algorithm: Literal["ECDSA-P256-SHA256"]
    signature: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]*={0,2}$", max_length=256)]
    stored_until: AwareDatetime
    uploaded_at: AwareDatetime | None = None


class ErrorAnswer(_Strict):
    error: Literal["unknown_code", "expired_code", "invalid_request", "transfer_mismatch"]
