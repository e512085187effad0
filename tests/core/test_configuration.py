"""Configuration from TOML: defaults, a full file, and German errors naming file and line — every
mistake of a file at once, misspelt names with a suggestion, the keymap against the action registry."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workstation.config import (
    Config,
    ConfigError,
    ConfigProblem,
    StatisticsSettings,
    default_store_path,
    default_trust_dir,
    load_config,
)
from workstation.i18n import set_language

FULL = """\
[workstation]
id = "ws-ba-mitte-1"
office_id = "ba-mitte"
desk_id = "ba-mitte-d3"
clerk_id = "ba-mitte-c4"

[central]
url = "https://zentrale.example:8000/"
timeout_seconds = 2.5

[ui]
language = "en"
keymap = { call-next = "f12", finish = "ctrl+e" }

[store]
path = "~/tresen-test/local.sqlite3"

[card]
trust_dir = "~/tresen-test/csca"
reader = "REINER SCT cyberJack RFID komfort 00 00"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tresen.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda _app: str(tmp_path / "nowhere"))
    config = load_config(None)
    assert config.source is None
    assert config.central.url is None
    assert config.ui.language == "de"
    assert config.ui.keymap == {}
    assert config.store.path == default_store_path()
    assert config.store.path.name == "tresen.sqlite3"
    assert "tresen" in str(config.store.path.parent)
    assert config.workstation.id.startswith("ws-")
    assert config.card.trust_dir == tmp_path / "nowhere" / "csca" == default_trust_dir()
    assert config.card.reader is None


def test_the_default_file_is_read_from_the_platform_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda _app: str(tmp_path))
    write(tmp_path, '[ui]\nlanguage = "en"\n')
    assert load_config(None).ui.language == "en"


def test_a_full_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    assert isinstance(config, Config)
    assert (config.workstation.id, config.workstation.office_id) == ("ws-ba-mitte-1", "ba-mitte")
    assert (config.workstation.desk_id, config.workstation.clerk_id) == ("ba-mitte-d3", "ba-mitte-c4")
    assert (config.central.url, config.central.timeout_seconds) == ("https://zentrale.example:8000", 2.5)
    assert config.ui.keymap == {"call-next": "f12", "finish": "ctrl+e"}
    assert config.store.path == Path.home() / "tresen-test" / "local.sqlite3"
    assert config.card.trust_dir == Path.home() / "tresen-test" / "csca"
    assert config.card.reader == "REINER SCT cyberJack RFID komfort 00 00"


def test_the_report_folder_defaults_to_tresen_berichte_and_a_configured_one_is_not_made(
    tmp_path: Path,
) -> None:
    assert load_config(write(tmp_path, "")).statistics == StatisticsSettings(
        Path.home() / "Tresen" / "Berichte", create_export_dir=True
    )
    configured = load_config(write(tmp_path, '[statistics]\nexport_dir = "~/Freigabe/Berichte"\n'))
    assert configured.statistics == StatisticsSettings(
        Path.home() / "Freigabe" / "Berichte", create_export_dir=False
    )
    with pytest.raises(ConfigError) as refused:
        load_config(write(tmp_path, '[statistics]\nexport_folder = "/tmp"\n'))
    assert "export_dir" in refused.value.user_message


def test_the_card_section_alone_keeps_the_default_trust_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda _app: str(tmp_path / "cfg"))
    config = load_config(write(tmp_path, '[card]\nreader = "Virtual PCD 00 00"\n'))
    assert config.card.reader == "Virtual PCD 00 00"
    assert config.card.trust_dir == tmp_path / "cfg" / "csca"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('[ui]\nlanguage = "de"\nkeymap = { call-next = }\n', 3, "TOML"),
        ('[workstation]\nid = "ws-1"\n\n[central\nurl = "http://x"\n', 4, "TOML"),
        ('[central]\nurl = "http://x"\ntimeout_seconds = "schnell"\n', 3, "timeout_seconds"),
        ('[central]\nurl = "zentrale:8000"\n', 2, "http://"),
        ('[ui]\n\nlanguage = "fr"\n', 3, "language"),
        ("[workstation]\ndesk_id = 3\n", 2, "desk_id"),
        ('[ui]\nkeymap = ["f2"]\n', 2, "keymap"),
        ('[printer]\nname = "x"\n', 1, "unbekannter Abschnitt"),
        ('[card]\ntrust_dir = ""\n', 2, "trust_dir"),
        ("[card]\n\nreader = 1\n", 3, "reader"),
        ('card = "x"\n', 1, "[card] muss ein Abschnitt sein"),
    ],
)
def test_a_malformed_file_names_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as failed:
        load_config(path)
    message = failed.value.user_message
    assert str(path) in message
    assert f"Zeile {line})" in message
    assert fragment in message
    assert "Konfigurationsdatei" in message


