"""The UI speaks one language: German fully German (Textual's own strings too), English fully
English."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.ui.support import filled_store, make_app, settle, wait_until

if TYPE_CHECKING:
    from pathlib import Path

SIZE = (160, 50)


async def test_the_palette_says_no_matches_in_german(tmp_path: Path) -> None:
    from textual.command import CommandList

    app = make_app(filled_store(tmp_path / "tresen.sqlite3"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"xyzzyqq")

        def shown() -> str:
            options = app.screen.query_one(CommandList)
            return " ".join(str(options.get_option_at_index(i).prompt) for i in range(options.option_count))

        await wait_until(pilot, lambda: "Keine Treffer" in shown(), "the palette says it found nothing")
        assert "No matches" not in shown()


async def test_an_open_menu_says_how_to_close_it_in_german(tmp_path: Path) -> None:
    from screens.app import TresenApp
    from tests.ui.test_login import desk_login

    app = TresenApp(login=desk_login(filled_store(tmp_path / "tresen.sqlite3")))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.click("#clerk")
        await pilot.pause()
        descriptions = {active.binding.description for active in app.screen.active_bindings.values()}
        assert "Menü schließen" in descriptions
        assert "Dismiss menu" not in descriptions
        footer_keys = {a.binding.description for a in app.active_bindings.values()}
        assert "palette" not in footer_keys


@pytest.mark.parametrize(
    ("language", "call_next", "help_title"), [("de", "Aufrufen", "Hilfe"), ("en", "Call next", "Help")]
)
def test_the_clerk_actions_are_labelled_in_the_ui_language(
    language: str, call_next: str, help_title: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workstation import i18n
    from workstation.actions import action

    monkeypatch.delenv("TRESEN_LANG", raising=False)
    try:
        i18n.set_language(language)
        assert action("call-next").label == call_next
        assert action("help").label == help_title
    finally:
        i18n.set_language("de")


def test_the_command_line_speaks_german_too() -> None:
    import os
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items() if key != "TRESEN_LANG"}
    shown = subprocess.run(
        [sys.executable, "-m", "tresen", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    ).stdout
    assert shown.startswith("Aufruf: tresen")
    assert "Optionen" in shown
    assert "diese Hilfe zeigen und beenden" in shown
    wrong = subprocess.run(
        [sys.executable, "-m", "tresen", "frobnicate"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert wrong.returncode == 2
    assert "tresen: Fehler: Angabe BEFEHL: ungültige Wahl: 'frobnicate'" in wrong.stderr
