"""Captures in the case: fetch by code, check, attach encrypted, hand over, purge (docs/captures.md).

The clerk types or scans a code; `CaptureDesk.fetch` asks the office's terminal (a capture code)
or the photographer's cloud (the DataMatrix text) through `devices.captures`, which verifies hashes
and signature, and lists the photo checks. Nothing is stored until the clerk accepts:
`CaptureDesk.attach` then, in one local transaction, stores the images **encrypted** (AES-256-GCM
under the installation's key from the keyring, `workstation.capture_key`), ticks the case's
"Digitales Lichtbild" document, appends the outbox operation `capture.attach` — the source's
reference and the SHA-256 only, never an image byte — and audits it. Only after that commit does
`hand_over` export the capture to the document application's folder and acknowledge the transfer,
so the terminal deletes its copy only once ours is safe.

Every view (the photo shown in the dialog, an export) is an audit event with the capture's
reference; no code, key or image byte is ever logged or audited. Captures are purged with the case
(`workstation.retention`: once its finish is accepted by the central service, at the latest on the
retention schedule).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import struct
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import delete, select

from workstation import audit
from workstation.commands import append_operation
from workstation.errors import CommandRefused, TresenError
from workstation.i18n import _
from workstation.models import Case, CaseCapture, CaseService, Ticket
from workstation.operation_kinds import OperationKind
from workstation.private_files import PRIVATE_FILE_MODE, private_dir

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from devices.captures.checks import CheckReport
    from devices.captures.model import CaptureBundle
    from devices.captures.source import CaptureSource
    from workstation.card_reading import SessionSource
    from workstation.commands import DeskContext

log = logging.getLogger(__name__)

PHOTO_DOCUMENT_PREFIX = "Digitales Lichtbild"  # the checklist entry the accepted capture ticks
PAYLOAD_VERSION = b"\x01"
NONCE_BYTES = 12
_MARKS = {"passed": "✓", "failed": "✗", "not_checked": "–"}
_EXTENSIONS = {"image/jpeg": "jpg", "image/jp2": "jp2", "image/png": "png", "image/x-wsq": "wsq"}


class CaptureRefused(TresenError):
    """A fetch or attach that did not happen; `user_message` says why in German, nothing attached."""


# --- what the clerk sees -------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckLine:
    status: str  # passed | failed | not_checked
    label: str
    detail: str
    action: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @property
    def text(self) -> str:
        line = f"{_MARKS.get(self.status, '–')} {self.label}: {self.detail}"
        return f"{line} → {self.action}" if self.failed and self.action else line

    def stored(self) -> dict[str, str]:
        return {"status": self.status, "label": self.label, "detail": self.detail, "action": self.action}


def check_lines(report: CheckReport) -> tuple[CheckLine, ...]:
    return tuple(
        CheckLine(str(result.status), result.label_de, result.detail_de, result.action_de)
        for result in report.results
    )


@dataclass(frozen=True)
class CapturePhoto:
    data: bytes = field(repr=False)
    media_type: str = "image/jpeg"

    @property
    def description(self) -> str:
        kind = {"image/jpeg": "JPEG", "image/jp2": "JPEG 2000"}.get(self.media_type, self.media_type)
        kilobytes = f"{len(self.data) / 1000:.1f}".replace(".", ",")
        return _("Aufnahme: {kind}, {kilobytes} kB").format(kind=kind, kilobytes=kilobytes)


@dataclass(frozen=True)
class FetchedCapture:
    """A verified bundle with its checks, not stored yet (in memory only)."""

    bundle: CaptureBundle = field(repr=False)
    checks: tuple[CheckLine, ...]

    @property
    def passed(self) -> bool:
        return not any(line.failed for line in self.checks)

    @property
    def photo(self) -> CapturePhoto:
        return CapturePhoto(self.bundle.photo.data, self.bundle.photo.media_type)

    @property
    def source_label(self) -> str:
        return _("Aufnahmegerät") if self.bundle.source == "terminal" else _("Fotodienst")


@dataclass(frozen=True)
class StoredCapture:
    """An attached capture as the case shows it: metadata and checks, no image byte."""

    id: str
    case_id: str
    attached_at: datetime
    source: str
    reference: str
    passed: bool
    checks: tuple[CheckLine, ...]
    items: tuple[str, ...]  # photo, signature, fingerprint per item


@dataclass(frozen=True)
class AttachResult:
    capture_id: str
    case_id: str
    documents_ticked: tuple[str, ...]


@dataclass(frozen=True)
class HandOver:
    """What happened after the commit: the export folder (None: none configured) and whether the
    source was told (the terminal then deleted its copy)."""

    exported_to: Path | None
    acknowledged: bool
    messages: tuple[str, ...]


class CaptureSources(Protocol):
    """The configured sources (`tresen` builds them from [captures]); None: not set up here."""

    @property
    def terminal(self) -> CaptureSource | None: ...

    @property
    def cloud(self) -> CaptureSource | None: ...


@dataclass(frozen=True)
class Sources:
    terminal: CaptureSource | None = None
    cloud: CaptureSource | None = None


# --- the service -------------------------------------------------------------------------------


class CaptureDesk:
    """The capture workflow of one logged-in desk. Every method may block (network, keyring,
    SQLite): the screens call it from worker threads."""

    def __init__(
        self,
        store: SessionSource,
        ctx: DeskContext,
        sources: CaptureSources,
        *,
        export_dir: Path | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        hint: Callable[[str], str | None] | None = None,
        key: Callable[[], bytes] | None = None,
    ) -> None:
        self._store = store
        self._ctx = ctx
        self._sources = sources
        self.export_dir = export_dir
        self._clock = clock
        self._hint = hint
        self._key = key

    def hint(self, case_id: str) -> str | None:
        """The demo's code for this case (None at a real desk)."""
        return self._hint(case_id) if self._hint is not None else None

    def key(self) -> bytes:
        if self._key is not None:
            return self._key()
        from workstation.capture_key import capture_key

        return capture_key()

    # -- fetch -----------------------------------------------------------------------------------

    def fetch(self, case_id: str, code: str) -> FetchedCapture:
        """Fetch, verify and check the capture `code` names; `CaptureRefused` with the German reason
        for any bad input. The photo is about to be shown: that view is audited here."""
        from devices.captures.checks import check_bundle
        from devices.captures.errors import CaptureError

        source = self._source_for(code)
        try:
            bundle = source.fetch(code.strip())
        except CaptureError as error:
            log.info("capture fetch refused: %s", error.reason.value)
            raise CaptureRefused(error.user_message, f"capture fetch: {error.reason.value}") from None
        fetched = FetchedCapture(bundle, check_lines(check_bundle(bundle)))
        self._audit(case_id, "capture.view", bundle.reference, bundle.source, purpose="fetch-compare")
        return fetched

    def _source_for(self, code: str) -> CaptureSource:
        from devices.captures.codes import normalize_capture_code
        from devices.captures.errors import CaptureError

        terminal, cloud = self._sources.terminal, self._sources.cloud
        if terminal is None and cloud is None:
            raise CaptureRefused(
                _("An diesem Arbeitsplatz ist kein Aufnahmegerät und kein Fotodienst eingerichtet.")
            )
        text = code.strip()
        if not text:
            raise CaptureRefused(_("Bitte den Code eingeben oder scannen."))
        try:
            normalize_capture_code(text)
        except CaptureError:
            looks_like_terminal = len(text) <= 20  # a DataMatrix text is Base64 of 60+ bytes
        else:
            looks_like_terminal = True
        if looks_like_terminal:
            if terminal is None:
                raise CaptureRefused(_("An diesem Arbeitsplatz ist kein Aufnahmegerät eingerichtet."))
            return terminal
        if cloud is None:
            raise CaptureRefused(_("An diesem Arbeitsplatz ist kein Fotodienst eingerichtet."))
        return cloud

    # -- attach ----------------------------------------------------------------------------------

    def attach(self, case_id: str, fetched: FetchedCapture) -> AttachResult:
        """Store the capture encrypted with the case, tick its photo document, and tell the central
        service its reference and hash — one transaction. A capture whose checks failed is refused."""
        if not fetched.passed:
            actions = sorted({line.action for line in fetched.checks if line.failed and line.action})
            raise CommandRefused(
                " ".join(
                    [_("Die Aufnahme hat die Prüfung nicht bestanden und wird nicht übernommen."), *actions]
                )
            )
        bundle = fetched.bundle
        key = self.key()  # before the transaction: a keyring problem stops it with nothing written
        now = self._clock()
        capture_id = f"cap-{uuid.uuid4()}"
        with self._store.write() as session:
            case = session.get(Case, case_id)
            if case is None:
                raise CommandRefused(_("Dieser Vorgang ist unbekannt."))
            if case.finished_at is not None:
                raise CommandRefused(_("Der Vorgang ist abgeschlossen; die Aufnahme wird nicht übernommen."))
            ticket = session.get(Ticket, case.ticket_id)
            assert ticket is not None
            # One capture per case: a new fetch (after a retake) replaces the old one.
            session.execute(delete(CaseCapture).where(CaseCapture.case_id == case_id))
            session.add(
                CaseCapture(
                    id=capture_id,
                    case_id=case_id,
                    clerk_id=self._ctx.clerk_id,
                    attached_at=now,
                    source=str(bundle.source),
                    reference=bundle.reference,
                    bundle_sha256=bundle.bundle_sha256,
                    signer=bundle.signer[:200],
                    uploader_id=bundle.uploader_id,
                    items=_item_records(bundle),
                    checks=[line.stored() for line in fetched.checks],
                    passed=fetched.passed,
                    payload=seal(key, capture_id, bundle),
                )
            )
            ticked = _tick_photo_documents(session, case_id)
            items = _protocol_items(bundle)
            append_operation(
                session,
                self._ctx,
                OperationKind.CAPTURE_ATTACH,
                {
                    "ticket_id": ticket.id,
                    "case_id": case_id,
                    "reference": bundle.reference,
                    "sha256": bundle.bundle_sha256,
                    "items": items,
                    "source": str(bundle.source),
                    "at": now.astimezone(UTC).isoformat(),
                },
                ticket.version,
                created_at=now,
            )
            audit.record(
                session,
                self._ctx.clerk_id,
                case_id,
                "capture.attach",
                {"reference": bundle.reference, "source": str(bundle.source), "items": items},
                at=now,
            )
        return AttachResult(capture_id, case_id, ticked)

    def hand_over(self, case_id: str, fetched: FetchedCapture) -> HandOver:
        """After `attach` committed: export to the document application's folder (if configured),
        then acknowledge to the source, so the terminal deletes its copy. Failures here attach
        nothing back and lose nothing: they are said, and the export can be repeated."""
        messages: list[str] = []
        exported: Path | None = None
        if self.export_dir is not None:
            try:
                exported = self.export(case_id)
            except TresenError as error:
                messages.append(error.user_message)
            else:
                messages.append(_("An die Fachanwendung übergeben ({folder}).").format(folder=exported))
        acknowledged = self.acknowledge(fetched)
        if not acknowledged:
            messages.append(
                _("{source} hat die Übernahme nicht bestätigt; es löscht die Aufnahme später selbst.").format(
                    source=fetched.source_label
                )
            )
        return HandOver(exported, acknowledged, tuple(messages))

    def acknowledge(self, fetched: FetchedCapture) -> bool:
        from devices.captures.errors import CaptureError

        bundle = fetched.bundle
        source = self._sources.terminal if bundle.source == "terminal" else self._sources.cloud
        if source is None:
            return False
        try:
            # The cloud keeps the photo for a later passport (the citizen's choice, TR-03170-1 §2.8.3).
            source.acknowledge(bundle, delete=bundle.source == "terminal")
        except (CaptureError, ValueError) as error:
            log.warning("capture acknowledgement failed: %s", type(error).__name__)
            return False
        return True

    # -- the stored capture ---------------------------------------------------------------------

    def latest(self, case_id: str) -> StoredCapture | None:
        with self._store.session() as session:
            row = session.scalars(
                select(CaseCapture)
                .where(CaseCapture.case_id == case_id)
                .order_by(CaseCapture.attached_at.desc())
            ).first()
            if row is None:
                return None
            return StoredCapture(
                id=row.id,
                case_id=row.case_id,
                attached_at=row.attached_at,
                source=row.source,
                reference=row.reference,
                passed=row.passed,
                checks=tuple(CheckLine(**line) for line in row.checks),
                items=tuple(str(item["kind"]) for item in row.items),
            )

    def photo(self, case_id: str, *, purpose: str) -> CapturePhoto | None:
        """The attached photo, decrypted to be shown; the view is audited."""
        with self._store.write() as session:
            row = session.scalars(select(CaseCapture).where(CaseCapture.case_id == case_id)).first()
            if row is None:
                return None
            items = open_payload(self.key(), row.id, row.payload)
            audit.record(
                session,
                self._ctx.clerk_id,
                case_id,
                "capture.view",
                {"reference": row.reference, "source": row.source, "purpose": purpose},
                at=self._clock(),
            )
        meta, data = next((m, d) for m, d in items if m["kind"] == "photo")
        return CapturePhoto(data, str(meta["media_type"]))

    def export(self, case_id: str) -> Path:
        """Write the case's capture into `<export_dir>/<case id>/` (0700; files 0600): the images as
        the source sent them and `capture.json` with the metadata and checks. Audited."""
        folder_root = self.export_dir
        if folder_root is None:
            raise CaptureRefused(_("Kein Übergabeordner eingerichtet ([captures] export_dir)."))
        with self._store.write() as session:
            row = session.scalars(select(CaseCapture).where(CaseCapture.case_id == case_id)).first()
            if row is None:
                raise CaptureRefused(_("Zu diesem Vorgang ist keine Aufnahme gespeichert."))
            items = open_payload(self.key(), row.id, row.payload)
            folder = folder_root / _safe_name(case_id)
            try:
                private_dir(folder_root)
                private_dir(folder)
                names = _write_export(folder, row, items)
            except OSError as error:
                raise CaptureRefused(
                    _("Die Aufnahme konnte nicht in den Übergabeordner {folder} geschrieben werden.").format(
                        folder=folder_root
                    ),
                    f"capture export failed: {type(error).__name__}",
                ) from None
            audit.record(
                session,
                self._ctx.clerk_id,
                case_id,
                "capture.export",
                {"reference": row.reference, "source": row.source, "files": len(names)},
                at=self._clock(),
            )
        return folder

    def _audit(self, case_id: str, action: str, reference: str, source: str, *, purpose: str) -> None:
        with self._store.write() as session:
            audit.record(
                session,
                self._ctx.clerk_id,
                case_id,
                action,
                {"reference": reference, "source": str(source), "purpose": purpose},
                at=self._clock(),
            )


