"""Every clerk action with its binding id, action name, default key, label and screen, in one list.

The screens build their Textual bindings from it, one line per action::

    Binding(a.key, a.action, a.label, id=a.id, show=a.show)   for a in actions_for(ScreenId.COUNTER)

and the configuration (`workstation.config`) checks a site's `[ui] keymap` against it with
`normalize_keys`, `reserved_for` and `key_clashes`, so an unknown id, a key Textual cannot name, or
two actions of one screen on the same key are refused before the UI starts. The keys of confirm
and message dialogs (Esc, Enter, j/n) and of the help and login screens are not listed: they are
fixed, and a keymap cannot move them. This module has no Textual in it: the key grammar below is
ours, kept to what Textual's key events are called.

Key grammar (one keymap value is one key, or several separated by commas)::

    key       := (modifier "+")* base
    modifier  := "alt" | "ctrl" | "shift"      each at most once, any order and case
    base      := "f1" … "f24"
               | escape | enter | tab | space | backspace | delete | insert
               | home | end | pageup | pagedown | up | down | left | right
               | one letter or digit ("a", "7", "ä"; a lone capital "A" is the capital A)
               | one symbol character or its name as Textual spells it ("?" or "question_mark",
                 "§" or "section_sign"; "+" and "," only by name: "plus", "comma")

Keys are normalised to Textual's spelling: lower case, modifiers in alphabetical order (Textual
names key events "alt+ctrl+shift+…" that way), punctuation by name, because Textual compares a
keymap's keys with key events as plain strings. `shift+` with a lone character is refused (the
terminal sends the capital letter or the shifted character instead); German key caps (Strg, Entf,
Pos1 …) get a suggestion. A few keys belong to Textual itself and cannot be given to an action:
ctrl+p (command palette), ctrl+c (copy), tab and shift+tab (focus).

Labels are German source strings marked with `N_` and translated when read (`ClerkAction.label`),
so the language chosen at start applies even though this list is built at import time.
"""

from __future__ import annotations

import difflib
import functools
import string
import sys
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from workstation.i18n import _

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    return message


class ScreenId(StrEnum):
    """Where an action's key is active. `APP` actions are active on every screen."""

    APP = "app"
    COUNTER = "counter"
    CASE = "case"
    CARD_READ = "card-read"
    CAPTURE_FETCH = "capture-fetch"
    WALK_IN = "walk-in"
    SUPERVISOR = "supervisor"
    REPRINT = "reprint"
    FINISH = "finish"

    @property
    def label(self) -> str:
        """The screen's German name, for messages."""
        return _(_SCREEN_LABELS[self])


_SCREEN_LABELS = {
    ScreenId.APP: N_("alle Bildschirme"),
    ScreenId.COUNTER: N_("Schalter"),
    ScreenId.CASE: N_("Vorgang"),
    ScreenId.CARD_READ: N_("Ausweis lesen"),
    ScreenId.CAPTURE_FETCH: N_("Aufnahme holen"),
    ScreenId.WALK_IN: N_("Wartenummer ausgeben"),
    ScreenId.SUPERVISOR: N_("Übersicht Teamleitung"),
    ScreenId.REPRINT: N_("Nachdruck"),
    ScreenId.FINISH: N_("Vorgang abschließen"),
}


@dataclass(frozen=True)
class ClerkAction:
    """One action a clerk can trigger by key or from the command palette.

    `action` is Textual's action name: the screen (or the app, for `ScreenId.APP`) implements it as
    `action_<action>`. `key` is the default key in Textual's spelling. `show` puts it in the footer.
    `demo_only` actions exist only in `tresen demo` (they make no sense at a real desk)."""

    id: str
    action: str
    key: str
    label_source: str  # German, marked with N_; read `label`
    screen: ScreenId
    show: bool = True
    demo_only: bool = False

    @property
    def label(self) -> str:
        return _(self.label_source)

    @property
    def method_name(self) -> str:
        return f"action_{self.action}"


