"""The workstation's configuration: one TOML file, defaults for everything.

```toml
[workstation]
id = "ws-ba-mitte-1"
office_id = "ba-mitte"
desk_id = "ba-mitte-d1"
clerk_id = "ba-mitte-c2"

[central]
url = "https://zentrale.example:8000"
timeout_seconds = 5.0       # per request; also the longest an F2 waits for the central service in all

[ui]
language = "de"            # or "en"
keymap = { call-next = "f2", finish = "f8" }   # action id (workstation.actions) -> key(s)

[store]
path = "/var/lib/tresen/tresen.sqlite3"

[card]
trust_dir = "/etc/tresen/csca"   # CSCA certificates and master lists (passive authentication)
reader = "REINER SCT cyberJack RFID komfort"   # optional: this reader, not the first one found

[printing]                 # a CUPS queue per document kind; `folder` instead writes PDFs there
receipt = "Kasse-Bon"
a4 = "A4-Schalter"
thermal = "Thermo-80mm"
folder = "/var/lib/tresen/ausdrucke"   # optional (demo without CUPS)
kept_dir = "/var/lib/tresen/dokumente" # documents kept for a reprint (0700), purged with the case data
authority = "Stadt Köln – Der Oberbürgermeister"   # the letterhead and the receipt's cash office
street = "Wiener Platz 2a"
postal_code_and_city = "51065 Köln"
place = "Köln"
cash_office = "Stadtkasse Köln, Zahlstelle Mülheim"

[captures]                 # the office's capture terminal and admitted photo clouds (docs/captures.md)
terminal_url = "https://aufnahme.buergeramt.example"
terminal_certificate = "/etc/tresen/aufnahme.pem"   # the terminal's certificate, pinned at enrollment
cloud_url = "https://foto-cloud.example"           # optional: a TR-03170 cloud (its key in the keyring)
cloud_certificate = "/etc/tresen/foto-cloud.pem"
export_dir = "/var/lib/tresen/aufnahmen"           # optional: hand-over folder of the document application
[statistics]
export_dir = "~/Tresen/Berichte"   # where the supervisor screen saves the daily report (PDF, CSV; 0600)

[privacy]
card_data_hours = 2        # chip data kept after the finish (default: until the office day is over)
citizen_data_days = 2      # citizen data of appointments kept for this many office days
```

The file lives at `platformdirs.user_config_dir("tresen")/tresen.toml` unless `--config` names one.
A missing file means defaults; a malformed one raises `ConfigError` whose German `user_message`
names the file and the line, so the administrator can fix it without a traceback. The file is
checked as a whole and every mistake is reported at once (`ConfigError.problems`, one line each):
unknown or misspelt sections and keys (with the name meant, by `difflib`), wrong values, and in
`[ui] keymap` ids that are not in the action registry (`workstation.actions`), keys Textual cannot
name (the grammar is in `workstation.actions`), keys Textual keeps for itself, and two actions of
one screen on one key. Keymap keys come back in Textual's spelling ("F12" → "f12").
"""

from __future__ import annotations

import difflib
import re
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from workstation.actions import (
    ACTION_IDS,
    InvalidKey,
    key_clashes,
    normalize_keys,
    reserved_for,
    suggest_action_id,
)
from workstation.errors import TresenError
from workstation.i18n import SUPPORTED, _

if TYPE_CHECKING:
    from collections.abc import Sequence

APP_NAME = "tresen"
CONFIG_FILE_NAME = "tresen.toml"
STORE_FILE_NAME = "tresen.sqlite3"
TRUST_DIR_NAME = "csca"
DEFAULT_TIMEOUT_SECONDS = 5.0
DEFAULT_CITIZEN_DATA_DAYS = 2


@dataclass(frozen=True)
class ConfigProblem:
    """One mistake in the file: its line (None when it cannot be told) and what is wrong, in German."""

    line: int | None
    message: str


class ConfigError(TresenError):
    """The configuration file cannot be used; `user_message` says where and why, in German.

    `problems` holds every mistake found in the file (a file is checked as a whole, so the
    administrator fixes everything in one go); the message lists them line by line."""

    def __init__(
        self,
        user_message: str,
        log_message: str | None = None,
        *,
        problems: Sequence[ConfigProblem] = (),
        file: Path | None = None,
    ) -> None:
        super().__init__(user_message, log_message)
        self.problems = tuple(problems)
        self.file = file


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
    path: Path = field(default_factory=lambda: default_store_path())  # noqa: PLW0108  (defined below)