def test_a_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as failed:
        load_config(tmp_path / "tippfehler.toml")
    assert "tippfehler.toml" in failed.value.user_message
    assert "gibt es nicht" in failed.value.user_message


def test_a_file_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "tresen.toml"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ConfigError) as failed:
        load_config(path)
    assert str(path) in failed.value.user_message


# --- names: misspelt keys and sections are refused with the line and a suggestion ---------------


def _refusal(tmp_path: Path, text: str) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as failed:
        load_config(path)
    assert str(path) in failed.value.user_message
    return failed.value


def test_a_misspelt_key_is_refused_with_its_line_and_the_key_meant(tmp_path: Path) -> None:
    refused = _refusal(tmp_path, '[workstation]\nid = "ws-1"\n\n[ui]\nlagnuage = "en"\n')
    assert refused.problems == (
        ConfigProblem(5, "unbekannter Schlüssel „lagnuage“ in [ui] – meinten Sie „language“?"),
    )
    assert (
        "(Zeile 5): unbekannter Schlüssel „lagnuage“ in [ui] – meinten Sie „language“?"
        in refused.user_message
    )


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('[ui]\nreader = "x"\n', 2, "unbekannter Schlüssel „reader“ in [ui] – er gehört in [card]"),
        ("[store]\ncolour = 1\n", 2, "unbekannter Schlüssel „colour“ in [store]; bekannt sind: path"),
        ('[uii]\nlanguage = "de"\n', 1, "unbekannter Abschnitt [uii] – meinten Sie [ui]?"),
        ('[workstation]\nid = "a"\n[card.extra]\nx = 1\n', 3, "unbekannter Schlüssel „extra“ in [card]"),
        (
            'language = "en"\n',
            1,
            "unbekannter Schlüssel „language“ außerhalb eines Abschnitts – er gehört in [ui]",
        ),
        ('[central]\nurl = "http://x"\n"time_out" = 2\n', 3, "meinten Sie „timeout_seconds“?"),
        ('ui.lang = "en"\n', 1, "unbekannter Schlüssel „lang“ in [ui] – meinten Sie „language“?"),
    ],
)
def test_unknown_names(tmp_path: Path, text: str, line: int, message: str) -> None:
    [problem] = _refusal(tmp_path, text).problems
    assert problem.line == line
    assert message in problem.message


def test_every_mistake_of_a_file_is_reported_at_once_in_line_order(tmp_path: Path) -> None:
    text = (
        "[central]\n"  # 1
        "timeout_seconds = 0\n"  # 2
        "[workstation]\n"  # 3
        "desk = 'd1'\n"  # 4
        "office_id = 7\n"  # 5
        "[ui]\n"  # 6
        "language = 'fr'\n"  # 7
        "[privacy]\n"  # 8
        "citizen_data_days = 0\n"  # 9
        "[printer]\n"  # 10
    )
    refused = _refusal(tmp_path, text)
    assert [problem.line for problem in refused.problems] == [2, 4, 5, 7, 9, 10]
    lines = refused.user_message.splitlines()
    assert lines[0].endswith("hat 6 Fehler:")
    assert "Konfigurationsdatei" in lines[0]
    assert lines[1:] == [f"– Zeile {p.line}: {p.message}" for p in refused.problems]
    assert "timeout_seconds" in lines[1]
    assert "„desk“" in lines[2]
    assert "office_id" in lines[3]
    assert "language" in lines[4]
    assert "citizen_data_days" in lines[5]
    assert "[printer]" in lines[6]


_KNOWN = {"id", "office_id", "desk_id", "clerk_id", "url", "timeout_seconds", "language", "keymap",
          "path", "trust_dir", "reader", "card_data_hours", "citizen_data_days"}  # fmt: skip
_GOOD = {"workstation": 'desk_id = "ba-mitte-d1"', "central": 'url = "http://127.0.0.1:8000"',
         "ui": 'language = "de"', "store": 'path = "/tmp/x.sqlite3"', "card": 'reader = "Virtual PCD"',
         "privacy": "citizen_data_days = 3"}  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from(sorted(_GOOD)),
            st.none() | st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True).filter(lambda k: k not in _KNOWN),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_each_unknown_key_is_one_problem_on_its_own_line(
    tmp_path: Path, lines: list[tuple[str, str | None]]
) -> None:
    """Sections in any order (each once), some holding a misspelt key: one problem per misspelt key,
    each on the line it was written."""
    text, expected = [], []
    for section in dict.fromkeys(section for section, _ in lines):
        text.append(f"[{section}]")
        text.append(_GOOD[section])
        for wrong in dict.fromkeys(key for name, key in lines if name == section and key is not None):
            text.append(f"{wrong} = 1")
            expected.append(len(text))
    path = write(tmp_path, "\n".join(text) + "\n")
    if not expected:
        assert load_config(path).source == path
        return
    with pytest.raises(ConfigError) as failed:
        load_config(path)
    assert [problem.line for problem in failed.value.problems] == expected
    assert all("unbekannter Schlüssel" in problem.message for problem in failed.value.problems)