# The order is the footer's and the help screen's order.
ACTIONS: tuple[ClerkAction, ...] = (
    # everywhere
    ClerkAction("help", "help", "f1", N_("Hilfe"), ScreenId.APP),
    ClerkAction("quit", "quit", "ctrl+q", N_("Beenden"), ScreenId.APP, show=False),
    ClerkAction("logout", "logout", "ctrl+l", N_("Abmelden"), ScreenId.APP, show=False),
    ClerkAction(
        "toggle-link",
        "toggle_link",
        "ctrl+t",
        N_("Verbindung trennen/wiederherstellen"),
        ScreenId.APP,
        show=False,
        demo_only=True,
    ),
    ClerkAction("supervisor", "supervisor", "ctrl+o", N_("Übersicht Teamleitung"), ScreenId.APP, show=False),
    # the counter
    ClerkAction("call-next", "call_next", "f2", N_("Aufrufen"), ScreenId.COUNTER),
    ClerkAction("recall", "recall", "f3", N_("Erneut aufrufen"), ScreenId.COUNTER),
    ClerkAction("no-show", "no_show", "f4", N_("Nicht erschienen"), ScreenId.COUNTER),
    ClerkAction("open-case", "open_case", "f5", N_("Vorgang öffnen"), ScreenId.COUNTER),
    ClerkAction("park", "park", "f6", N_("Parken"), ScreenId.COUNTER),
    ClerkAction("transfer", "transfer", "f7", N_("Weiterleiten"), ScreenId.COUNTER),
    ClerkAction("finish", "finish", "f8", N_("Abschließen"), ScreenId.COUNTER),
    ClerkAction("resume", "resume", "f9", N_("Fortsetzen"), ScreenId.COUNTER, show=False),
    # Enter on a queue row: out of the queue's order, so the screen asks first.
    ClerkAction(
        "call-ticket", "call_ticket", "enter", N_("Diese Wartenummer aufrufen"), ScreenId.COUNTER, show=False
    ),
    ClerkAction("walk-in", "walk_in", "ctrl+n", N_("Wartenummer ausgeben"), ScreenId.COUNTER, show=False),
    ClerkAction("search", "focus_search", "ctrl+f", N_("Suchen"), ScreenId.COUNTER, show=False),
    ClerkAction("reprint", "reprint", "ctrl+r", N_("Nachdruck"), ScreenId.COUNTER, show=False),
    # the case
    ClerkAction("case-back", "back", "escape", N_("Zurück"), ScreenId.CASE),
    ClerkAction("case-park", "park", "f6", N_("Parken"), ScreenId.CASE),
    ClerkAction("case-transfer", "transfer", "f7", N_("Weiterleiten"), ScreenId.CASE),
    ClerkAction("case-finish", "finish", "f8", N_("Abschließen"), ScreenId.CASE),
    ClerkAction("case-card-read", "read_card", "f9", N_("Ausweis lesen"), ScreenId.CASE),
    ClerkAction("case-capture", "fetch_capture", "ctrl+b", N_("Aufnahme holen"), ScreenId.CASE),
    # the card-read dialog
    ClerkAction("card-read-close", "close", "escape", N_("Schließen"), ScreenId.CARD_READ),
    ClerkAction(
        "card-read-readers", "refresh_readers", "ctrl+r", N_("Lesegeräte neu suchen"), ScreenId.CARD_READ
    ),
    # the capture dialog: a code typed or scanned, the checks, the clerk accepts
    ClerkAction("capture-fetch-close", "close", "escape", N_("Schließen"), ScreenId.CAPTURE_FETCH),
    ClerkAction("capture-fetch-accept", "accept", "ctrl+s", N_("Übernehmen"), ScreenId.CAPTURE_FETCH),
    # the walk-in dialog
    ClerkAction("walk-in-close", "close", "escape", N_("Schließen"), ScreenId.WALK_IN),
    ClerkAction("walk-in-issue", "issue", "ctrl+n", N_("Ausgeben"), ScreenId.WALK_IN),
    # the supervisor's overview (the export keys act on the day shown in the tab "Tag")
    ClerkAction("supervisor-reload", "reload", "f5", N_("Aktualisieren"), ScreenId.SUPERVISOR),
    ClerkAction("supervisor-export-pdf", "export_pdf", "f6", N_("Tag als PDF"), ScreenId.SUPERVISOR),
    ClerkAction("supervisor-export-csv", "export_csv", "f7", N_("Tag als CSV"), ScreenId.SUPERVISOR),
    ClerkAction("supervisor-back", "back", "escape", N_("Zurück"), ScreenId.SUPERVISOR),
    # the Nachdruck dialog: the highlighted document's first page before it is printed again
    ClerkAction("reprint-preview", "preview", "f3", N_("Vorschau"), ScreenId.REPRINT),
    # the finish dialog: the documents this finish will print, before it prints them
    ClerkAction("finish-preview", "preview", "f3", N_("Vorschau"), ScreenId.FINISH),
)

