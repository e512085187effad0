"""Card-reading errors: an English reason for logs, a German sentence for the clerk.

No message may contain personal data (names, document numbers, MRZ).
"""

from __future__ import annotations

from enum import StrEnum


class CardErrorReason(StrEnum):
    NO_READER = "no_reader"
    READER_UNAVAILABLE = "reader_unavailable"
    NO_CARD = "no_card"
    CARD_REMOVED = "card_removed"
    ACCESS_DENIED = "access_denied"
    UNSUPPORTED_DOCUMENT = "unsupported_document"
    SECURE_MESSAGING = "secure_messaging"
    MALFORMED_DATA = "malformed_data"
    PROTOCOL = "protocol"
    TIMEOUT = "timeout"


USER_MESSAGES_DE: dict[CardErrorReason, str] = {
    CardErrorReason.NO_READER: "Kein Kartenleser gefunden. Bitte Lesegerät anschließen.",
    CardErrorReason.READER_UNAVAILABLE: "Der Kartenleser antwortet nicht. Bitte Verbindung prüfen.",
    CardErrorReason.NO_CARD: "Kein Ausweis auf dem Lesegerät. Bitte Dokument auflegen.",
    CardErrorReason.CARD_REMOVED: "Das Dokument wurde während des Lesens entfernt. Bitte erneut auflegen.",
    CardErrorReason.ACCESS_DENIED: "Zugang verweigert: CAN bzw. MRZ-Daten stimmen nicht. Bitte prüfen.",
    CardErrorReason.UNSUPPORTED_DOCUMENT: "Dieses Dokument wird nicht unterstützt (kein ICAO-Chip).",
    CardErrorReason.SECURE_MESSAGING: "Die gesicherte Verbindung zum Chip ist gestört. Bitte erneut lesen.",
    CardErrorReason.MALFORMED_DATA: "Der Chip hat fehlerhafte Daten geliefert.",
    CardErrorReason.PROTOCOL: "Der Chip hat unerwartet geantwortet.",
    CardErrorReason.TIMEOUT: "Der Chip antwortet nicht rechtzeitig. Bitte erneut auflegen.",
}


class CardError(Exception):
    """Any failure while talking to a reader or a document chip."""

    def __init__(self, reason: CardErrorReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail

    @property
    def user_message(self) -> str:
        return USER_MESSAGES_DE[self.reason]
