"""[privacy] in the configuration: defaults, values, and German errors naming file and line."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from workstation.config import ConfigError, PrivacySettings, load_config
from workstation.retention import RetentionPolicy

if TYPE_CHECKING:
    from pathlib import Path


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tresen.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_without_the_section_chip_data_lasts_the_office_day_and_citizen_data_two_days(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[ui]\nlanguage = "de"\n'))
    assert config.privacy == PrivacySettings(card_data_hours=None, citizen_data_days=2)
    policy = RetentionPolicy.from_settings(config.privacy)
    assert (policy.card_data_hours, policy.citizen_data_days) == (None, 2)


@pytest.mark.parametrize(("hours", "expected"), [("0", 0.0), ("2", 2.0), ("1.5", 1.5)])
def test_both_keys_are_read(tmp_path: Path, hours: str, expected: float) -> None:
    text = f"[privacy]\ncard_data_hours = {hours}\ncitizen_data_days = 5\n"
    privacy = load_config(write(tmp_path, text)).privacy
    assert privacy.card_data_hours == expected
    assert isinstance(privacy.card_data_hours, float)
    assert privacy.citizen_data_days == 5


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("[privacy]\ncard_data_hours = -1\n", 2, "card_data_hours"),
        ('[privacy]\n\ncard_data_hours = "2h"\n', 3, "card_data_hours"),
        ("[privacy]\ncard_data_hours = true\n", 2, "card_data_hours"),
        ("[privacy]\ncitizen_data_days = 0\n", 2, "citizen_data_days"),
        ("[privacy]\ncitizen_data_days = 1.5\n", 2, "citizen_data_days"),
        ("[privacy]\ncard_data_hours = 4\ncitizen_data_days = false\n", 3, "citizen_data_days"),
        ('privacy = "streng"\n', 1, "[privacy] muss ein Abschnitt sein"),
    ],
)
def test_a_wrong_value_names_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as failed:
        load_config(path)
    message = failed.value.user_message
    assert str(path) in message
    assert f"Zeile {line})" in message
    assert fragment in message
