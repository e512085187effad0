"""Configuration from TOML: defaults, a full file, and German errors naming file and line."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from workstation.config import Config, ConfigError, default_store_path, default_trust_dir, load_config

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
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda app: str(tmp_path / "nowhere"))
    config = load_config(None)
    assert config.source is None and config.central.url is None
    assert config.ui.language == "de" and config.ui.keymap == {}
    assert config.store.path == default_store_path()
    assert config.store.path.name == "tresen.sqlite3" and "tresen" in str(config.store.path.parent)
    assert config.workstation.id.startswith("ws-")
    assert config.card.trust_dir == tmp_path / "nowhere" / "csca" == default_trust_dir()
    assert config.card.reader is None


def test_the_default_file_is_read_from_the_platform_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda app: str(tmp_path))
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


def test_the_card_section_alone_keeps_the_default_trust_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda app: str(tmp_path / "cfg"))
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
    assert str(path) in message and f"Zeile {line})" in message and fragment in message
    assert "Konfigurationsdatei" in message


def test_a_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as failed:
        load_config(tmp_path / "tippfehler.toml")
    assert "tippfehler.toml" in failed.value.user_message and "gibt es nicht" in failed.value.user_message


def test_a_file_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "tresen.toml"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ConfigError) as failed:
        load_config(path)
    assert str(path) in failed.value.user_message
