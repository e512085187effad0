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
    CaptureErrorReason.UNREACHABLE: "Das Aufnahmegerät ist nicht erreichbar. Bitte Verbindung prüfen.",
    CaptureErrorReason.TIMEOUT: "Das Aufnahmegerät antwortet nicht rechtzeitig. Bitte erneut versuchen.",
    CaptureErrorReason.SOURCE_ERROR: "Das Aufnahmegerät meldet einen Fehler. Bitte später erneut versuchen.",
    CaptureErrorReason.OVERSIZED: "Die Antwort des Aufnahmegeräts ist zu groß und wurde abgelehnt.",
    CaptureErrorReason.MALFORMED: "Die Antwort des Aufnahmegeräts ist fehlerhaft und wurde abgelehnt.",
    CaptureErrorReason.HASH_MISMATCH: (
        "Die Aufnahme ist beschädigt oder verändert (Prüfsumme falsch). Bitte Foto neu aufnehmen lassen."
    ),
    CaptureErrorReason.BAD_SIGNATURE: (
        "Die Signatur der Aufnahme ist ungültig. Die Aufnahme wurde nicht übernommen."
    ),
    CaptureErrorReason.UNTRUSTED_CERTIFICATE: (
        "Das Zertifikat des Aufnahmegeräts ist nicht gültig. Bitte die IT verständigen."
    ),
    CaptureErrorReason.UNSUPPORTED_ALGORITHM: "Das Verfahren der Aufnahme wird nicht unterstützt.",
    CaptureErrorReason.DECRYPTION_FAILED: (
        "Das Foto konnte nicht entschlüsselt werden. Bitte den Code erneut scannen."
    ),
    CaptureErrorReason.WRONG_CAPTURE: (
        "Das Aufnahmegerät hat eine andere Aufnahme geliefert als angefragt. Sie wurde abgelehnt."
    ),
    CaptureErrorReason.UNKNOWN_CLOUD: (
        "Der Fotodienst dieses Codes ist hier nicht zugelassen. Bitte Foto neu aufnehmen lassen."
    ),
}


class CaptureError(Exception):
    """Any failure while fetching or verifying a capture; `reason` says which."""

    def __init__(self, reason: CaptureErrorReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail

    @property
    def user_message(self) -> str:
        return USER_MESSAGES_DE[self.reason]
