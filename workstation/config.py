"""The workstation's configuration: one TOML file, defaults for everything.

```toml
[workstation]
id = "ws-ba-mitte-1"
office_id = "ba-mitte"
desk_id = "ba-mitte-d1"
clerk_id = "ba-mitte-c2"

[central]
url = "https://zentrale.example:8000"
timeout_seconds = 5.0

[ui]
language = "de"            # or "en"
keymap = { call-next = "f2", finish = "f8" }   # binding id -> key

[store]
path = "/var/lib/tresen/tresen.sqlite3"

[card]
trust_dir = "/etc/tresen/csca"   # CSCA certificates and master lists (passive authentication)
reader = "REINER SCT cyberJack RFID komfort"   # optional: this reader, not the first one found

[privacy]
card_data_hours = 2        # chip data kept after the finish (default: until the office day is over)
citizen_data_days = 2      # citizen data of appointments kept for this many office days
```

The file lives at `platformdirs.user_config_dir("tresen")/tresen.toml` unless `--config` names one.
A missing file means defaults; a malformed one raises `ConfigError` whose German `user_message`
names the file and the line, so the administrator can fix it without a traceback.
"""

from __future__ import annotations

import re
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from workstation.errors import TresenError
from workstation.i18n import SUPPORTED, _

APP_NAME = "tresen"
CONFIG_FILE_NAME = "tresen.toml"
STORE_FILE_NAME = "tresen.sqlite3"
TRUST_DIR_NAME = "csca"
DEFAULT_TIMEOUT_SECONDS = 5.0
DEFAULT_CITIZEN_DATA_DAYS = 2


class ConfigError(TresenError):
    """The configuration file cannot be used; `user_message` says where and why, in German."""


@dataclass(frozen=True)
class WorkstationSettings:
    id: str = field(default_factory=lambda: f"ws-{socket.gethostname()}")
    office_id: str | None = None
    desk_id: str | None = None
    clerk_id: str | None = None


@dataclass(frozen=True)
class CentralSettings:
    url: str | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


@dataclass(frozen=True)
class UiSettings:
    language: str = "de"
    keymap: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoreSettings:
    path: Path = field(default_factory=lambda: default_store_path())


@dataclass(frozen=True)
class CardSettings:
    trust_dir: Path = field(default_factory=lambda: default_trust_dir())
    reader: str | None = None  # None: the only reader attached, or the first with a card on it


@dataclass(frozen=True)
class PrivacySettings:
    """How long personal data stays in the local store (`workstation.retention`)."""

    card_data_hours: float | None = None  # None: until the office day of the case is over
    citizen_data_days: int = DEFAULT_CITIZEN_DATA_DAYS


@dataclass(frozen=True)
class Config:
    workstation: WorkstationSettings = field(default_factory=WorkstationSettings)
    central: CentralSettings = field(default_factory=CentralSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    card: CardSettings = field(default_factory=CardSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    source: Path | None = None  # the file read, None for pure defaults


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / CONFIG_FILE_NAME


def default_store_path() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME)) / STORE_FILE_NAME


