"""The status bar: where this workstation stands with the central service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.widgets import Static

from sync.clock import OFFICE_ZONE
from workstation.i18n import _

if TYPE_CHECKING:
    from datetime import datetime


@dataclass(frozen=True)
class SyncStatusLine:
    """What the bar shows; built by the app from the sync engine's status."""

    online: bool | None  # None: no central service configured
    pending_operations: int
    last_sync_at: datetime | None
    last_error: str | None = None
    rejected_operations: int = 0
    copied_store: bool = False  # the store is a copy that does not sync: the app says why, once


def local_clock(moment: datetime) -> str:
    return moment.astimezone(OFFICE_ZONE).strftime("%H:%M:%S")


class SyncStatusBar(Static):
    """One line: desk and clerk, online/offline, pending operations, last sync."""

    def __init__(self, place: str, status: SyncStatusLine | None = None) -> None:
        super().__init__(id="status-bar")
        self._place = place
        self._status = status or SyncStatusLine(online=None, pending_operations=0, last_sync_at=None)

    def on_mount(self) -> None:
        self._render_status()

    def show(self, status: SyncStatusLine) -> None:
        if status != self._status:
            self._status = status
            self._render_status()

    def _render_status(self) -> None:
        status = self._status
        if status.online is None:
            link = _("lokal (kein Zentralserver)")
            self.set_classes("local")
        elif status.online:
            link = _("online")
            self.set_classes("online")
        else:
            link = _("offline")
            self.set_classes("offline")
        last = local_clock(status.last_sync_at) if status.last_sync_at else "–"
        parts = [
            "Tresen",
            self._place,
            link,
            _("ausstehend: {count}").format(count=status.pending_operations),
            _("letzte Synchronisation: {time}").format(time=last),
        ]
        if status.rejected_operations:
            parts.append(_("abgelehnt: {count}").format(count=status.rejected_operations))
        if status.last_error and not status.online:
            parts.append(status.last_error)
        self.update("  │  ".join(parts))
