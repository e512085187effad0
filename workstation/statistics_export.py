"""The daily report as a file: what `tresen stats` and the supervisor screen's export keys both use.

`daily_report_bytes` turns the central service's `DayReport` into the PDF or the German CSV of
`forms.daily_report` (the figures are `sync.statistics`' either way). `save_daily_report` writes it
into the export folder (`[statistics] export_dir`) as a new 0600 file, and turns what can go wrong
there (the folder missing or not writable, a full disk) into a German `ExportFailed`; a half-written
file is removed.
"""

from __future__ import annotations

import errno
import logging
import os
from enum import StrEnum
from typing import TYPE_CHECKING

from workstation.errors import TresenError
from workstation.i18n import _
from workstation.private_files import PRIVATE_FILE_MODE

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from sync.central.statistics_api import DayReport

__all__ = ["ExportFailed", "ExportFormat", "daily_report_bytes", "export_file_name", "save_daily_report"]

log = logging.getLogger(__name__)


class ExportFormat(StrEnum):
    PDF = "pdf"
    CSV = "csv"


class ExportFailed(TresenError):
    """The report could not be saved; `user_message` says why, in German, and names the folder."""


def daily_report_bytes(report: DayReport, fmt: ExportFormat, issued_at: datetime) -> bytes:
    from forms.daily_report import DailyReport, daily_report_csv, render_daily_report
    from forms.layout import IssuingOffice

    daily = DailyReport(
        office=IssuingOffice(
            authority="Statistik der Teamleitung",
            name=report.office_name,
            street=f"Amt {report.office_id}",
            postal_code_and_city="erstellt mit Tresen",
        ),
        figures=report.day.figures(),
        same_weekday_last_week=report.same_weekday_last_week.figures(),
        names=report.names,
        issued_at=issued_at,
    )
    return render_daily_report(daily) if fmt is ExportFormat.PDF else daily_report_csv(daily)


def export_file_name(report: DayReport, fmt: ExportFormat, issued_at: datetime) -> str:
    """`Tagesbericht_<office>_<day>_<HHMMSS>.<ext>`: one per export, never over an earlier one."""
    from sync.clock import OFFICE_ZONE

    stamp = issued_at.astimezone(OFFICE_ZONE).strftime("%H%M%S")
    return f"Tagesbericht_{report.office_id}_{report.day.date.isoformat()}_{stamp}.{fmt.value}"


def save_daily_report(
    report: DayReport, fmt: ExportFormat, folder: Path, issued_at: datetime, *, create_folder: bool = False
) -> Path:
    """Write the report into `folder` as a new file (0600) and return its path."""
    data = daily_report_bytes(report, fmt, issued_at)
    if create_folder:
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            raise _failed(error, folder) from None
    path = folder / export_file_name(report, fmt, issued_at)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except OSError as error:
        raise _failed(error, folder) from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except OSError as error:
        path.unlink(missing_ok=True)
        raise _failed(error, folder) from None
    log.info("daily report saved (%s, %d bytes)", fmt.value, len(data))
    return path


def _failed(error: OSError, folder: Path) -> ExportFailed:
    log.warning("daily report not saved: %s", errno.errorcode.get(error.errno or 0, type(error).__name__))
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        message = _("Der Speicherplatz in {folder} ist voll; der Bericht wurde nicht gespeichert.")
    elif error.errno in (errno.ENOENT, errno.ENOTDIR):
        message = _(
            "Den Ordner {folder} für Berichte gibt es nicht. Bitte anlegen lassen oder in der "
            "Konfiguration unter [statistics] export_dir einen anderen angeben."
        )
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        message = _(
            "In den Ordner {folder} darf Tresen nicht schreiben; der Bericht wurde nicht gespeichert."
        )
    else:
        message = _("Der Bericht konnte in {folder} nicht gespeichert werden ({reason}).")
    return ExportFailed(
        message.format(folder=folder, reason=error.strerror or type(error).__name__),
        f"export failed: {type(error).__name__}",
    )
