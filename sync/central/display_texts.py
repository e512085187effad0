"""The waiting room's words: the status page's and the display's texts in German and English, and the
call display's few labels in the languages the office's capture terminal offers (German, English,
Turkish, French, Spanish, Russian), which a display rotates through (`DisplaySettings.languages`).

German first, always: it is the office's language and every list of languages starts with it.
"""

from __future__ import annotations

from typing import Final

__all__ = ["DISPLAY_LABEL_KEYS", "DISPLAY_LANGUAGES", "DISPLAY_TEXTS", "TEXTS"]

TEXTS: Final[dict[str, dict[str, str]]] = {
    "de": {
        "display_title": "Aufrufanzeige",
        "number": "Nummer",
        "desk": "Schalter",
        "calls": "Aufrufe",
        "no_calls": "Noch keine Aufrufe",
        "queue": "Wartende",
        "waiting": "wartend",
        "wait": "Wartezeit",
        "minutes": "{low}–{high} Minuten",
        "unknown_wait": "unbekannt",
        "offline": "Verbindung unterbrochen",
        "status_title": "Ihre Wartenummer",
        "service": "Anliegen",
        "ahead": "Vor Ihnen",
        "ahead_value": "{count} Personen",
        "ahead_one": "1 Person",
        "estimate": "Geschätzte Wartezeit",
        "next": "Sie sind als Nächstes dran.",
        "called": "Sie wurden aufgerufen: Schalter {desk}",
        "called_no_desk": "Sie wurden aufgerufen.",
        "serving": "Sie werden gerade bedient.",
        "finished": "Ihr Besuch ist abgeschlossen. Vielen Dank!",
        "expired": "Diese Wartenummer ist nicht mehr gültig.",
        "waiting_status": "Sie warten.",
        "photo_station": (
            "Bitte zur Fotostation: Ihr Anliegen braucht ein digitales Lichtbild. Bitte nehmen Sie es "
            "vor Ihrem Aufruf am Fototerminal auf; der Schalter ruft es dann ab."
        ),
        "order_note": (
            "Nummern werden nicht immer der Reihe nach aufgerufen: manche Schalter bedienen nur "
            "bestimmte Anliegen."
        ),
        "unknown_title": "unbekannt",
        "unknown_body": "Diese Wartenummer ist unbekannt.",
        "language": "English",
        "other_lang": "en",
    },
    "en": {
        "display_title": "Call display",
        "number": "Number",
        "desk": "Desk",
        "calls": "Calls",
        "no_calls": "No calls yet",
        "queue": "Waiting",
        "waiting": "waiting",
        "wait": "Waiting time",
        "minutes": "{low}–{high} minutes",
        "unknown_wait": "unknown",
        "offline": "Connection lost",
        "status_title": "Your ticket",
        "service": "Service",
        "ahead": "Ahead of you",
        "ahead_value": "{count} people",
        "ahead_one": "1 person",
        "estimate": "Estimated waiting time",
        "next": "You are next.",
        "called": "You have been called: desk {desk}",
        "called_no_desk": "You have been called.",
        "serving": "You are being served.",
        "finished": "Your visit is complete. Thank you!",
        "expired": "This ticket is no longer valid.",
        "waiting_status": "You are waiting.",
        "photo_station": (
            "Please go to the photo station: your service needs a digital photo. Please take it at the "
            "photo terminal before you are called; the desk then retrieves it."
        ),
        "order_note": "Numbers are not always called in order: some desks serve only certain services.",
        "unknown_title": "unknown",
        "unknown_body": "This ticket is unknown.",
        "language": "Deutsch",
        "other_lang": "de",
    },
}

# The call display's labels: every key the display renders, in every language it may rotate through.
DISPLAY_LABEL_KEYS: Final = (
    "display_title",
    "number",
    "desk",
    "calls",
    "no_calls",
    "queue",
    "waiting",
    "wait",
    "minutes",
    "unknown_wait",
    "offline",
)

_MORE_DISPLAY_LABELS: Final[dict[str, dict[str, str]]] = {
    "tr": {
        "display_title": "Çağrı ekranı",
        "number": "Numara",
        "desk": "Gişe",
        "calls": "Çağrılar",
        "no_calls": "Henüz çağrı yok",
        "queue": "Bekleyenler",
        "waiting": "bekliyor",
        "wait": "Bekleme süresi",
        "minutes": "{low}–{high} dakika",
        "unknown_wait": "bilinmiyor",
        "offline": "Bağlantı kesildi",
    },
    "fr": {
        "display_title": "Écran d’appel",
        "number": "Numéro",
        "desk": "Guichet",
        "calls": "Appels",
        "no_calls": "Pas encore d’appel",
        "queue": "En attente",
        "waiting": "en attente",
        "wait": "Temps d’attente",
        "minutes": "{low}–{high} minutes",
        "unknown_wait": "inconnu",
        "offline": "Connexion interrompue",
    },
    "es": {
        "display_title": "Pantalla de llamadas",
        "number": "Número",
        "desk": "Ventanilla",
        "calls": "Llamadas",
        "no_calls": "Todavía no hay llamadas",
        "queue": "En espera",
        "waiting": "en espera",
        "wait": "Tiempo de espera",
        "minutes": "{low}–{high} minutos",
        "unknown_wait": "desconocido",
        "offline": "Conexión interrumpida",
    },
    "ru": {
        "display_title": "Табло вызова",
        "number": "Номер",
        "desk": "Окно",
        "calls": "Вызовы",
        "no_calls": "Вызовов пока нет",
        "queue": "Ожидают",
        "waiting": "ожидают",
        "wait": "Время ожидания",
        "minutes": "{low}–{high} минут",
        "unknown_wait": "неизвестно",
        "offline": "Соединение прервано",
    },
}

DISPLAY_TEXTS: Final[dict[str, dict[str, str]]] = {
    code: {key: texts[key] for key in DISPLAY_LABEL_KEYS} for code, texts in TEXTS.items()
} | _MORE_DISPLAY_LABELS
DISPLAY_LANGUAGES: Final = tuple(DISPLAY_TEXTS)  # de first
