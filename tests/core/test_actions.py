"""The registry of clerk actions and the key grammar the keymap is checked with."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workstation import actions
from workstation.actions import ACTIONS, InvalidKey, ScreenId, key_clashes, normalize_key, normalize_keys
from workstation.i18n import set_language

if TYPE_CHECKING:
    from collections.abc import Iterator

# The ids the screens bind today, and the ones issue 7 adds.
TODAY = {
    "call-next", "recall", "no-show", "open-case", "park", "transfer", "finish", "resume", "walk-in",
    "search", "case-back", "case-park", "case-transfer", "case-finish", "case-card-read", "help", "quit",
    "card-read-close", "card-read-readers", "walk-in-close", "walk-in-issue",
}  # fmt: skip
NEW = {"logout", "toggle-link", "call-ticket", "supervisor", "reprint"}
CAPTURES = {"case-capture", "capture-fetch-close", "capture-fetch-accept"}  # issue 11
# issue 12: the supervisor screen's keys, its reload and back keys as before (F5, Esc)
SUPERVISOR = {"supervisor-reload", "supervisor-export-pdf", "supervisor-export-csv", "supervisor-back"}
PREVIEW = {"reprint-preview", "finish-preview"}  # issue 10: the preview before printing


@pytest.fixture
def english() -> Iterator[None]:
    set_language("en")
    yield
    set_language("de")


def test_ids_are_unique_and_cover_every_binding() -> None:
    ids = [a.id for a in ACTIONS]
    assert len(ids) == len(set(ids))
    assert set(ids) == TODAY | NEW | CAPTURES | SUPERVISOR | PREVIEW
    assert {a.id for a in actions.actions_for(ScreenId.SUPERVISOR)} == SUPERVISOR
    assert (actions.action("supervisor-export-pdf").key, actions.action("supervisor-export-csv").key) == (
        "f6",
        "f7",
    )


def test_default_keys_are_unique_per_screen_with_the_app_keys_on_every_screen() -> None:
    assert key_clashes({}, demo=True) == []
    for screen in ScreenId:
        active = [a for a in ACTIONS if a.screen in (ScreenId.APP, screen)]
        keys = [key for a in active for key in a.key.split(",")]
        assert len(keys) == len(set(keys)), screen


def test_default_keys_are_valid_textual_names_and_none_is_reserved() -> None:
    for action in ACTIONS:
        assert normalize_keys(action.key) == action.key, action.id
        assert actions.reserved_for(action.key) is None, action.id


def test_the_bindings_of_today_keep_their_keys_and_actions() -> None:
    expected = {
        "call-next": ("f2", "call_next"), "recall": ("f3", "recall"), "no-show": ("f4", "no_show"),
        "open-case": ("f5", "open_case"), "park": ("f6", "park"), "transfer": ("f7", "transfer"),
        "finish": ("f8", "finish"), "resume": ("f9", "resume"), "walk-in": ("ctrl+n", "walk_in"),
        "search": ("ctrl+f", "focus_search"), "case-back": ("escape", "back"), "case-park": ("f6", "park"),
        "case-transfer": ("f7", "transfer"), "case-finish": ("f8", "finish"),
        "case-card-read": ("f9", "read_card"), "help": ("f1", "help"), "quit": ("ctrl+q", "quit"),
    }  # fmt: skip
    for action_id, (key, name) in expected.items():
        action = actions.action(action_id)
        assert (action.key, action.action, action.method_name) == (key, name, f"action_{name}")


def test_every_action_names_a_method_and_its_screen() -> None:
    for action in ACTIONS:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", action.action), action.id
        assert isinstance(action.screen, ScreenId)
    assert {a.id for a in actions.actions_for(ScreenId.APP)} == {"help", "quit", "logout", "supervisor"}
    assert "toggle-link" in {a.id for a in actions.actions_for(ScreenId.APP, demo=True)}
    assert actions.action("call-ticket").screen == ScreenId.COUNTER
    assert (actions.action("reprint-preview").key, actions.action("reprint-preview").screen) == (
        "f3",
        ScreenId.REPRINT,
    )
    assert (actions.action("finish-preview").key, actions.action("finish-preview").screen) == (
        "f3",
        ScreenId.FINISH,
    )


@pytest.mark.usefixtures("english")
def test_labels_are_german_and_follow_the_language_chosen_later() -> None:
    assert actions.action("call-next").label == "Call next"
    assert actions.action("logout").label_source == "Abmelden"
    assert all(a.label and a.label != a.label_source for a in ACTIONS if a.label_source != "Zurück")
    set_language("de")
    assert actions.action("call-next").label == "Aufrufen"
    assert actions.action("toggle-link").label == "Verbindung trennen/wiederherstellen"


def test_a_misspelt_id_gets_a_suggestion() -> None:
    assert actions.suggest_action_id("call-nxt") == "call-next"
    assert actions.suggest_action_id("zzzzzz") is None


@pytest.mark.parametrize(
    ("written", "textual"),
    [
        ("F2", "f2"),
        ("Ctrl+N", "ctrl+n"),
        ("shift+ctrl+up", "ctrl+shift+up"),
        ("ctrl + f5", "ctrl+f5"),
        ("?", "question_mark"),
        ("ctrl+/", "ctrl+slash"),
        ("alt+shift+ctrl+x", "alt+ctrl+shift+x"),
        ("A", "A"),
        ("ä", "ä"),
        ("§", "section_sign"),
        ("pageDown", "pagedown"),
    ],
)
def test_keys_are_written_as_textual_names_them(written: str, textual: str) -> None:
    assert normalize_key(written) == textual


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("", "leere Taste"),
        ("strg+n", "meinten Sie „ctrl“?"),
        ("esc", "meinten Sie „escape“?"),
        ("Entf", "meinten Sie „delete“?"),
        ("ctrl+ctrl+a", "zweimal"),
        ("ctrl++", "plus"),
        ("shift+a", "„A“"),
        ("f25", "unbekannte Taste „f25“"),
        ("hyper+a", "unbekannte Zusatztaste „hyper“"),
    ],
)
def test_keys_textual_cannot_name_are_refused_with_a_reason(written: str, reason: str) -> None:
    with pytest.raises(InvalidKey) as refused:
        normalize_key(written)
    assert reason in refused.value.reason


def test_several_keys_and_reserved_ones() -> None:
    assert normalize_keys("F12, ctrl+E") == "f12,ctrl+e"
    assert actions.reserved_for("ctrl+p") == "die Befehlspalette"
    assert actions.reserved_for("ctrl+i") == "den Fokuswechsel"  # the terminal sends Tab for it
    assert actions.reserved_for("f2") is None


def test_a_remap_onto_a_taken_key_is_a_clash_on_that_screen_only() -> None:
    [clash] = key_clashes({"call-next": "f3"})
    assert (clash.key, clash.screen, {clash.first, clash.second}) == (
        "f3",
        ScreenId.COUNTER,
        {"call-next", "recall"},
    )
    # f9 is "resume" on the counter but free on the case screen's neighbours: only the counter clashes.
    assert [(c.screen, c.second) for c in key_clashes({"case-park": "f9"})] == [
        (ScreenId.CASE, "case-card-read")
    ]
    # An app-wide key counts on every screen, so the clash shows where the screen key lives.
    assert [(c.screen, c.first, c.second) for c in key_clashes({"help": "f2"})] == [
        (ScreenId.COUNTER, "help", "call-next")
    ]
    assert [c.screen for c in key_clashes({"help": "ctrl+q"})] == [ScreenId.APP]
    # Swapping two keys is fine; Enter and ctrl+m are one key to a terminal.
    assert key_clashes({"call-next": "f3", "recall": "f2"}) == []
    assert [{c.first, c.second} for c in key_clashes({"recall": "ctrl+m"})] == [{"recall", "call-ticket"}]


def test_demo_only_keys_count_only_in_the_demo() -> None:
    assert key_clashes({"search": "ctrl+t"}) == []
    assert [c.second for c in key_clashes({"search": "ctrl+t"}, demo=True)] == ["search"]


_names = st.sampled_from(sorted(actions.NAMED_KEYS)) | st.characters(categories=["Ll", "Nd", "P", "S"])


@given(modifiers=st.lists(st.sampled_from(["ctrl", "alt", "Ctrl", "ALT"]), unique_by=str.lower), base=_names)
def test_a_normalised_key_stays_as_it_is(modifiers: list[str], base: str) -> None:
    try:
        key = normalize_key("+".join([*modifiers, base]))
    except InvalidKey:
        return
    assert normalize_key(key) == key
    *mods, _last = key.split("+") if not key.endswith("+") else [key]
    assert mods == sorted(mods)
    assert len(mods) == len(modifiers)


@given(st.text(max_size=20))
def test_any_text_is_a_key_or_a_german_refusal(text: str) -> None:
    try:
        keys = normalize_keys(text)
    except InvalidKey as refused:
        assert refused.reason  # noqa: PT017  (fuzz: a key or a refusal, both are allowed)
    else:
        assert keys == normalize_keys(keys)
