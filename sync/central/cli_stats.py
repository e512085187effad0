"""`tresen stats`: an office's daily report from the central service as PDF or German CSV.

    tresen stats --central URL [--office O] --date D --format pdf|csv --out FILE [--token T]

Without `--office` the central service's only office is taken (with several, the command names them).
`--token` (or `TRESEN_TOKEN`) is sent as a bearer token for the security issue's administrator tokens;
the central service does not check it yet. The figures are `sync.statistics`' as the central service
aggregates them; PDF and CSV come from `forms.daily_report`.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    import httpx

    from forms.daily_report import DailyReport
    from sync.clock import Clock

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1


class StatsError(Exception):
    """A German message for the administrator (the English reason went to the log)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    stats = subparsers.add_parser("stats", help="Tagesbericht eines Amts als PDF oder CSV ausgeben")
    stats.add_argument("--central", required=True, metavar="URL", help="Adresse des Zentraldienstes")
    stats.add_argument("--office", metavar="AMT", help="Amt (ohne Angabe: das einzige Amt der Zentrale)")
    stats.add_argument("--date", required=True, type=date.fromisoformat, metavar="JJJJ-MM-TT", help="Tag")
    stats.add_argument("--format", required=True, choices=("pdf", "csv"), help="Ausgabeformat")
    stats.add_argument("--out", required=True, type=Path, metavar="DATEI", help="Ausgabedatei")
    stats.add_argument(
        "--token", default=os.environ.get("TRESEN_TOKEN"), help="Zugangstoken (sonst TRESEN_TOKEN)"
    )
    stats.set_defaults(handler=run_stats)


def run_stats(args: argparse.Namespace) -> int:
    import httpx

    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    try:
        with httpx.Client(base_url=args.central, headers=headers, timeout=30) as client:
            data = export_day(client, args.office, args.date, args.format)
    except httpx.HTTPError as error:
        log.warning("stats: central service unreachable: %s", type(error).__name__)
        print(f"Die Zentrale unter {args.central} ist nicht erreichbar.", file=sys.stderr)
        return EXIT_FAILED
    except StatsError as error:
        print(error, file=sys.stderr)
        return EXIT_FAILED
    args.out.write_bytes(data)
    print(f"Tagesbericht gespeichert: {args.out}")
    return EXIT_OK


def export_day(
    client: httpx.Client, office_id: str | None, day: date, fmt: str, *, clock: Clock | None = None
) -> bytes:
    """The day's report from the central service behind `client`, as PDF or CSV bytes."""
    from forms.daily_report import daily_report_csv, render_daily_report
    from sync.protocol import API_PREFIX

    office_id = office_id or _only_office(client)
    answer = client.get(f"{API_PREFIX}/statistics/offices/{office_id}/days/{day.isoformat()}")
    if answer.status_code != 200:
        raise StatsError(_refusal(answer))
    report = _daily_report(answer.json(), clock)
    return render_daily_report(report) if fmt == "pdf" else daily_report_csv(report)


def _daily_report(payload: Any, clock: Clock | None) -> DailyReport:
    from forms.daily_report import DailyReport
    from forms.layout import IssuingOffice
    from sync.central.statistics_api import DayReport
    from sync.clock import utc_now

    report = DayReport.model_validate(payload)
    return DailyReport(
        office=IssuingOffice(
            authority="Statistik der Teamleitung",
            name=report.office_name,
            street=f"Amt {report.office_id}",
            postal_code_and_city="erstellt mit Tresen",
        ),
        figures=report.day.figures(),
        same_weekday_last_week=report.same_weekday_last_week.figures(),
        names=report.names,
        issued_at=(clock or utc_now)(),
    )


def _only_office(client: httpx.Client) -> str:
    from sync.protocol import API_PREFIX

    answer = client.get(f"{API_PREFIX}/offices")
    if answer.status_code != 200:
        raise StatsError(_refusal(answer))
    offices = [office["id"] for office in answer.json()]
    if len(offices) != 1:
        raise StatsError(
            f"Die Zentrale kennt {len(offices)} Ämter; bitte --office angeben: {', '.join(offices)}"
        )
    return str(offices[0])


def _refusal(answer: httpx.Response) -> str:
    """The German message of a refusal (statistics_api's detail), else a general one."""
    try:
        detail = answer.json().get("detail")
    except ValueError:
        detail = None
    log.info("stats: central refused with %s", answer.status_code)
    if isinstance(detail, dict) and isinstance(detail.get("message"), str):
        params = detail.get("params") or {}
        return str(detail["message"]).format(**params)
    return f"Die Zentrale hat die Anfrage abgelehnt (HTTP {answer.status_code})."
