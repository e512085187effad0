"""A capture terminal and a TR-03170 photo cloud in one small ASGI app, for tests, support and the
demo. It implements docs/capture-terminal.openapi.yaml and docs/photo-cloud.openapi.yaml with
sample captures drawn by `samples` and signed with keys made at start, plus damaged variants:
a hash mismatch, a bad signature, a truncated image, oversized answers (declared and streamed),
an answer cut short in transit,
an expired code, a poor-quality capture, and cloud photos with a bad signature or a wrong key.

Nothing is stored on disk except the two certificates (public, 0600 all the same).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError

from devices.captures import samples
from devices.captures._b64 import b64encode
from devices.captures.barcode import GCM_IV_BYTES, CloudCode, build_cloud_code
from devices.captures.cloud import ORGANISATION_KEY_HEADER
from devices.captures.model import FingerPosition
from devices.captures.wire import (
    MANIFEST_FORMAT,
    AcknowledgeRequest,
    CloudPhotoAnswer,
    ManifestItem,
    QualityFlagModel,
    RetrieveRequest,
    TerminalBundleAnswer,
    TerminalManifest,
)
from sync.serving import bind_loopback, serve_in_thread

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import uvicorn

_MAX_REQUEST = 4096
OVERSIZED_BYTES = 64 * 1024 * 1024  # what the oversized variants would send if nobody stopped reading
TERMINAL_ID = "sim-terminal-1"
GOOD_FLAGS = (
    "face_detected",
    "frontal_pose",
    "eyes_open",
    "neutral_expression",
    "uniform_background",
    "even_lighting",
    "sharp",
    "no_glare",
    "presentation_attack_check",
)


class Variant(StrEnum):
    GOOD = "good"
    GOOD_JP2 = "good_jp2"
    HASH_MISMATCH = "hash_mismatch"
    BAD_SIGNATURE = "bad_signature"
    TRUNCATED_IMAGE = "truncated_image"
    POOR_QUALITY = "poor_quality"
    OVERSIZED = "oversized"
    OVERSIZED_STREAM = "oversized_stream"
    EXPIRED = "expired"
    CUT_TRANSFER = "cut_transfer"


_READY = (Variant.GOOD, Variant.GOOD_JP2)


class CloudVariant(StrEnum):
    GOOD = "good"
    BAD_SIGNATURE = "bad_signature"
    WRONG_KEY = "wrong_key"
    EXPIRED = "expired"


@dataclass
class _TerminalCapture:
    code: str
    variant: Variant
    answer: bytes
    transfer_id: str
    manifest_sha256: str
    expired: bool = False


@dataclass
class _CloudPhoto:
    photo_id: str
    answer: bytes
    expired: bool = False


@dataclass
class StreamStats:
    """What the oversized variants sent: tests check that the client stopped reading early."""

    bytes_sent: int = 0
    finished: threading.Event = field(default_factory=threading.Event)


@dataclass
class SimulatorState:
    terminal_key: ec.EllipticCurvePrivateKey
    cloud_key: ec.EllipticCurvePrivateKey
    terminal_cert_pem: bytes
    cloud_cert_pem: bytes
    captures: dict[str, _TerminalCapture] = field(default_factory=dict)
    photos: dict[str, _CloudPhoto] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # variant → terminal code
    cloud_codes: dict[str, str] = field(default_factory=dict)  # cloud variant → DataMatrix text
    stream_stats: StreamStats = field(default_factory=StreamStats)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # What `add_ready_capture` draws from: the sample images and the code maker of `new_state`.
    _photos: dict[Variant, tuple[bytes, str]] = field(default_factory=dict, repr=False)
    _signature: bytes = field(default=b"", repr=False)
    _fingers: dict[FingerPosition, bytes] = field(default_factory=dict, repr=False)
    _codes: _CodeMaker | None = field(default=None, repr=False)

    def terminal_code(self, variant: Variant) -> str:
        return self.codes[variant.value]

    def cloud_code(self, variant: CloudVariant) -> str:
        return self.cloud_codes[variant.value]

    def has_capture(self, code: str) -> bool:
        with self.lock:
            return code in self.captures


def new_state(base_url: str, *, seed: int = 7) -> SimulatorState:
    """Keys, certificates and every sample capture; `base_url` goes into the cloud codes."""
    terminal_key = ec.generate_private_key(ec.SECP256R1())
    cloud_key = ec.generate_private_key(ec.SECP256R1())
    state = SimulatorState(
        terminal_key=terminal_key,
        cloud_key=cloud_key,
        terminal_cert_pem=_self_signed(terminal_key, "Tresen Simulator Capture Terminal"),
        cloud_cert_pem=_self_signed(cloud_key, "Tresen Simulator Photo Cloud"),
    )
    now = datetime.now(UTC).replace(microsecond=0)
    photo = samples.encode(samples.portrait(seed), "image/jpeg")
    photo_jp2 = samples.encode(samples.portrait(seed + 1), "image/jp2")
    small = samples.encode(samples.portrait(seed + 2, (827, 1063)), "image/jpeg", quality=60)
    signature = samples.encode(samples.signature_image(seed), "image/png")
    fingers = {
        position: samples.encode(samples.fingerprint_image(seed, position), "image/png")
        for position in (FingerPosition.RIGHT_INDEX, FingerPosition.LEFT_INDEX)
    }
    state._codes = _CodeMaker(seed)
    state._signature, state._fingers = signature, fingers
    state._photos = {
        Variant.GOOD_JP2: (photo_jp2, "image/jp2"),
        Variant.TRUNCATED_IMAGE: (photo[: len(photo) // 2], "image/jpeg"),  # the terminal's own fault
        Variant.POOR_QUALITY: (small, "image/jpeg"),
    }
    state._photos.update(
        {variant: (photo, "image/jpeg") for variant in Variant if variant not in state._photos}
    )
    for variant in Variant:
        state.codes[variant.value] = add_ready_capture(state, variant, now=now)
    for cloud_variant in CloudVariant:
        text, cloud_photo = _cloud_photo(state, base_url, cloud_variant, now, photo)
        state.cloud_codes[cloud_variant.value] = text
        state.photos[cloud_photo.photo_id] = cloud_photo
    return state


def add_ready_capture(
    state: SimulatorState,
    variant: Variant = Variant.GOOD,
    *,
    now: datetime | None = None,
    photo: tuple[bytes, str] | None = None,
) -> str:
    """One more capture waiting at the terminal (the demo's one per case, tests that acknowledge),
    with the variant's sample photo or `photo` (bytes, media type); returns its code."""
    assert state._codes is not None, "made by new_state"
    now = now or datetime.now(UTC).replace(microsecond=0)
    item_photo, media = photo or state._photos[variant]
    flags = [QualityFlagModel(name=name, passed=True) for name in GOOD_FLAGS]
    if variant is Variant.POOR_QUALITY:
        flags[2] = QualityFlagModel(name="eyes_open", passed=False, detail="left eye closed")
    with state.lock:
        code = state._codes.next()
        state.captures[code] = _terminal_capture(
            state, code, variant, now, item_photo, media, state._signature, state._fingers, flags
        )
    return code


def _terminal_capture(
    state: SimulatorState,
    code: str,
    variant: Variant,
    now: datetime,
    photo: bytes,
    media: str,
    signature: bytes,
    fingers: dict[FingerPosition, bytes],
    flags: list[QualityFlagModel],
) -> _TerminalCapture:
    blobs: dict[str, bytes] = {"photo": photo, "signature": signature}
    items = [_item("photo", "photo", media, photo), _item("signature", "signature", "image/png", signature)]
    for position, data in fingers.items():
        item_id = f"finger-{int(position)}"
        blobs[item_id] = data
        items.append(_item(item_id, "fingerprint", "image/png", data, position=int(position), nfiq2=71))
    captured = now - (timedelta(days=3) if variant is Variant.EXPIRED else timedelta(minutes=5))
    manifest = TerminalManifest(
        format=MANIFEST_FORMAT,
        transfer_id=str(uuid.uuid4()),
        capture_code=code,
        terminal_id=TERMINAL_ID,
        captured_at=captured,
        expires_at=captured + timedelta(days=1),
        items=items,
        quality_flags=flags,
    )
    manifest_bytes = manifest.model_dump_json().encode()
    signing_key = state.terminal_key
    if variant is Variant.BAD_SIGNATURE:
        signing_key = ec.generate_private_key(ec.SECP256R1())  # a key the workstation does not trust
    sig = signing_key.sign(manifest_bytes, ec.ECDSA(hashes.SHA256()))
    if variant is Variant.HASH_MISMATCH:
        tampered = bytearray(blobs["photo"])
        tampered[len(tampered) // 2] ^= 0xFF  # one byte flipped after signing
        blobs["photo"] = bytes(tampered)
    answer = TerminalBundleAnswer(
        manifest=b64encode(manifest_bytes),
        signature_algorithm="ECDSA-P256-SHA256",
        signature=b64encode(sig),
        items={key: b64encode(value) for key, value in blobs.items()},
    )
    return _TerminalCapture(
        code=code,
        variant=variant,
        answer=answer.model_dump_json().encode(),
        transfer_id=manifest.transfer_id,
        manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(),
        expired=variant is Variant.EXPIRED,
    )


def _item(
    item_id: str, kind: str, media: str, data: bytes, *, position: int | None = None, nfiq2: int | None = None
) -> ManifestItem:
    return ManifestItem.model_validate(
        {
            "id": item_id,
            "kind": kind,
            "media_type": media,
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "finger_position": position,
            "nfiq2": nfiq2,
        }
    )


def _cloud_photo(
    state: SimulatorState, base_url: str, variant: CloudVariant, now: datetime, photo: bytes
) -> tuple[str, _CloudPhoto]:
    photo_id = uuid.uuid4()
    key = AESGCM.generate_key(bit_length=256)
    iv = os.urandom(GCM_IV_BYTES)
    ciphertext = AESGCM(key).encrypt(iv, photo, None)
    user_identifier = ":::".join(str(uuid.uuid4()) for _ in range(3))
    digest = hashlib.sha256(ciphertext + user_identifier.encode("ascii")).digest()
    signing_key = (
        state.cloud_key
        if variant is not CloudVariant.BAD_SIGNATURE
        else ec.generate_private_key(ec.SECP256R1())
    )
    sig = signing_key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    uploaded = now - (timedelta(days=200) if variant is CloudVariant.EXPIRED else timedelta(days=2))
    answer = CloudPhotoAnswer(
        photo_id=str(photo_id),
        encrypted_photo=b64encode(ciphertext),
        user_identifier=user_identifier,
        signature_algorithm="ECDSA-P256-SHA256",
        signature=b64encode(sig),
        stored_until=uploaded + timedelta(days=183),  # six months
        uploaded_at=uploaded,
    )
    printed_key = key if variant is not CloudVariant.WRONG_KEY else AESGCM.generate_key(bit_length=256)
    text = build_cloud_code(CloudCode(base_url, photo_id, "AES_256_GCM", iv, "", printed_key))
    return text, _CloudPhoto(
        str(photo_id), answer.model_dump_json().encode(), expired=variant is CloudVariant.EXPIRED
    )


def create_app(state: SimulatorState) -> FastAPI:
    app = FastAPI(title="Tresen capture simulator", openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/api/v1/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/captures/retrieve")
    async def retrieve(request: Request) -> Response:
        body = await _small_body(request)
        try:
            code = RetrieveRequest.model_validate_json(body).capture_code
        except ValidationError:
            return _error(400, "invalid_request")
        with state.lock:
            capture = state.captures.get(code)
        if capture is None:
            return _error(404, "unknown_code")
        if capture.expired:
            return _error(410, "expired_code")
        if capture.variant is Variant.OVERSIZED:
            return _oversized(state.stream_stats, declare_length=True)
        if capture.variant is Variant.OVERSIZED_STREAM:
            return _oversized(state.stream_stats, declare_length=False)
        if capture.variant is Variant.CUT_TRANSFER:
            return _cut_short(capture.answer)
        return Response(capture.answer, media_type="application/json")

    @app.post("/api/v1/captures/acknowledge")
    async def acknowledge(request: Request) -> Response:
        body = await _small_body(request)
        try:
            ack = AcknowledgeRequest.model_validate_json(body)
        except ValidationError:
            return _error(400, "invalid_request")
        with state.lock:
            capture = state.captures.get(ack.capture_code)
            if capture is None:
                return _error(404, "unknown_code")
            if (capture.transfer_id, capture.manifest_sha256) != (ack.transfer_id, ack.manifest_sha256):
                return _error(409, "transfer_mismatch")
            del state.captures[ack.capture_code]  # the terminal deletes its copy
        return Response(status_code=204)

    @app.get("/api/v1/photos/{photo_id}")
    async def photo(photo_id: str, request: Request) -> Response:
        if not request.headers.get(ORGANISATION_KEY_HEADER):
            return _error(401, "invalid_request")
        with state.lock:
            stored = state.photos.get(photo_id)
        if stored is None:
            return _error(404, "unknown_code")
        if stored.expired:
            return _error(410, "expired_code")
        return Response(stored.answer, media_type="application/json")

    @app.delete("/api/v1/photos/{photo_id}")
    async def delete_photo(photo_id: str, request: Request) -> Response:
        if not request.headers.get(ORGANISATION_KEY_HEADER):
            return _error(401, "invalid_request")
        with state.lock:
            if state.photos.pop(photo_id, None) is None:
                return _error(404, "unknown_code")
        return Response(status_code=204)

    return app


async def _small_body(request: Request) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_REQUEST:
            break
    return body


def _error(status: int, error: str) -> JSONResponse:
    # Never echoes the request: a refused code is not repeated back.
    return JSONResponse({"error": error}, status_code=status)


def _oversized(stats: StreamStats, *, declare_length: bool) -> StreamingResponse:
    chunk = b" " * (256 * 1024)

    async def body() -> AsyncIterator[bytes]:
        stats.finished.clear()
        stats.bytes_sent = 0
        try:
            while stats.bytes_sent < OVERSIZED_BYTES:
                yield chunk
                stats.bytes_sent += len(chunk)
                await asyncio.sleep(0)
        finally:
            stats.finished.set()

    headers = {"content-length": str(OVERSIZED_BYTES)} if declare_length else None
    return StreamingResponse(body(), media_type="application/json", headers=headers)


def _cut_short(answer: bytes) -> StreamingResponse:
    """Declares the whole answer but sends half of it, then the connection closes."""

    async def body() -> AsyncIterator[bytes]:
        yield answer[: len(answer) // 2]

    return StreamingResponse(
        body(), media_type="application/json", headers={"content-length": str(len(answer))}
    )


def write_certificates(state: SimulatorState, folder: Path) -> tuple[Path, Path]:
    """The two certificates as 0600 files, for a workstation's configuration or `captures fetch`."""
    paths = []
    for name, pem in (("terminal.pem", state.terminal_cert_pem), ("cloud.pem", state.cloud_cert_pem)):
        path = folder / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        paths.append(path)
    return paths[0], paths[1]


def startup_lines(state: SimulatorState, url: str, certificates: tuple[Path, Path] | None) -> list[str]:
    """What `tresen terminal-sim` prints: the ready codes as `code=…`, then the damaged ones, the
    certificate files, and last `url=…`."""
    lines = [f"code={state.terminal_code(v)}" for v in (Variant.GOOD, Variant.GOOD_JP2)]
    lines.append(f"cloud-code={state.cloud_code(CloudVariant.GOOD)}")
    lines += [f"damaged-{v.value}={state.terminal_code(v)}" for v in Variant if v not in _READY]
    lines += [
        f"damaged-cloud-{v.value}={state.cloud_code(v)}" for v in CloudVariant if v is not CloudVariant.GOOD
    ]
    if certificates is not None:
        lines += [f"terminal-certificate={certificates[0]}", f"cloud-certificate={certificates[1]}"]
    lines.append(f"url={url}")  # last: a reader may stop at this line
    return lines


@dataclass
class RunningSimulator:
    url: str
    state: SimulatorState
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_simulator(host: str = "127.0.0.1", port: int = 0, *, seed: int = 7) -> RunningSimulator:
    """The simulator on a real socket in a background thread (tests, the demo)."""
    sock = bind_loopback(host, port)
    url = f"http://{host}:{sock.getsockname()[1]}"
    state = new_state(url, seed=seed)
    server, thread = serve_in_thread(create_app(state), sock, name="tresen-capture-sim", lifespan="off")
    return RunningSimulator(url=url, state=state, _server=server, _thread=thread)


def certificate_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="tresen-capture-sim-"))


def _self_signed(key: ec.EllipticCurvePrivateKey, common_name: str) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


class _CodeMaker:
    """Capture codes of the terminal's form: 8 random characters + a day and month (DDMM)."""

    _ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def next(self) -> str:
        ident = "".join(self._rng.choice(self._ALPHABET) for _ in range(8))
        return f"{ident}{self._rng.randint(1, 28):02d}{self._rng.randint(1, 12):02d}"
