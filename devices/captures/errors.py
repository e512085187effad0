"""Capture errors: an English reason for logs, a German sentence for the clerk.

No message or detail may contain personal data: no capture code, no retrieval token, no key, no
image bytes. Details are short technical words (a status code, a field name, a byte count).
"""

from __future__ import annotations

from enum import StrEnum


class CaptureErrorReason(StrEnum):
    INVALID_CODE = "invalid_code"
    UNKNOWN_CODE = "unknown_code"
    EXPIRED_CODE = "expired_code"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    INCOMPLETE = "incomplete"
    SOURCE_ERROR = "source_error"
    OVERSIZED = "oversized"
    MALFORMED = "malformed"
    HASH_MISMATCH = "hash_mismatch"
    BAD_SIGNATURE = "bad_signature"
    UNTRUSTED_CERTIFICATE = "untrusted_certificate"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    DECRYPTION_FAILED = "decryption_failed"
    WRONG_CAPTURE = "wrong_capture"
    UNKNOWN_CLOUD = "unknown_cloud"


USER_MESSAGES_DE: dict[CaptureErrorReason, str] = {
    CaptureErrorReason.INVALID_CODE: "Der Code ist ungültig. Bitte den Code erneut eingeben oder scannen.",
    CaptureErrorReason.UNKNOWN_CODE: "Zu diesem Code gibt es keine Aufnahme. Bitte den Code prüfen.",
    CaptureErrorReason.EXPIRED_CODE: "Der Code ist abgelaufen. Bitte Foto neu aufnehmen lassen.",
    CaptureErrorReason.UNREACHABLE: "{Quelle} ist nicht erreichbar. Bitte Verbindung prüfen.",
    CaptureErrorReason.TIMEOUT: "{Quelle} antwortet nicht rechtzeitig. Bitte erneut versuchen.",
    CaptureErrorReason.INCOMPLETE: "Die Übertragung wurde unterbrochen. Bitte erneut abrufen.",
    CaptureErrorReason.SOURCE_ERROR: "{Quelle} meldet einen Fehler. Bitte später erneut versuchen.",
    CaptureErrorReason.OVERSIZED: "Die Antwort ({quelle}) ist zu groß und wurde abgelehnt.",
    CaptureErrorReason.MALFORMED: "Die Antwort ({quelle}) ist fehlerhaft und wurde abgelehnt.",
    CaptureErrorReason.HASH_MISMATCH: (
        "Die Aufnahme ist beschädigt oder verändert (Prüfsumme falsch). Bitte Foto neu aufnehmen lassen."
    ),
    CaptureErrorReason.BAD_SIGNATURE: (
        "Die Signatur der Aufnahme ist ungültig. Die Aufnahme wurde nicht übernommen."
    ),
    CaptureErrorReason.UNTRUSTED_CERTIFICATE: (
        "Das hinterlegte Zertifikat ({quelle}) ist nicht gültig. Bitte die IT verständigen."
    ),
    CaptureErrorReason.UNSUPPORTED_ALGORITHM: "Das Verfahren der Aufnahme wird nicht unterstützt.",
    CaptureErrorReason.DECRYPTION_FAILED: (
        "Das Foto konnte nicht entschlüsselt werden. Bitte den Code erneut scannen."
    ),
    CaptureErrorReason.WRONG_CAPTURE: (
        "{Quelle} hat eine andere Aufnahme geliefert als angefragt. Sie wurde abgelehnt."
    ),
    CaptureErrorReason.UNKNOWN_CLOUD: (
        "Der Fotodienst dieses Codes ist hier nicht zugelassen. Bitte Foto neu aufnehmen lassen."
    ),
}


# How a message names the source: the terminal in the office, or the photographer's cloud.
_SOURCE_NAMES_DE = {
    "terminal": ("Das Aufnahmegerät", "Aufnahmegerät"),
    "cloud": ("Der Fotodienst", "Fotodienst"),
}


class CaptureError(Exception):
    """Any failure while fetching or verifying a capture; `reason` says which, `source` from where
    ("terminal" or "cloud", set by the source that raised it)."""

    def __init__(self, reason: CaptureErrorReason, detail: str = "", *, source: str = "terminal") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail
        self.source = source

    @property
    def user_message(self) -> str:
        subject, name = _SOURCE_NAMES_DE.get(self.source, _SOURCE_NAMES_DE["terminal"])
        return USER_MESSAGES_DE[self.reason].format(Quelle=subject, quelle=name)