@dataclass(frozen=True)
class CardSettings:
    trust_dir: Path = field(default_factory=lambda: default_trust_dir())  # noqa: PLW0108  (defined below)
    reader: str | None = None  # None: the only reader attached, or the first with a card on it


@dataclass(frozen=True)
class PrivacySettings:
    """How long personal data stays in the local store (`workstation.retention`)."""

    card_data_hours: float | None = None  # None: until the office day of the case is over
    citizen_data_days: int = DEFAULT_CITIZEN_DATA_DAYS


@dataclass(frozen=True)
class PrintingSettings:
    """Printers per document kind and the letterhead of the documents (workstation.documents)."""

    receipt: str | None = None
    a4: str | None = None
    thermal: str | None = None
    folder: Path | None = None
    kept_dir: Path = field(default_factory=lambda: default_kept_dir())  # noqa: PLW0108  (defined below)
    authority: str = ""
    street: str = ""
    postal_code_and_city: str = ""
    place: str = ""
    cash_office: str = ""


@dataclass(frozen=True)
class CaptureSettings:
    """Where captures come from and where they are handed over (`workstation.captures`)."""

    terminal_url: str | None = None
    terminal_certificate: Path | None = None
    cloud_url: str | None = None
    cloud_certificate: Path | None = None
    export_dir: Path | None = None


@dataclass(frozen=True)
class StatisticsSettings:
    """Where the supervisor screen writes the daily report it exports (`workstation.statistics_export`)."""

    export_dir: Path = field(default_factory=lambda: default_export_dir())  # noqa: PLW0108  (defined below)
    # The default folder is made when missing; a configured one must exist (a share not mounted
    # should be told, not replaced by a local folder of the same name).
    create_export_dir: bool = True


@dataclass(frozen=True)
class Config:
    workstation: WorkstationSettings = field(default_factory=WorkstationSettings)
    central: CentralSettings = field(default_factory=CentralSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    card: CardSettings = field(default_factory=CardSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    printing: PrintingSettings = field(default_factory=PrintingSettings)
    captures: CaptureSettings = field(default_factory=CaptureSettings)
    statistics: StatisticsSettings = field(default_factory=StatisticsSettings)
    source: Path | None = None  # the file read, None for pure defaults


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / CONFIG_FILE_NAME


def default_store_path() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME)) / STORE_FILE_NAME


def default_number_witness_path() -> Path:
    """Outside the store's directory on purpose: a restored store must not bring back its witness
    (`workstation.number_witness`)."""
    return platformdirs.user_state_path(APP_NAME) / "desk-numbers.json"


def default_store_instances_path() -> Path:
    """Beside the witness, outside the store's directory: a copied store must not bring its own
    instance record along (`workstation.store_instance`)."""
    return platformdirs.user_state_path(APP_NAME) / "store-instances.json"


def default_kept_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME) / "dokumente"


def default_export_dir() -> Path:
    """~/Tresen/Berichte: a folder the supervisor finds (and a file manager shows), not a data directory."""
    return Path.home() / "Tresen" / "Berichte"


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
        # The parser stops at its first error, so this is the one problem we can name.
        line = _line_of_decode_error(error)
        raise _config_error(
            file, [ConfigProblem(line, _toml_problem(error))], "config file malformed"
        ) from None
    return _ConfigReader(file, text).read(raw)


def _config_error(file: Path, problems: Sequence[ConfigProblem], log_message: str) -> ConfigError:
    """One error for all the file's problems, sorted by line; one problem reads as one sentence."""
    ordered = sorted(problems, key=lambda p: (p.line is None, p.line or 0))
    if len(ordered) == 1:
        [problem] = ordered
        message = _("Die Konfigurationsdatei {file} ist fehlerhaft (Zeile {line}): {problem}").format(
            file=file, line=problem.line or "?", problem=problem.message
        )
    else:
        heading = _("Die Konfigurationsdatei {file} hat {count} Fehler:").format(
            file=file, count=len(ordered)
        )
        lines = [
            _("– Zeile {line}: {problem}").format(line=problem.line or "?", problem=problem.message)
            for problem in ordered
        ]
        message = "\n".join([heading, *lines])
    where = ", ".join(str(problem.line or "?") for problem in ordered)
    return ConfigError(message, f"{log_message} at lines {where}", problems=ordered, file=file)


def _line_of_decode_error(error: tomllib.TOMLDecodeError) -> int | None:
    lineno = getattr(error, "lineno", None)  # Python 3.14 adds it
    if isinstance(lineno, int):
        return lineno
    match = re.search(r"line (\d+)", str(error))
    return int(match.group(1)) if match else None


