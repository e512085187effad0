"""Checks of a fetched capture, each with what to do when it fails — shown to the clerk as a list.

The numbers and where they come from (see docs/captures.md for the full references):
- 35 mm × 45 mm, portrait (PAuswV § 7 Abs. 1; PassV § 5 likewise): aspect ratio 35:45 = 0.778,
  accepted within ±1 %.
- At least 1244 × 1600 pixels: BSI TR-03121-3 Vol. 2 (GID) v6.0, FM QA-FI-GID / FM COD-FI-ROR —
  live-captured and delivered (cloud) images are assessed and stored at 1244 × 1600 px (inter-eye
  distance ≥ 300 px, which only the terminal's face finder can measure). A larger image of the same
  ratio is accepted (it can be scaled down without loss); a smaller one is not (upscaling is
  forbidden by TR-03121-3 §3.5).
- Colour depth: 24-bit sRGB colour or 8-bit grey (TR-03121 v6.0 changelog, all volumes).
- Format: JPEG (TR-03121 v6.0: facial images are stored as JPEG) or JPEG 2000 (the chip's format).
- File size: 40 KB … 5 MiB — Tresen's own bounds, not from a regulation: below, a 1244 × 1600 image
  is compressed so hard that artefacts show; above, it is no compressed ID photo (and memory stays
  bounded). Configurable in `PhotoRules`.
- The terminal's own quality flags (face found, eyes open, pose, lighting, presentation attack
  detection …) as it reports them: any failed flag fails.
Pillow decodes the image; nothing is written to disk and nothing of the image goes to the log.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, UnidentifiedImageError

from devices.captures.model import FINGER_LABELS_DE, CaptureBundle, CaptureItem, QualityFlag

RETAKE_PHOTO = "Foto neu aufnehmen lassen."
RETAKE_SIGNATURE = "Unterschrift am Aufnahmegerät neu leisten lassen."
RETAKE_FINGERPRINTS = "Fingerabdrücke neu erfassen lassen."
_PIL_FORMATS = {"image/jpeg": "JPEG", "image/jp2": "JPEG2000", "image/png": "PNG"}


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_CHECKED = "not_checked"


class CheckName(StrEnum):
    PHOTO_DECODES = "photo_decodes"
    PIXEL_SIZE = "pixel_size"
    ASPECT_RATIO = "aspect_ratio"
    COLOUR_DEPTH = "colour_depth"
    FILE_SIZE = "file_size"
    TERMINAL_FLAG = "terminal_flag"
    SIGNATURE_IMAGE = "signature_image"
    FINGERPRINT = "fingerprint"


@dataclass(frozen=True)
class CheckResult:
    check: CheckName
    status: CheckStatus
    label_de: str  # what was checked, e.g. "Bildgröße"
    detail_de: str  # what was found, e.g. "827 × 1063 Pixel, mindestens 1244 × 1600 nötig"
    action_de: str = ""  # what to do when it failed, e.g. "Foto neu aufnehmen lassen."
    subject: str = ""  # the flag name or finger, for terminal flags and fingerprints

    @property
    def failed(self) -> bool:
        return self.status is CheckStatus.FAILED


@dataclass(frozen=True)
class CheckReport:
    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return not any(result.failed for result in self.results)

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(result for result in self.results if result.failed)

    def lines_de(self) -> list[str]:
        marks = {CheckStatus.PASSED: "✓", CheckStatus.FAILED: "✗", CheckStatus.NOT_CHECKED: "–"}
        lines = []
        for r in self.results:
            line = f"{marks[r.status]} {r.label_de}: {r.detail_de}"
            if r.failed and r.action_de:
                line += f" → {r.action_de}"
            lines.append(line)
        return lines


@dataclass(frozen=True)
class PhotoRules:
    min_width: int = 1244
    min_height: int = 1600
    aspect_width_mm: float = 35.0
    aspect_height_mm: float = 45.0
    aspect_tolerance: float = 0.01
    max_pixels: int = 4 * 1244 * 1600  # decoding stops before a decompression bomb
    min_bytes: int = 40_000
    max_bytes: int = 5 * 1024 * 1024
    allowed_modes: tuple[str, ...] = ("RGB", "L")


FLAG_LABELS_DE: dict[str, str] = {
    "face_detected": "Gesicht erkannt",
    "frontal_pose": "Kopf gerade, frontal",
    "eyes_open": "Augen offen",
    "neutral_expression": "neutraler Gesichtsausdruck, Mund geschlossen",
    "uniform_background": "einfarbiger, heller Hintergrund",
    "even_lighting": "gleichmäßige Ausleuchtung",
    "sharp": "Schärfe",
    "no_glare": "keine Reflexionen (Brille)",
    "face_size": "Gesichtshöhe",
    "eye_distance": "Augenabstand",
    "presentation_attack_check": "Echtheit der Person (Täuschungserkennung)",
}


def check_bundle(bundle: CaptureBundle, rules: PhotoRules | None = None) -> CheckReport:
    rules = rules or PhotoRules()
    results = list(check_photo(bundle.photo, rules))
    results += check_flags(bundle.quality_flags, from_terminal=bool(bundle.quality_flags))
    if bundle.signature_image is not None:
        results.append(_check_secondary(bundle.signature_image, CheckName.SIGNATURE_IMAGE, "Unterschrift"))
    for finger in bundle.fingerprints:
        label = f"Fingerabdruck {FINGER_LABELS_DE[finger.position]}"
        result = _check_secondary(finger.item, CheckName.FINGERPRINT, label, subject=finger.position.name)
        if not result.failed and finger.nfiq2 is not None:
            result = CheckResult(
                result.check, result.status, label, f"{result.detail_de}, NFIQ 2: {finger.nfiq2}",
                subject=result.subject,
            )  # fmt: skip
        results.append(result)
    return CheckReport(tuple(results))


def check_photo(photo: CaptureItem, rules: PhotoRules) -> list[CheckResult]:
    results = [_file_size(photo.size, rules)]
    try:
        image = _decode(photo, rules)
    except _Undecodable as problem:
        results.insert(
            0,
            CheckResult(CheckName.PHOTO_DECODES, CheckStatus.FAILED, "Bilddatei", str(problem), RETAKE_PHOTO),
        )
        return results
    with image:
        width, height = image.size
        results.insert(
            0,
            CheckResult(
                CheckName.PHOTO_DECODES, CheckStatus.PASSED, "Bilddatei", f"{_format_de(photo)} lesbar"
            ),
        )
        results.append(_pixel_size(width, height, rules))
        results.append(_aspect(width, height, rules))
        results.append(_colour_depth(image.mode, rules))
    return results


def check_flags(flags: tuple[QualityFlag, ...], *, from_terminal: bool) -> list[CheckResult]:
    if not from_terminal:
        return [
            CheckResult(
                CheckName.TERMINAL_FLAG,
                CheckStatus.NOT_CHECKED,
                "Qualitätsprüfung der Quelle",
                "keine Angaben (Fotodienst); Foto bitte selbst ansehen",
            )
        ]
    results = []
    for flag in flags:
        label = FLAG_LABELS_DE.get(flag.name, f"Prüfung „{flag.name}“")
        if flag.passed:
            results.append(
                CheckResult(
                    CheckName.TERMINAL_FLAG, CheckStatus.PASSED, label, "in Ordnung", subject=flag.name
                )
            )
        else:
            results.append(
                CheckResult(
                    CheckName.TERMINAL_FLAG,
                    CheckStatus.FAILED,
                    label,
                    "vom Aufnahmegerät beanstandet",
                    RETAKE_PHOTO,
                    subject=flag.name,
                )
            )
    return results


class _Undecodable(Exception):
    pass


def _decode(item: CaptureItem, rules: PhotoRules) -> Image.Image:
    expected = _PIL_FORMATS.get(item.media_type)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(item.data), formats=[expected] if expected else None)
            if image.width * image.height > rules.max_pixels:
                image.close()
                raise _Undecodable(f"Bild zu groß ({image.width} × {image.height} Pixel)")
            image.load()
    except _Undecodable:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _Undecodable(f"kein lesbares Bild im Format {_format_de(item)}") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        # Pillow reports a truncated or corrupt file as OSError ("image file is truncated").
        raise _Undecodable("Bilddatei ist unvollständig oder beschädigt") from None
    return image


def _file_size(size: int, rules: PhotoRules) -> CheckResult:
    text = f"{size / 1024:.0f} KB"
    if size < rules.min_bytes:
        return CheckResult(
            CheckName.FILE_SIZE, CheckStatus.FAILED, "Dateigröße",
            f"{text}, zu stark komprimiert (mindestens {rules.min_bytes // 1000} KB)", RETAKE_PHOTO,
        )  # fmt: skip
    if size > rules.max_bytes:
        return CheckResult(
            CheckName.FILE_SIZE, CheckStatus.FAILED, "Dateigröße",
            f"{text}, zu groß (höchstens {rules.max_bytes // (1024 * 1024)} MB)", RETAKE_PHOTO,
        )  # fmt: skip
    return CheckResult(CheckName.FILE_SIZE, CheckStatus.PASSED, "Dateigröße", text)


def _pixel_size(width: int, height: int, rules: PhotoRules) -> CheckResult:
    text = f"{width} × {height} Pixel"
    if width < rules.min_width or height < rules.min_height:
        return CheckResult(
            CheckName.PIXEL_SIZE, CheckStatus.FAILED, "Bildgröße",
            f"{text}, mindestens {rules.min_width} × {rules.min_height} nötig", RETAKE_PHOTO,
        )  # fmt: skip
    return CheckResult(CheckName.PIXEL_SIZE, CheckStatus.PASSED, "Bildgröße", text)


def _aspect(width: int, height: int, rules: PhotoRules) -> CheckResult:
    wanted = rules.aspect_width_mm / rules.aspect_height_mm
    ratio = width / height
    label = "Seitenverhältnis 35 × 45 mm"
    if abs(ratio - wanted) > wanted * rules.aspect_tolerance:
        orientation = "Querformat" if ratio > 1 else f"{_de(ratio)} statt {_de(wanted)}"
        return CheckResult(CheckName.ASPECT_RATIO, CheckStatus.FAILED, label, orientation, RETAKE_PHOTO)
    return CheckResult(CheckName.ASPECT_RATIO, CheckStatus.PASSED, label, _de(ratio))


def _colour_depth(mode: str, rules: PhotoRules) -> CheckResult:
    names = {"RGB": "Farbe, 24 Bit", "L": "Graustufen, 8 Bit"}
    if mode not in rules.allowed_modes:
        return CheckResult(
            CheckName.COLOUR_DEPTH, CheckStatus.FAILED, "Farbtiefe",
            f"{mode} (nötig: 24 Bit Farbe oder 8 Bit Graustufen)", RETAKE_PHOTO,
        )  # fmt: skip
    return CheckResult(CheckName.COLOUR_DEPTH, CheckStatus.PASSED, "Farbtiefe", names.get(mode, mode))


def _check_secondary(item: CaptureItem, check: CheckName, label: str, *, subject: str = "") -> CheckResult:
    action = RETAKE_SIGNATURE if check is CheckName.SIGNATURE_IMAGE else RETAKE_FINGERPRINTS
    if item.media_type not in _PIL_FORMATS:
        # WSQ (the fingerprint format of TR-03121) has no Pillow decoder; its hash was verified.
        return CheckResult(
            check, CheckStatus.NOT_CHECKED, label, f"{item.media_type}, Prüfsumme korrekt", subject=subject
        )
    try:
        image = _decode(item, PhotoRules())
    except _Undecodable as problem:
        return CheckResult(check, CheckStatus.FAILED, label, str(problem), action, subject=subject)
    with image:
        return CheckResult(
            check, CheckStatus.PASSED, label, f"{image.width} × {image.height} Pixel", subject=subject
        )


def _format_de(item: CaptureItem) -> str:
    return {"image/jpeg": "JPEG", "image/jp2": "JPEG 2000", "image/png": "PNG"}.get(
        item.media_type, item.media_type
    )


def _de(number: float) -> str:
    return f"{number:.3f}".replace(".", ",")