_BY_ID = {action.id: action for action in ACTIONS}
ACTION_IDS: tuple[str, ...] = tuple(_BY_ID)


def action(action_id: str) -> ClerkAction:
    """The action with this binding id (KeyError for an unknown one)."""
    return _BY_ID[action_id]


def actions_for(screen: ScreenId, *, demo: bool = False) -> tuple[ClerkAction, ...]:
    """The actions whose keys live on `screen` (not the app-wide ones), demo-only ones when `demo`."""
    return tuple(a for a in ACTIONS if a.screen == screen and (demo or not a.demo_only))


def suggest_action_id(unknown: str) -> str | None:
    """The registered id closest to a misspelt one, if any is close."""
    close = difflib.get_close_matches(unknown, ACTION_IDS, n=1)
    return close[0] if close else None


# --- keys ---------------------------------------------------------------------------------------


class InvalidKey(ValueError):
    """A key that Textual cannot name or that an action may not have; `reason` is German."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"invalid key {key!r}")
        self.key = key
        self.reason = reason


MODIFIERS = ("alt", "ctrl", "shift")  # alphabetical, as Textual joins them
NAMED_KEYS = frozenset(
    {
        "escape",
        "enter",
        "tab",
        "space",
        "backspace",
        "delete",
        "insert",
        "home",
        "end",
        "pageup",
        "pagedown",
        "up",
        "down",
        "left",
        "right",
    }
    | {f"f{n}" for n in range(1, 25)}
)
# Textual names a symbol key by its Unicode name in snake case, a few of them friendlier.
_FRIENDLIER = {
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}


def _character_name(character: str) -> str:
    """Textual's key name for a printable character that is not a letter or digit ("?" → question_mark)."""
    name = unicodedata.name(character).lower().replace("-", "_").replace(" ", "_")
    return _FRIENDLIER.get(name, name)


# The symbol names suggested for a misspelt key (any symbol's name is accepted, see below).
_CHARACTER_NAMES = frozenset(_character_name(character) for character in string.punctuation)
_UNFRIENDLY = {friendly: unicode for unicode, friendly in _FRIENDLIER.items()}


def _is_character_name(name: str) -> bool:
    """Whether `name` is how Textual names some symbol's key (the inverse of `_character_name`)."""
    if name in _CHARACTER_NAMES:
        return True
    try:
        character = unicodedata.lookup(_UNFRIENDLY.get(name, name).replace("_", " ").upper())
    except KeyError:  # e.g. a hyphen in the Unicode name became "_": look it up the long way
        return name in _all_symbol_names()
    return _is_symbol(character) and _character_name(character) == name


def _is_symbol(character: str) -> bool:
    return character.isprintable() and not character.isalnum() and not character.isspace()


@functools.cache
def _all_symbol_names() -> frozenset[str]:
    """Every symbol's key name (built once, only for a name the quick lookup cannot place)."""
    names = set()
    for code in range(sys.maxunicode + 1):
        character = chr(code)
        if _is_symbol(character) and unicodedata.name(character, "") != "":
            names.add(_character_name(character))
    return frozenset(names)


# German key caps and common misnomers, answered with the name Textual uses.
_KEY_CAP_HINTS = {
    "strg": "ctrl",
    "control": "ctrl",
    "ctl": "ctrl",
    "umschalt": "shift",
    "hoch": "shift",
    "esc": "escape",
    "return": "enter",
    "eingabe": "enter",
    "entf": "delete",
    "del": "delete",
    "einfg": "insert",
    "ins": "insert",
    "pos1": "home",
    "ende": "end",
    "bildauf": "pageup",
    "bildab": "pagedown",
    "pgup": "pageup",
    "pgdn": "pagedown",
    "leertaste": "space",
    "rücktaste": "backspace",
    "meta": "alt",
    "option": "alt",
}
# Keys that Textual itself binds on every screen or app: an action there would silently lose.
RESERVED_KEYS = {
    "ctrl+p": N_("die Befehlspalette"),
    "ctrl+c": N_("das Kopieren"),
    "tab": N_("den Fokuswechsel"),
    "shift+tab": N_("den Fokuswechsel"),
}
# Key events that terminals cannot tell apart: ctrl+i is Tab, ctrl+m is Enter.
_SAME_KEY = {"ctrl+i": "tab", "ctrl+m": "enter"}


