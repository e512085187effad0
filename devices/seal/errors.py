"""Why sealing failed, with the German message the clerk or administrator can act on."""

from __future__ import annotations

from enum import Enum


class SealFailure(Enum):
    NO_MODULE = "Das PKCS#11-Modul für das Siegel-Token wurde nicht gefunden."
    NO_TOKEN = "Kein Siegel-Token gefunden. Bitte Token einstecken oder die Konfiguration prüfen."
    NO_PIN = "Für das Siegel-Token ist keine PIN im Schlüsselbund hinterlegt."
    WRONG_PIN = "Die PIN des Siegel-Tokens ist falsch. Bitte die PIN im Schlüsselbund prüfen."
    PIN_LOCKED = "Das Siegel-Token ist gesperrt (zu viele falsche PINs). Bitte die IT verständigen."
    NO_KEY = "Auf dem Siegel-Token fehlt der Siegelschlüssel oder sein Zertifikat."
    CERT_EXPIRED = "Das Siegelzertifikat ist abgelaufen oder noch nicht gültig."
    TOKEN_ERROR = "Das Siegel-Token hat die Signatur verweigert."
    KEYRING_ERROR = "Der Schlüsselbund ist nicht erreichbar."


class SealError(RuntimeError):
    """A document could not be sealed; `str()` is the German message, `failure` the reason."""

    def __init__(self, failure: SealFailure, detail: str | None = None) -> None:
        super().__init__(failure.value)
        self.failure = failure
        self.detail = detail  # English, for the log; never personal data

    @property
    def user_message(self) -> str:
        return self.failure.value