# --- encryption at rest -----------------------------------------------------------------------------


def seal(key: bytes, capture_id: str, bundle: CaptureBundle) -> bytes:
    """`01 ‖ nonce ‖ AES-256-GCM(container)`, the capture id as associated data (a payload copied
    to another row does not open). The container: a 4-byte header length, the header (JSON: each
    item's kind, media type, SHA-256, finger, length) and the items' bytes."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    parts: list[tuple[dict[str, Any], bytes]] = [(_meta("photo", bundle.photo), bundle.photo.data)]
    if bundle.signature_image is not None:
        parts.append((_meta("signature", bundle.signature_image), bundle.signature_image.data))
    for finger in bundle.fingerprints:
        meta = _meta("fingerprint", finger.item) | {"position": int(finger.position), "nfiq2": finger.nfiq2}
        parts.append((meta, finger.item.data))
    header = json.dumps([meta for meta, _ in parts]).encode()
    plain = b"".join([struct.pack(">I", len(header)), header, *(data for _, data in parts)])
    nonce = secrets.token_bytes(NONCE_BYTES)
    return PAYLOAD_VERSION + nonce + AESGCM(key).encrypt(nonce, plain, _aad(capture_id))


def open_payload(key: bytes, capture_id: str, payload: bytes) -> list[tuple[dict[str, Any], bytes]]:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if payload[:1] != PAYLOAD_VERSION:
        raise CaptureRefused(_("Die gespeicherte Aufnahme ist beschädigt."), "capture payload version")
    nonce, sealed = payload[1 : 1 + NONCE_BYTES], payload[1 + NONCE_BYTES :]
    try:
        plain = AESGCM(key).decrypt(nonce, sealed, _aad(capture_id))
    except InvalidTag:
        raise CaptureRefused(
            _("Die gespeicherte Aufnahme lässt sich nicht entschlüsseln. Bitte neu abrufen."),
            "capture payload does not decrypt",
        ) from None
    (length,) = struct.unpack(">I", plain[:4])
    header = json.loads(plain[4 : 4 + length])
    items, offset = [], 4 + length
    for meta in header:
        size = int(meta["length"])
        items.append((meta, plain[offset : offset + size]))
        offset += size
    return items


def _aad(capture_id: str) -> bytes:
    return f"tresen-capture:{capture_id}".encode()


def _meta(kind: str, item: Any) -> dict[str, Any]:
    return {"kind": kind, "media_type": item.media_type, "sha256": item.sha256, "length": item.size}


# --- helpers ----------------------------------------------------------------------------------------


def _item_records(bundle: CaptureBundle) -> list[dict[str, Any]]:
    records = [_meta("photo", bundle.photo)]
    if bundle.signature_image is not None:
        records.append(_meta("signature", bundle.signature_image))
    records += [_meta("fingerprint", f.item) | {"position": int(f.position)} for f in bundle.fingerprints]
    return records


def _protocol_items(bundle: CaptureBundle) -> list[str]:
    items = ["photo"]
    if bundle.signature_image is not None:
        items.append("signature")
    if bundle.fingerprints:
        items.append("fingerprints")
    return items


def _tick_photo_documents(session: Any, case_id: str) -> tuple[str, ...]:
    ticked: list[str] = []
    for case_service in session.scalars(select(CaseService).where(CaseService.case_id == case_id)):
        for document in case_service.service.required_documents:
            if document.startswith(PHOTO_DOCUMENT_PREFIX) and document not in case_service.documents_checked:
                case_service.documents_checked = [*case_service.documents_checked, document]
                ticked.append(document)
    return tuple(ticked)


def _safe_name(case_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in case_id)[:80] or "vorgang"


def _write_export(folder: Path, row: CaseCapture, items: list[tuple[dict[str, Any], bytes]]) -> list[str]:
    names: list[str] = []
    files: list[dict[str, Any]] = []
    for index, (meta, data) in enumerate(items):
        extension = _EXTENSIONS.get(str(meta["media_type"]), "bin")
        if meta["kind"] == "fingerprint":
            name = f"fingerprint-{int(meta.get('position', 0)):02d}.{extension}"
        else:
            name = f"{meta['kind']}.{extension}"
        if name in names:
            name = f"{index:02d}-{name}"
        _write_private(folder / name, data)
        names.append(name)
        files.append({"file": name} | {k: v for k, v in meta.items() if k != "length"} | {"size": len(data)})
    description = {
        "format": "tresen-capture-export/1",
        "case_id": row.case_id,
        "capture_id": row.id,
        "source": row.source,
        "reference": row.reference,
        "bundle_sha256": row.bundle_sha256,
        "signer": row.signer,
        "uploader_id": row.uploader_id,
        "attached_at": row.attached_at.astimezone(UTC).isoformat(),
        "checks_passed": row.passed,
        "checks": row.checks,
        "files": files,
    }
    _write_private(folder / "capture.json", json.dumps(description, ensure_ascii=False, indent=2).encode())
    names.append("capture.json")
    return names


def _write_private(path: Path, data: bytes) -> None:
    """Created 0600 under a temporary name, then renamed: the application never sees half a file."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
