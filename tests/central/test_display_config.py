"""The office's stored call-display settings: set by an administrator (API and `tresen central
display-config`), followed by every screen of the office, overridden by one screen's URL; the labels
in every language the display rotates through."""

from __future__ import annotations

import re
import typing
from typing import TYPE_CHECKING

import pytest

from sync.central.cli import DISPLAY_LANGUAGE_CODES
from sync.central.credentials import TokenKind
from sync.central.display_config import DisplayLanguage
from sync.central.display_texts import DISPLAY_LABEL_KEYS, DISPLAY_LANGUAGES, DISPLAY_TEXTS
from sync.protocol import API_PREFIX as API
from tests.central.conftest import OFFICE
from tests.central.test_display import call_next
from tests.credentials import bearer
from tresen.cli import main as tresen

if TYPE_CHECKING:
    from pathlib import Path

    from fastapi import FastAPI
    from fastapi.testclient import TestClient

SETTINGS = f"{API}/offices/{OFFICE}/display"


def shown_languages(page: str) -> list[tuple[str, bool]]:
    """The live part's languages in order, each with whether it is hidden."""
    return [
        (code, hidden == " hidden")
        for code, hidden in re.findall(r'<div class="board" data-lang="(\w+)" lang="\w+"( hidden)?>', page)
    ]


def test_every_language_has_every_label_and_german_comes_first() -> None:
    assert DISPLAY_LANGUAGES[0] == "de"
    assert set(DISPLAY_LANGUAGES) >= {"de", "en", "tr"}
    assert typing.get_args(DisplayLanguage) == DISPLAY_LANGUAGES == DISPLAY_LANGUAGE_CODES
    for code in DISPLAY_LANGUAGES:
        labels = DISPLAY_TEXTS[code]
        assert set(labels) == set(DISPLAY_LABEL_KEYS), code
        assert all(labels.values()), code
        assert labels["minutes"].format(low=5, high=15) != labels["minutes"], code


def test_an_administrator_sets_the_settings_and_the_office_reads_them(
    central_app: FastAPI, client: TestClient, anonymous: TestClient
) -> None:
    central = central_app.state.store
    admin, display = bearer(central, TokenKind.ADMIN), bearer(central, TokenKind.DISPLAY, OFFICE)
    wanted = {"groups": ["A"], "calls": 6, "columns": 2, "languages": ["en", "tr"], "rotate_seconds": 7}
    stored = anonymous.put(SETTINGS, json=wanted, headers=admin)
    assert stored.status_code == 200
    assert stored.json()["languages"] == ["de", "en", "tr"]  # German first, always
    assert anonymous.get(SETTINGS, headers=display).json() == stored.json()
    assert client.get(SETTINGS).json() == stored.json()  # the office's workstations may read them
    assert client.put(SETTINGS, json=wanted).status_code == 403  # but not set them
    assert anonymous.put(SETTINGS, json=wanted, headers=display).status_code == 403
    other_display = bearer(central, TokenKind.DISPLAY, "zl-sued")
    assert anonymous.get(SETTINGS, headers=other_display).status_code == 403


@pytest.mark.parametrize(
    "change",
    [
        {"languages": ["xx"]},
        {"languages": ["en", "en"]},
        {"calls": 13},
        {"columns": 4},
        {"rotate_seconds": 0},
    ],
)
def test_impossible_settings_are_refused(
    central_app: FastAPI, anonymous: TestClient, change: dict[str, object]
) -> None:
    admin = bearer(central_app.state.store, TokenKind.ADMIN)
    assert anonymous.put(SETTINGS, json=change, headers=admin).status_code == 422


def test_every_screen_follows_the_stored_settings_unless_its_url_says_otherwise(
    central_app: FastAPI, client: TestClient, anonymous: TestClient
) -> None:
    for n in range(4):
        call_next(client, f"call-c{n}")
    admin = bearer(central_app.state.store, TokenKind.ADMIN)
    default = client.get(f"/display/{OFFICE}").text
    assert shown_languages(default) == [("de", False)]
    settings = {"groups": [], "calls": 4, "columns": 2, "languages": ["de", "en", "tr"], "rotate_seconds": 9}
    assert anonymous.put(SETTINGS, json=settings, headers=admin).status_code == 200

    page = client.get(f"/display/{OFFICE}").text
    assert shown_languages(page) == [("de", False), ("en", True), ("tr", True)]
    assert 'data-rotate="9"' in page
    german = page.split('<div class="board" data-lang="en"')[0]
    assert german.count('<table class="calls">') == 2  # two columns
    assert len(re.findall(r'class="call"', german)) == 4
    assert all(word in page for word in ("Schalter", "Desk", "Gişe"))

    one_screen = client.get(f"/display/{OFFICE}", params={"lang": "en", "columns": 1, "calls": 1}).text
    assert shown_languages(one_screen) == [("en", False)]
    assert '<html lang="en">' in one_screen
    assert 'data-rotate="0"' in one_screen  # one language: nothing to rotate
    assert one_screen.count('<table class="calls">') == 1
    assert len(re.findall(r'class="call"', one_screen)) == 1
    assert "events?calls=1&amp;columns=1&amp;lang=en" in one_screen  # the stream keeps the screen's choice


def test_the_command_line_sets_and_shows_the_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    assert tresen(["central", "seed", "--db", db, "--appointments", "5", "--waiting", "0"]) == 0
    capsys.readouterr()
    office = ["central", "display-config", "--db", db, "--office", OFFICE]
    assert tresen([*office, "--languages", "tr,en", "--columns", "2", "--rotate-seconds", "12"]) == 0
    assert capsys.readouterr().out.strip() == (
        "Gruppen: alle; Aufrufe: 12 in 2 Spalte(n); Sprachen: de,tr,en je 12 s"
    )
    assert tresen([*office, "--groups", "A,B", "--calls", "6"]) == 0  # the rest stays as it was
    assert capsys.readouterr().out.strip() == (
        "Gruppen: A,B; Aufrufe: 6 in 2 Spalte(n); Sprachen: de,tr,en je 12 s"
    )
    assert tresen([*office, "--languages", "de,xx"]) == 2
    assert "Ungültige Einstellung: languages" in capsys.readouterr().err
    assert tresen(["central", "display-config", "--db", db, "--office", "nowhere"]) == 2
    assert "Abgelehnt: unknown office" in capsys.readouterr().err