def normalize_key(text: str) -> str:
    """One key in Textual's spelling (see the grammar above); `InvalidKey` says why not."""
    raw = text.strip()
    if not raw:
        raise InvalidKey(text, _("leere Taste"))
    *modifier_parts, base_part = (part.strip() for part in raw.split("+"))
    if not base_part or not all(modifier_parts):
        raise InvalidKey(text, _("„+“ verbindet Zusatztasten mit der Taste; die Plustaste heißt „plus“"))
    modifiers: list[str] = []
    for part in modifier_parts:
        modifier = part.lower()
        if modifier not in MODIFIERS:
            problem = _("unbekannte Zusatztaste „{name}“").format(name=part)
            raise InvalidKey(text, _with_suggestion(problem, part, MODIFIERS))
        if modifier in modifiers:
            raise InvalidKey(text, _("„{modifier}“ steht zweimal darin").format(modifier=modifier))
        modifiers.append(modifier)
    base = _normalize_base(base_part, text, modified=bool(modifiers))
    if modifiers == ["shift"] and (len(base) == 1 or base in _CHARACTER_NAMES):
        raise InvalidKey(
            text,
            _("„shift+“ mit einem Zeichen kommt nie an: das Terminal schickt das Zeichen selbst (z. B. „A“)"),
        )
    return "+".join([*sorted(modifiers), base])


def _normalize_base(base: str, text: str, *, modified: bool) -> str:
    if len(base) == 1:
        if base.isalnum():
            # Alone, a capital letter is its own key event; with ctrl/alt Textual names the letter.
            return base.lower() if modified else base
        if _is_symbol(base) and unicodedata.name(base, "") != "":
            return _character_name(base)
        raise InvalidKey(text, _("„{key}“ ist keine Taste").format(key=base))
    name = base.lower()
    if name in NAMED_KEYS or _is_character_name(name):
        return name
    problem = _("unbekannte Taste „{name}“").format(name=base)
    raise InvalidKey(text, _with_suggestion(problem, base, sorted(NAMED_KEYS | _CHARACTER_NAMES)))


def _with_suggestion(problem: str, name: str, known: Iterable[str]) -> str:
    hint = _KEY_CAP_HINTS.get(name.lower())
    if hint is None:
        close = difflib.get_close_matches(name.lower(), list(known), n=1)
        hint = close[0] if close else None
    if hint is None:
        return problem
    return _("{problem} – meinten Sie „{suggestion}“?").format(problem=problem, suggestion=hint)


def normalize_keys(text: str) -> str:
    """A keymap value (one key or several, comma-separated) in Textual's spelling."""
    return ",".join(normalize_key(part) for part in text.split(","))


def reserved_for(key: str) -> str | None:
    """What Textual uses `key` for (German), if it is one of the reserved keys."""
    purpose = RESERVED_KEYS.get(_SAME_KEY.get(key, key))
    return _(purpose) if purpose is not None else None


# --- the keymap ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyClash:
    """Two actions active on one screen with the same key."""

    key: str
    screen: ScreenId
    first: str  # action ids
    second: str


def effective_keys(keymap: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Each action's keys once `keymap` (id → normalised keys) overrides the defaults."""
    return {a.id: tuple(keymap.get(a.id, a.key).split(",")) for a in ACTIONS}


def key_clashes(keymap: Mapping[str, str], *, demo: bool = False) -> list[KeyClash]:
    """Keys bound twice on one screen with `keymap` applied. App-wide actions count on every screen;
    a clash among them alone is reported once, for `ScreenId.APP`. Demo-only actions count when
    `demo` (a site's keymap need not keep their keys free)."""
    keys = effective_keys(keymap)
    clashes: list[KeyClash] = []
    seen: set[tuple[str, str, str]] = set()
    for screen in ScreenId:
        active = [a for a in ACTIONS if a.screen in (ScreenId.APP, screen) and (demo or not a.demo_only)]
        owner: dict[str, str] = {}
        for candidate in active:
            for key in keys[candidate.id]:
                same = _SAME_KEY.get(key, key)
                first = owner.setdefault(same, candidate.id)
                if first == candidate.id:
                    continue
                pair = (same, first, candidate.id)
                if pair in seen:
                    continue
                seen.add(pair)
                both_app = action(first).screen == candidate.screen == ScreenId.APP
                clashes.append(KeyClash(key, ScreenId.APP if both_app else screen, first, candidate.id))
    return clashes