def default_trust_dir() -> Path:
    """Where a site puts its CSCA certificates and master lists when nothing else is configured."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / TRUST_DIR_NAME


def load_config(path: Path | None = None) -> Config:
    """Read the configuration; `path` None means the platform's default file (absent: defaults).

    A file named explicitly must exist: a typo in `--config` should not silently start with defaults."""
    explicit = path is not None
    file = Path(path) if path is not None else default_config_path()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigError(
                _("Die Konfigurationsdatei {file} gibt es nicht.").format(file=file), "config file missing"
            ) from None
        return Config()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            _("Die Konfigurationsdatei {file} kann nicht gelesen werden.").format(file=file),
            f"config file unreadable: {type(error).__name__}",
        ) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = _line_of_decode_error(error)
        raise ConfigError(
            _("Die Konfigurationsdatei {file} ist fehlerhaft (Zeile {line}): {problem}").format(
                file=file, line=line or "?", problem=_toml_problem(error)
            ),
            f"config file malformed at line {line}",
        ) from None
    return _ConfigReader(file, text).read(raw)


def _line_of_decode_error(error: tomllib.TOMLDecodeError) -> int | None:
    lineno = getattr(error, "lineno", None)  # Python 3.14 adds it
    if isinstance(lineno, int):
        return lineno
    match = re.search(r"line (\d+)", str(error))
    return int(match.group(1)) if match else None


def _toml_problem(error: tomllib.TOMLDecodeError) -> str:
    message = getattr(error, "msg", None) or re.sub(r"\s*\(at .*\)$", "", str(error))
    return _("ungültige TOML-Syntax ({detail})").format(detail=message)


class _ConfigReader:
    """Checks each known key's type; names the file and the key's line on a mistake."""

    SECTIONS = ("workstation", "central", "ui", "store", "card", "privacy")

    def __init__(self, file: Path, text: str) -> None:
        self.file = file
        self.lines = text.splitlines()

    def read(self, raw: dict[str, Any]) -> Config:
        for section in raw:
            if section not in self.SECTIONS:
                self._fail(section, _("unbekannter Abschnitt [{section}]").format(section=section))
        ws = self._section(raw, "workstation")
        central = self._section(raw, "central")
        ui = self._section(raw, "ui")
        store = self._section(raw, "store")
        defaults = WorkstationSettings()
        workstation = WorkstationSettings(
            id=self._str(ws, "workstation", "id") or defaults.id,
            office_id=self._str(ws, "workstation", "office_id"),
            desk_id=self._str(ws, "workstation", "desk_id"),
            clerk_id=self._str(ws, "workstation", "clerk_id"),
        )
        url = self._str(central, "central", "url")
        if url is not None and not re.match(r"^https?://[^\s/]+", url):
            self._fail("url", _("„url“ muss mit http:// oder https:// beginnen"))
        timeout = central.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            self._fail("timeout_seconds", _("„timeout_seconds“ muss eine positive Zahl sein"))
        language = self._str(ui, "ui", "language") or "de"
        if language not in SUPPORTED:
            self._fail(
                "language",
                _("„language“ muss einer dieser Werte sein: {values}").format(values=", ".join(SUPPORTED)),
            )
        keymap = ui.get("keymap", {})
        if not isinstance(keymap, dict) or not all(
            isinstance(key, str) and isinstance(value, str) and value for key, value in keymap.items()
        ):
            self._fail("keymap", _('„keymap“ muss Aktionen auf Tasten abbilden, z. B. call-next = "f2"'))
        store_path = self._str(store, "store", "path")
        card = self._section(raw, "card")
        trust_dir = self._str(card, "card", "trust_dir")
        return Config(
            workstation=workstation,
            central=CentralSettings(url=url.rstrip("/") if url else None, timeout_seconds=float(timeout)),
            ui=UiSettings(language=language, keymap=dict(keymap)),
            store=StoreSettings(path=Path(store_path).expanduser() if store_path else default_store_path()),
            card=CardSettings(
                trust_dir=Path(trust_dir).expanduser() if trust_dir else default_trust_dir(),
                reader=self._str(card, "card", "reader"),
            ),
            privacy=self._privacy(self._section(raw, "privacy")),
            source=self.file,
        )

    def _privacy(self, privacy: dict[str, Any]) -> PrivacySettings:
        hours = privacy.get("card_data_hours")
        if hours is not None and (isinstance(hours, bool) or not isinstance(hours, int | float) or hours < 0):
            self._fail(
                "card_data_hours", _("„card_data_hours“ in [privacy] muss eine Zahl von Stunden ab 0 sein")
            )
        days = privacy.get("citizen_data_days", DEFAULT_CITIZEN_DATA_DAYS)
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            self._fail(
                "citizen_data_days",
                _("„citizen_data_days“ in [privacy] muss eine ganze Zahl von Tagen ab 1 sein"),
            )
        return PrivacySettings(
            card_data_hours=float(hours) if hours is not None else None, citizen_data_days=days
        )

    def _section(self, raw: dict[str, Any], name: str) -> dict[str, Any]:
        section = raw.get(name, {})
        if not isinstance(section, dict):
            self._fail(name, _("[{section}] muss ein Abschnitt sein").format(section=name))
        return section

    def _str(self, section: dict[str, Any], section_name: str, key: str) -> str | None:
        value = section.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self._fail(
                key,
                _("„{key}“ in [{section}] muss ein nicht leerer Text sein").format(
                    key=key, section=section_name
                ),
            )
        return value.strip()

    def _fail(self, key: str, problem: str) -> None:
        line = self._line_of(key)
        raise ConfigError(
            _("Die Konfigurationsdatei {file} ist fehlerhaft (Zeile {line}): {problem}").format(
                file=self.file, line=line or "?", problem=problem
            ),
            f"config file invalid at key {key!r}",
        )

    def _line_of(self, key: str) -> int | None:
        pattern = re.compile(rf"^\s*(\[\s*{re.escape(key)}\s*\]|\"?{re.escape(key)}\"?\s*=)")
        for number, line in enumerate(self.lines, start=1):
            if pattern.match(line):
                return number
        return None
