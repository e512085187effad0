"""Translations: German is the source language; English comes from the `tresen` gettext catalogue.

The language is chosen once at start-up (`TRESEN_LANG`, else the config's `ui.language`); modules
call `_()` at the time they build a string, so a switch before the UI starts takes effect everywhere.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import date

DOMAIN = "tresen"
LOCALE_DIR = Path(__file__).parent / "locale"
SUPPORTED = ("de", "en")

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "de"


def set_language(language: str | None = None) -> str:
    """Activate `language` (or `TRESEN_LANG`, else German); returns the language in force."""
    global _translation, _language  # noqa: PLW0603  (one language per process, as gettext.install's)
    wanted = (os.environ.get("TRESEN_LANG") or language or "de").split("_")[0].lower()
    _language = wanted if wanted in SUPPORTED else "de"
    if _language == "de":
        _translation = gettext.NullTranslations()
    else:
        _translation = gettext.translation(DOMAIN, LOCALE_DIR, languages=[_language], fallback=True)
    return _language


def current_language() -> str:
    return _language


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark a German source string for the catalogue; `_()` translates it where it is shown."""
    return message


def _(message: str) -> str:
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


_LOCALES = {"de": "de_DE", "en": "en_GB"}


def format_number(value: float) -> str:
    """A number as the UI language writes it: 12.345 in German, 12,345 in English (Babel/CLDR)."""
    from babel.numbers import format_decimal

    return format_decimal(value, locale=_LOCALES[_language])


def format_date(value: date) -> str:
    """A date as the UI language writes it: 02.03.2026 in German, 02/03/2026 in English."""
    from babel.dates import format_date as babel_date

    return babel_date(
        value, format="short" if _language == "en" else "dd.MM.yyyy", locale=_LOCALES[_language]
    )
