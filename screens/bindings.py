"""Textual bindings made from the clerk-action registry (`workstation.actions`): one list of ids,
keys and labels for the screens, the keymap check and the help."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from workstation.actions import ScreenId, actions_for


def bindings_for(screen: ScreenId) -> list[BindingType]:
    """The bindings of `screen`, demo-only ones included (the App hides those outside the demo)."""
    return [
        Binding(action.key, action.action, action.label, id=action.id, show=action.show)
        for action in actions_for(screen, demo=True)
    ]
