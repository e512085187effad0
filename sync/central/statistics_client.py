"""Reading the supervisor's figures from the central service: what the screen's port and `tresen stats` use.

Every failure becomes `StatisticsUnavailable` with a German msgid (N_) and its parameters: the central
service's own refusal message when it gave one (no data on that date, office unknown, not a
supervisor), else a general one. The UI translates the msgid and formats it with the parameters.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import httpx

from sync.central.statistics_api import DayReport, LiveOffice
from sync.clock import office_day, utc_now
from sync.protocol import API_PREFIX, ConflictEntry, ConflictResolutionRequest

if TYPE_CHECKING:
    from datetime import date

    from sync.clock import Clock

__all__ = ["StatisticsClient", "StatisticsUnavailable"]

log = logging.getLogger(__name__)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    return message


MSG_OFFLINE = N_("Die Zentrale ist nicht erreichbar; die Statistik kommt nur von dort.")
MSG_REFUSED = N_("Die Zentrale hat die Anfrage abgelehnt (HTTP {status}).")
MSG_SEVERAL_OFFICES = N_("Die Zentrale kennt {count} Ämter; bitte eines wählen: {offices}")


class StatisticsUnavailable(Exception):
    def __init__(self, message: str, params: dict[str, str] | None = None) -> None:
        self.message = message
        self.params = params or {}
        super().__init__(self.text)

    @property
    def offline(self) -> bool:
        """The central service did not answer at all (the local store may know something)."""
        return self.message == MSG_OFFLINE

    @property
    def text(self) -> str:
        """The German sentence (for the command line; screens translate `message` first)."""
        return self.message.format(**self.params)


class StatisticsClient:
    """The figures of one office through an httpx client (its base URL is the central service)."""

    def __init__(self, client: httpx.Client, office_id: str | None = None, *, clock: Clock = utc_now) -> None:
        self.client = client
        self._office_id = office_id
        self.clock = clock

    def today(self) -> date:
        return office_day(self.clock())

    @property
    def office_id(self) -> str:
        if self._office_id is None:
            offices = [office["id"] for office in self._get(f"{API_PREFIX}/offices")]
            if len(offices) != 1:
                raise StatisticsUnavailable(
                    MSG_SEVERAL_OFFICES, {"count": str(len(offices)), "offices": ", ".join(offices)}
                )
            self._office_id = str(offices[0])
        return self._office_id

    def load_live(self) -> LiveOffice:
        return LiveOffice.model_validate(self._get(f"{API_PREFIX}/statistics/offices/{self.office_id}/live"))

    def load_day(self, day: date) -> DayReport:
        path = f"{API_PREFIX}/statistics/offices/{self.office_id}/days/{day.isoformat()}"
        return DayReport.model_validate(self._get(path))

    def load_conflicts(self) -> list[ConflictEntry]:
        """The office's refused and flagged operations not yet dealt with (supervisors)."""
        entries = self._get(f"{API_PREFIX}/offices/{self.office_id}/conflicts")
        return [ConflictEntry.model_validate(entry) for entry in entries]

    def resolve_conflict(self, entry: ConflictEntry, note: str = "") -> ConflictEntry:
        path = (
            f"{API_PREFIX}/offices/{self.office_id}/conflicts/{entry.workstation_id}/{entry.seq}/resolution"
        )
        body = ConflictResolutionRequest(note=note).model_dump(mode="json")
        return ConflictEntry.model_validate(self._send("POST", path, body))

    def _get(self, path: str) -> Any:  # JSON, validated by the caller
        return self._send("GET", path)

    def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            answer = self.client.request(method, path, json=body)
        except httpx.HTTPError as error:
            log.warning("statistics: central service unreachable: %s", type(error).__name__)
            raise StatisticsUnavailable(MSG_OFFLINE) from None
        if answer.status_code == 200:
            return answer.json()
        log.info("statistics: central refused with %s", answer.status_code)
        try:
            detail = answer.json().get("detail")
        except ValueError:
            detail = None
        if isinstance(detail, dict) and isinstance(detail.get("message"), str):
            params = {str(k): str(v) for k, v in (detail.get("params") or {}).items()}
            raise StatisticsUnavailable(detail["message"], params)
        raise StatisticsUnavailable(MSG_REFUSED, {"status": str(answer.status_code)})
