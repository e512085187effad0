"""`tresen stats`: an office's daily report from the central service as PDF or German CSV.

    tresen stats --central URL [--office O] --date D --format pdf|csv --out FILE [--token T]

Without `--office` the central service's only office is taken (with several, the command names them).
`--token` (or `TRESEN_TOKEN`) is sent as a bearer token for the security issue's administrator tokens;
the central service does not check it yet. The figures are `sync.statistics`' as the central service
aggregates them; PDF and CSV come from `forms.daily_report` through `workstation.statistics_export`.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    import httpx

    from sync.clock import Clock

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1


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

    from sync.central.statistics_client import StatisticsUnavailable

    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    try:
        with httpx.Client(base_url=args.central, headers=headers, timeout=30) as client:
            data = export_day(client, args.office, args.date, args.format)
    except StatisticsUnavailable as problem:
        print(problem.text, file=sys.stderr)
        return EXIT_FAILED
    args.out.write_bytes(data)
    print(f"Tagesbericht gespeichert: {args.out}")
    return EXIT_OK


def export_day(
    client: httpx.Client, office_id: str | None, day: date, fmt: str, *, clock: Clock | None = None
) -> bytes:
    """The day's report from the central service behind `client`, as PDF or CSV bytes.

    Raises `StatisticsUnavailable` (German `text`) when there is nothing to export. The same bytes
    as the supervisor screen's export keys (`workstation.statistics_export`)."""
    from sync.central.statistics_client import StatisticsClient
    from sync.clock import utc_now
    from workstation.statistics_export import ExportFormat, daily_report_bytes

    report = StatisticsClient(client, office_id).load_day(day)
    return daily_report_bytes(report, ExportFormat(fmt), (clock or utc_now)())