def _toml_problem(error: tomllib.TOMLDecodeError) -> str:
    message = getattr(error, "msg", None) or re.sub(r"\s*\(at .*\)$", "", str(error))
    return _("ungültige TOML-Syntax ({detail})").format(detail=message)


PRINTING_KEYS = (
    "receipt",
    "a4",
    "thermal",
    "folder",
    "kept_dir",
    "authority",
    "street",
    "postal_code_and_city",
    "place",
    "cash_office",
)
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "workstation": ("id", "office_id", "desk_id", "clerk_id"),
    "central": ("url", "timeout_seconds"),
    "ui": ("language", "keymap"),
    "store": ("path",),
    "card": ("trust_dir", "reader"),
    "privacy": ("card_data_hours", "citizen_data_days"),
    "printing": PRINTING_KEYS,
    "captures": ("terminal_url", "terminal_certificate", "cloud_url", "cloud_certificate", "export_dir"),
    "statistics": ("export_dir",),
}

Place = tuple[str, ...]  # a key's place in the file: ("ui", "keymap", "call-next")


class _ConfigReader:
    """Checks the whole file: unknown names, each known key's type, the keymap against the action
    registry. Every problem is collected with its line; any problem fails the file as a whole."""

    def __init__(self, file: Path, text: str) -> None:
        self.file = file
        self.lines = _LineIndex(text)
        self.problems: list[ConfigProblem] = []

    def read(self, raw: dict[str, Any]) -> Config:
        self._check_names(raw)
        ws = self._section(raw, "workstation")
        central = self._section(raw, "central")
        ui = self._section(raw, "ui")
        store = self._section(raw, "store")
        card = self._section(raw, "card")
        defaults = WorkstationSettings()
        workstation = WorkstationSettings(
            id=self._str(ws, "workstation", "id") or defaults.id,
            office_id=self._str(ws, "workstation", "office_id"),
            desk_id=self._str(ws, "workstation", "desk_id"),
            clerk_id=self._str(ws, "workstation", "clerk_id"),
        )
        url = self._str(central, "central", "url")
        if url is not None and not re.match(r"^https?://[^\s/]+", url):
            self._problem(("central", "url"), _("„url“ muss mit http:// oder https:// beginnen"))
        timeout = central.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            self._problem(("central", "timeout_seconds"), _("„timeout_seconds“ muss eine positive Zahl sein"))
            timeout = DEFAULT_TIMEOUT_SECONDS
        language = self._str(ui, "ui", "language") or "de"
        if language not in SUPPORTED:
            self._problem(
                ("ui", "language"),
                _("„language“ muss einer dieser Werte sein: {values}").format(values=", ".join(SUPPORTED)),
            )
        keymap = self._keymap(ui.get("keymap", {}))
        store_path = self._str(store, "store", "path")
        trust_dir = self._str(card, "card", "trust_dir")
        reader = self._str(card, "card", "reader")
        privacy = self._privacy(self._section(raw, "privacy"))
        printing = self._printing(self._section(raw, "printing"))
        captures = self._captures(self._section(raw, "captures"))
        export_dir = self._str(self._section(raw, "statistics"), "statistics", "export_dir")
        if self.problems:
            raise _config_error(self.file, self.problems, "config file invalid")
        return Config(
            workstation=workstation,
            central=CentralSettings(url=url.rstrip("/") if url else None, timeout_seconds=float(timeout)),
            ui=UiSettings(language=language, keymap=keymap),
            store=StoreSettings(path=Path(store_path).expanduser() if store_path else default_store_path()),
            card=CardSettings(
                trust_dir=Path(trust_dir).expanduser() if trust_dir else default_trust_dir(), reader=reader
            ),
            privacy=privacy,
            printing=printing,
            captures=captures,
            statistics=StatisticsSettings(
                export_dir=Path(export_dir).expanduser() if export_dir else default_export_dir(),
                create_export_dir=not export_dir,
            ),
            source=self.file,
        )

    # -- names ---------------------------------------------------------------------------------

    def _check_names(self, raw: dict[str, Any]) -> None:
        for name, value in raw.items():
            if name in KNOWN_KEYS:
                if isinstance(value, dict):
                    for key in value:
                        if key not in KNOWN_KEYS[name]:
                            self._problem((name, key), _unknown_key_message(name, key))
            elif isinstance(value, dict):
                problem = _("unbekannter Abschnitt [{section}]").format(section=name)
                close = difflib.get_close_matches(name, list(KNOWN_KEYS), n=1)
                if close:
                    problem = _("{problem} – meinten Sie [{suggestion}]?").format(
                        problem=problem, suggestion=close[0]
                    )
                self._problem((name,), problem)
            else:
                problem = _("unbekannter Schlüssel „{key}“ außerhalb eines Abschnitts").format(key=name)
                home = _section_of(name)
                if home is not None:
                    problem = _("{problem} – er gehört in [{section}]").format(problem=problem, section=home)
                self._problem((name,), problem)

    # -- the keymap ----------------------------------------------------------------------------

    def _keymap(self, keymap: object) -> dict[str, str]:
        """The valid entries, in Textual's key spelling; each wrong one is a problem of its own."""
        if not isinstance(keymap, dict):
            self._problem(
                ("ui", "keymap"), _('„keymap“ muss Aktionen auf Tasten abbilden, z. B. call-next = "f2"')
            )
            return {}
        valid: dict[str, str] = {}
        for action_id, keys in keymap.items():
            where = ("ui", "keymap", action_id)
            if action_id not in ACTION_IDS:
                problem = _("unbekannte Aktion „{action}“ in [ui] keymap").format(action=action_id)
                suggestion = suggest_action_id(action_id)
                if suggestion is not None:
                    problem = _("{problem} – meinten Sie „{suggestion}“?").format(
                        problem=problem, suggestion=suggestion
                    )
                self._problem(where, problem)
                continue
            if not isinstance(keys, str) or not keys.strip():
                self._problem(
                    where,
                    _('„{action}“ in [ui] keymap braucht eine Taste als Text, z. B. "f2"').format(
                        action=action_id
                    ),
                )
                continue
            try:
                normalized = normalize_keys(keys)
            except InvalidKey as invalid:
                self._problem(
                    where,
                    _("Taste „{key}“ für „{action}“ in [ui] keymap: {reason}").format(
                        key=invalid.key.strip(), action=action_id, reason=invalid.reason
                    ),
                )
                continue
            reserved = [(key, purpose) for key in normalized.split(",") if (purpose := reserved_for(key))]
            for key, purpose in reserved:
                self._problem(
                    where,
                    _("Taste „{key}“ für „{action}“ in [ui] keymap ist für {purpose} reserviert").format(
                        key=key, action=action_id, purpose=purpose
                    ),
                )
            if not reserved:
                valid[action_id] = normalized
        for clash in key_clashes(valid):
            # The line of the entry that moved a key onto the other action's.
            moved = clash.second if clash.second in valid else clash.first
            self._problem(
                ("ui", "keymap", moved),
                _("Taste „{key}“ ist doppelt belegt ({screen}): „{first}“ und „{second}“").format(
                    key=clash.key, screen=clash.screen.label, first=clash.first, second=clash.second
                ),
            )
        return valid

    # -- values --------------------------------------------------------------------------------

    def _privacy(self, privacy: dict[str, Any]) -> PrivacySettings:
        hours = privacy.get("card_data_hours")
        if hours is not None and (isinstance(hours, bool) or not isinstance(hours, int | float) or hours < 0):
            self._problem(
                ("privacy", "card_data_hours"),
                _("„card_data_hours“ in [privacy] muss eine Zahl von Stunden ab 0 sein"),
            )
            hours = None
        days = privacy.get("citizen_data_days", DEFAULT_CITIZEN_DATA_DAYS)
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            self._problem(
                ("privacy", "citizen_data_days"),
                _("„citizen_data_days“ in [privacy] muss eine ganze Zahl von Tagen ab 1 sein"),
            )
            days = DEFAULT_CITIZEN_DATA_DAYS
        return PrivacySettings(
            card_data_hours=float(hours) if hours is not None else None, citizen_data_days=days
        )

    def _printing(self, printing: dict[str, Any]) -> PrintingSettings:
        def text(key: str) -> str | None:
            return self._str(printing, "printing", key)

        folder, kept_dir = text("folder"), text("kept_dir")
        return PrintingSettings(
            receipt=text("receipt"),
            a4=text("a4"),
            thermal=text("thermal"),
            folder=Path(folder).expanduser() if folder else None,
            kept_dir=Path(kept_dir).expanduser() if kept_dir else default_kept_dir(),
            authority=text("authority") or "",
            street=text("street") or "",
            postal_code_and_city=text("postal_code_and_city") or "",
            place=text("place") or "",
            cash_office=text("cash_office") or "",
        )

    def _captures(self, captures: dict[str, Any]) -> CaptureSettings:
        def text(key: str) -> str | None:
            return self._str(captures, "captures", key)

        def path(key: str) -> Path | None:
            value = text(key)
            return Path(value).expanduser() if value else None

        urls: dict[str, str | None] = {}
        for kind in ("terminal", "cloud"):
            url, certificate = text(f"{kind}_url"), text(f"{kind}_certificate")
            if url is not None and not re.match(r"^https?://[^\s/]+", url):
                self._problem(
                    ("captures", f"{kind}_url"),
                    _("„{key}“ in [captures] muss mit http:// oder https:// beginnen").format(
                        key=f"{kind}_url"
                    ),
                )
                url = None
            if (url is None) != (certificate is None):
                missing = f"{kind}_certificate" if certificate is None else f"{kind}_url"
                given = f"{kind}_url" if certificate is None else f"{kind}_certificate"
                self._problem(
                    ("captures", given),
                    _("zu „{given}“ in [captures] fehlt „{missing}“").format(given=given, missing=missing),
                )
            urls[kind] = url.rstrip("/") if url else None
        return CaptureSettings(
            terminal_url=urls["terminal"],
            terminal_certificate=path("terminal_certificate"),
            cloud_url=urls["cloud"],
            cloud_certificate=path("cloud_certificate"),
            export_dir=path("export_dir"),
        )

    def _section(self, raw: dict[str, Any], name: str) -> dict[str, Any]:
        section = raw.get(name, {})
        if not isinstance(section, dict):
            self._problem((name,), _("[{section}] muss ein Abschnitt sein").format(section=name))
            return {}
        return section

    def _str(self, section: dict[str, Any], section_name: str, key: str) -> str | None:
        value = section.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self._problem(
                (section_name, key),
                _("„{key}“ in [{section}] muss ein nicht leerer Text sein").format(
                    key=key, section=section_name
                ),
            )
            return None
        return value.strip()

    def _problem(self, where: Place, message: str) -> None:
        self.problems.append(ConfigProblem(self.lines.line_of(where), message))


