"""The German words for ticket and appointment states: one list for messages and screens."""

from __future__ import annotations

from workstation.i18n import _


def state_label(state: str) -> str:
    """The German word for a ticket or appointment state, for messages."""
    labels = {
        "waiting": _("wartet"),
        "called": _("aufgerufen"),
        "serving": _("in Bearbeitung"),
        "parked": _("geparkt"),
        "finished": _("abgeschlossen"),
        "no_show": _("nicht erschienen"),
        "transferred": _("weitergeleitet"),
        "cancelled": _("storniert"),
        "booked": _("gebucht"),
        "checked_in": _("eingecheckt"),
    }
    return labels.get(str(state), str(state))
