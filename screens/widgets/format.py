"""How the screens spell times, durations, services and states for the clerk."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sync.clock import OFFICE_ZONE
from workstation.i18n import _
from workstation.labels import state_label as state_label  # noqa: PLC0414 - explicit re-export: the screens format from here

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

# German citizen offices all keep German time; the store keeps UTC.


def clock(moment: datetime | None) -> str:
    """The office's wall-clock time of `moment`."""
    return "–" if moment is None else moment.astimezone(OFFICE_ZONE).strftime("%H:%M")


def minutes(value: float | int | None) -> str:
    return "–" if value is None else _("{n} min").format(n=int(value))


def services_label(services: Iterable[object] | str) -> str:
    if isinstance(services, str):
        return services
    return ", ".join(getattr(service, "name", str(service)) for service in services)


def outcome_labels() -> dict[str, str]:
    return {
        "completed": _("erledigt"),
        "documents_missing": _("Unterlagen fehlen"),
        "rejected": _("abgelehnt"),
        "not_done": _("nicht bearbeitet"),
    }


def load_level(waiting_minutes: float, service_level_minutes: int) -> str:
    """Colour class of a waiting time against the office's service level (display only)."""
    if waiting_minutes >= service_level_minutes:
        return "high"
    if waiting_minutes >= service_level_minutes * 2 / 3:
        return "medium"
    return "low"