# --- the keymap: ids from the action registry, keys Textual can name, no two actions on one key ---


@pytest.mark.parametrize(
    "text",
    [
        '[ui]\nlanguage = "de"\nkeymap = { call-nxt = "f12", finish = "f8" }\n',
        '[ui]\nlanguage = "de"\n\n[ui.keymap]\nfinish = "f8"\ncall-nxt = "f12"\n',
    ],
)
def test_an_unknown_keymap_id_is_refused_with_the_id_meant(tmp_path: Path, text: str) -> None:
    [problem] = _refusal(tmp_path, text).problems
    assert problem.message == "unbekannte Aktion „call-nxt“ in [ui] keymap – meinten Sie „call-next“?"
    assert problem.line == (3 if text.count("\n") == 3 else 6)


@pytest.mark.parametrize(
    ("keys", "fragment"),
    [
        (
            "strg+e",
            "Taste „strg+e“ für „finish“ in [ui] keymap: unbekannte Zusatztaste „strg“ – meinten Sie „ctrl“?",
        ),
        ("f25", "unbekannte Taste „f25“"),
        ("shift+e", "„shift+“ mit einem Zeichen"),
        ("ctrl+p", "Taste „ctrl+p“ für „finish“ in [ui] keymap ist für die Befehlspalette reserviert"),
        ("tab", "für den Fokuswechsel reserviert"),
        ("", "„finish“ in [ui] keymap braucht eine Taste als Text"),
    ],
)
def test_a_key_textual_cannot_name_or_that_textual_keeps_is_refused(
    tmp_path: Path, keys: str, fragment: str
) -> None:
    [problem] = _refusal(tmp_path, f'[ui]\n\n[ui.keymap]\nfinish = "{keys}"\n').problems
    assert problem.line == 4
    assert fragment in problem.message


def test_a_keymap_entry_that_is_not_text_is_refused(tmp_path: Path) -> None:
    [problem] = _refusal(tmp_path, "[ui]\nkeymap = { finish = 8 }\n").problems
    assert problem.line == 2
    assert "„finish“ in [ui] keymap braucht eine Taste als Text" in problem.message


def test_two_actions_of_one_screen_on_one_key_are_refused(tmp_path: Path) -> None:
    refused = _refusal(tmp_path, '[ui]\nlanguage = "de"\n[ui.keymap]\nfinish = "f9"\nhelp = "f2"\n')
    assert [(problem.line, problem.message) for problem in refused.problems] == [
        (4, "Taste „f9“ ist doppelt belegt (Schalter): „finish“ und „resume“"),
        (5, "Taste „f2“ ist doppelt belegt (Schalter): „help“ und „call-next“"),
    ]


def test_keys_are_read_in_textual_spelling_and_may_be_swapped_or_shared_across_screens(
    tmp_path: Path,
) -> None:
    text = (
        '[ui]\nkeymap = { call-next = "F3", recall = "F2", finish = "Ctrl+E, F8", case-park = "f2",'
        ' search = "shift+ctrl+S" }\n'
    )
    keymap = load_config(write(tmp_path, text)).ui.keymap
    assert keymap == {
        "call-next": "f3",
        "recall": "f2",
        "finish": "ctrl+e,f8",
        "case-park": "f2",  # the case screen has no F2 of its own
        "search": "ctrl+shift+s",
    }


def test_the_refusals_are_english_when_the_language_is(tmp_path: Path) -> None:
    set_language("en")
    try:
        refused = _refusal(
            tmp_path, '[ui]\nlagnuage = "en"\nkeymap = { call-nxt = "f2", finish = "strg+e" }\n[uii]\n'
        )
    finally:
        set_language("de")
    lines = refused.user_message.splitlines()
    assert lines[0].endswith("has 4 errors:")
    assert "configuration file" in lines[0]
    assert lines[1:] == [
        "– line 2: unknown key “lagnuage” in [ui] – did you mean “language”?",
        "– line 3: unknown action “call-nxt” in [ui] keymap – did you mean “call-next”?",
        "– line 3: key “strg+e” for “finish” in [ui] keymap: unknown modifier “strg” – did you mean “ctrl”?",
        "– line 4: unknown section [uii] – did you mean [ui]?",
    ]