def _unknown_key_message(section: str, key: str) -> str:
    problem = _("unbekannter Schlüssel „{key}“ in [{section}]").format(key=key, section=section)
    close = difflib.get_close_matches(key, KNOWN_KEYS[section], n=1)
    if close:
        return _("{problem} – meinten Sie „{suggestion}“?").format(problem=problem, suggestion=close[0])
    home = _section_of(key)
    if home is not None:
        return _("{problem} – er gehört in [{section}]").format(problem=problem, section=home)
    return _("{problem}; bekannt sind: {keys}").format(problem=problem, keys=", ".join(KNOWN_KEYS[section]))


def _section_of(key: str) -> str | None:
    return next((section for section, keys in KNOWN_KEYS.items() if key in keys), None)


class _LineIndex:
    """Where each table and key of a TOML file is written, by its dotted place.

    Enough TOML for a configuration file: `[table]` headers, `key = …` with bare, quoted or dotted
    keys, inline tables on one line (`keymap = { call-next = "f2" }`); lines inside multi-line
    strings are skipped. A place not written as such (an inline table's entry) falls back to the
    line of the nearest enclosing place that is."""

    _HEADER = re.compile(r"^\s*\[\[?\s*(?P<path>[^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
    _PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
    _KEY = re.compile(rf"^\s*(?P<path>{_PART}(?:\s*\.\s*{_PART})*)\s*=")

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()
        self._places: dict[Place, int] = {}
        table: Place = ()
        in_string: str | None = None
        for number, line in enumerate(self._lines, start=1):
            if in_string is not None:
                if line.count(in_string) % 2 == 1:
                    in_string = None
                continue
            header = self._HEADER.match(line)
            if header:
                table = _split_dotted(header.group("path"))
                self._places.setdefault(table, number)
                continue
            key = self._KEY.match(line)
            if key:
                self._places.setdefault((*table, *_split_dotted(key.group("path"))), number)
            for quotes in ('"""', "'''"):
                if line.count(quotes) % 2 == 1:
                    in_string = quotes
                    break

    def line_of(self, place: Place) -> int | None:
        for length in range(len(place), 0, -1):
            line = self._places.get(place[:length])
            if line is not None:
                return line
        return None


def _split_dotted(path: str) -> Place:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*'""", path)
    return tuple(part[1:-1] if part[:1] in "\"'" else part for part in parts)
