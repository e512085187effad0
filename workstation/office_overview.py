"""The supervisor screen's port (`screens.supervisor.SupervisorPort`): the central service's figures,
the local store's when it cannot be reached, and the daily report saved into the export folder.

Every call blocks (HTTP, SQLite, the file system); the screen runs them in thread workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sync.clock import utc_now
from workstation.local_statistics import LocalFigures, local_day_report, local_live_office, local_stand
from workstation.statistics_export import save_daily_report

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date
    from pathlib import Path

    from sync.central.statistics_api import DayReport, LiveOffice
    from sync.central.statistics_client import StatisticsClient
    from sync.clock import Clock
    from sync.protocol import ConflictEntry
    from workstation.config import StatisticsSettings
    from workstation.db import LocalStore
    from workstation.statistics_export import ExportFormat

__all__ = ["OfficeOverview"]


class OfficeOverview:
    def __init__(
        self,
        central: StatisticsClient,
        store: LocalStore,
        *,
        workstation_id: str,
        office_id: str,
        settings: StatisticsSettings,
        clock: Clock = utc_now,
        real_clock: Clock = utc_now,
        resume_session: Callable[[], bool] | None = None,
    ) -> None:
        self.central = central
        # A supervisor who logged in offline gets the central session these figures need once the
        # central service answers again (`ClerkLogins.resume_session`), before each central call.
        self.resume_session = resume_session
        self.store = store
        self.workstation_id = workstation_id
        self.office_id = office_id
        self.settings = settings
        self.clock = clock  # the office's clock (the demo's may be set to another time of day)
        self.real_clock = real_clock  # when a report was made, for its file name and footer

    def today(self) -> date:
        return self.central.today()

    def load_live(self) -> LiveOffice:
        self._resume()
        return self.central.load_live()

    def load_day(self, day: date) -> DayReport:
        self._resume()
        return self.central.load_day(day)

    def load_conflicts(self) -> list[ConflictEntry]:
        self._resume()
        return self.central.load_conflicts()

    def resolve_conflict(self, entry: ConflictEntry, note: str = "") -> ConflictEntry:
        self._resume()
        return self.central.resolve_conflict(entry, note)

    def _resume(self) -> None:
        if self.resume_session is not None:
            self.resume_session()  # offline it fails quietly; the central call then reports

    def load_local_live(self) -> LocalFigures[LiveOffice]:
        with self.store.session() as session:
            live = local_live_office(session, self.office_id, self.clock())
            return LocalFigures(live, local_stand(session, self.workstation_id))

    def load_local_day(self, day: date) -> LocalFigures[DayReport]:
        with self.store.session() as session:
            report = local_day_report(session, self.office_id, day)
            return LocalFigures(report, local_stand(session, self.workstation_id))

    def export_day(self, report: DayReport, fmt: ExportFormat) -> Path:
        return save_daily_report(
            report,
            fmt,
            self.settings.export_dir,
            self.real_clock(),
            create_folder=self.settings.create_export_dir,
        )
