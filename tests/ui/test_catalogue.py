"""The English catalogue covers every German source string and its compiled .mo is current.

When this fails after adding strings:
    uv run pybabel extract -k N_ -k _ -k ngettext:1,2 --no-location -o /tmp/tresen.pot \
        workstation screens sync devices forms
    uv run pybabel update -D tresen -d workstation/locale -l en -i /tmp/tresen.pot -w 110
    (translate the new entries in tresen.po)
    uv run pybabel compile -D tresen -d workstation/locale -l en
"""

from __future__ import annotations

import gettext
import io
from pathlib import Path
from typing import TYPE_CHECKING

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

if TYPE_CHECKING:
    import pytest
    from babel.messages.catalog import Catalog

ROOT = Path(__file__).resolve().parents[2]
LC_MESSAGES = ROOT / "workstation" / "locale" / "en" / "LC_MESSAGES"
PACKAGES = ("tresen", "workstation", "screens", "sync", "devices", "forms")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def _source_messages() -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _catalogue() -> Catalog:
    with (LC_MESSAGES / "tresen.po").open("rb") as po:
        return read_po(po, locale="en", domain="tresen")


def test_every_german_string_has_an_english_translation() -> None:
    catalogue = _catalogue()
    # A plural entry's id and strings are tuples (singular, plural …): translated when every form is.
    translated = {
        message.id[0] if isinstance(message.id, tuple) else message.id
        for message in catalogue
        if message.id and (all(message.string) if isinstance(message.string, tuple) else message.string)
    }
    missing = sorted(_source_messages() - translated)
    assert not missing, f"untranslated strings, update tresen.po: {missing}"


def test_the_compiled_catalogue_matches_the_po_file() -> None:
    catalogue = _catalogue()
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    expected = gettext.GNUTranslations(io.BytesIO(compiled.getvalue()))
    with (LC_MESSAGES / "tresen.mo").open("rb") as mo:
        shipped = gettext.GNUTranslations(mo)
    for message in catalogue:
        if message.id and isinstance(message.id, str):
            assert shipped.gettext(message.id) == expected.gettext(message.id), message.id
        elif isinstance(message.id, tuple):
            singular, plural = message.id[0], message.id[1]
            for n in (1, 2):
                assert shipped.ngettext(singular, plural, n) == expected.ngettext(singular, plural, n), (
                    singular
                )


def test_english_is_switched_on_by_language(monkeypatch: pytest.MonkeyPatch) -> None:
    from workstation import i18n

    monkeypatch.delenv("TRESEN_LANG", raising=False)
    try:
        assert i18n.set_language("en") == "en"
        assert i18n._("Aufrufen") == "Call next"
    finally:
        i18n.set_language("de")
    assert i18n._("Aufrufen") == "Aufrufen"
