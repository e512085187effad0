"""The daily report: CSV read back with Python's csv module in the German dialect, PDF text via pdftotext."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pytest

from forms.daily_report import CSV_HEADER, DailyReport, GermanCsv, daily_report_csv, render_daily_report
from forms.layout import IssuingOffice
from sync.statistics import day_figures, fold_events
from tests.forms.pdftools import pdf_text, write
from tests.sync.statistics_days import DAY
from tests.sync.test_statistics import HAND_BUILT_DAY, HAND_BUILT_LOGINS, at

if TYPE_CHECKING:
    from pathlib import Path

OFFICE = IssuingOffice(
    authority="Stadt Köln – Der Oberbürgermeister",
    name="Bürgeramt Mülheim",
    street="Wiener Platz 2a",
    postal_code_and_city="51065 Köln",
)
NAMES = {
    "d1": "Platz 1",
    "d2": "Platz 2",
    "s1": "Personalausweis",
    "s2": "Meldebescheinigung",
    "c1": "Frau Özdemir",
    "c2": "Herr Weiß",
}


@pytest.fixture
def report() -> DailyReport:
    return DailyReport(
        office=OFFICE,
        figures=day_figures(
            fold_events(HAND_BUILT_DAY), DAY, target_minutes=15, presence=HAND_BUILT_LOGINS, now=at(10, 45)
        ),
        same_weekday_last_week=day_figures([], date(2026, 2, 23), target_minutes=15),
        names=NAMES,
        issued_at=datetime(2026, 3, 2, 17, 0, tzinfo=UTC),
    )


def _rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), dialect=GermanCsv))


def test_the_csv_reads_back_in_the_german_dialect(report: DailyReport) -> None:
    data = daily_report_csv(report)
    assert data.decode("utf-8-sig").splitlines()[0] == ";".join(CSV_HEADER)
    rows = _rows(data)
    total = rows[0]
    assert (total["Datum"], total["Bereich"], total["Schlüssel"]) == ("02.03.2026", "Tag", "gesamt")
    # figures of the hand-built day, worked out by hand in tests/sync/test_statistics.py
    assert (total["Tickets"], total["Bedient"], total["Nicht erschienen"]) == ("6", "3", "1")
    assert total["Wartezeit Ø (min)"] == "14,5"
    assert total["Wartezeit max (min)"] == "25,0"
    assert total["Servicelevel (%)"] == "75,0"
    assert total["Nicht-erschienen-Quote (%)"] == "20,0"
    assert total["Pünktlichkeit Termine (%)"] == "50,0"
    assert total["Bearbeitungszeit Summe (min)"] == "41,0"  # 14 + 7 + 10 + 10
    by_key = {(r["Bereich"], r["Schlüssel"]): r for r in rows}
    assert by_key[("Stunde", "08")]["Tickets"] == "4"
    assert by_key[("Platz", "d1")]["Leerlauf (min)"] == "64,0"  # logged in 90 min, 2 walking, 24 serving
    assert by_key[("Platz", "d1")]["Name"] == "Platz 1"
    assert by_key[("Sachbearbeitung", "c1")]["Name"] == "Frau Özdemir"
    assert by_key[("Leistung", "s2")]["Pünktlichkeit Termine (%)"] == "100,0"
    last_week = by_key[("Vorwoche", "gesamt")]
    assert (last_week["Datum"], last_week["Tickets"], last_week["Wartezeit Ø (min)"]) == (
        "23.02.2026",
        "0",
        "",
    )


def test_csv_hours_sum_to_the_day(report: DailyReport) -> None:
    rows = _rows(daily_report_csv(report))
    hours = [r for r in rows if r["Bereich"] == "Stunde"]
    day = next(r for r in rows if r["Schlüssel"] == "gesamt")
    for column in ("Tickets", "Besuche", "Aufgerufen", "Bedient", "Nicht erschienen"):
        assert sum(int(r[column]) for r in hours) == int(day[column])


@pytest.mark.poppler
def test_the_pdf_shows_figures_chart_and_tables(report: DailyReport, tmp_path: Path) -> None:
    text = pdf_text(write(tmp_path, "tagesbericht.pdf", render_daily_report(report)))
    assert "Tagesbericht 02.03.2026" in text
    assert "Bürgeramt Mülheim" in text
    assert "Montag der Vorwoche, 23.02.2026" in text
    assert "Wartezeit Ø 14,5 min 11,5 min 17,5 min –" in text  # day, booked (23/2), walk-in (35/2), last week
    assert "Servicelevel 75,0 %" in text
    assert "Ankünfte und Bediente je Stunde" in text
    assert "grau: Ankünfte (Tickets)" in text
    assert "Wartezeit Ø nach Stunde der Ankunft: 08 Uhr 16,0 min · 09 Uhr 10,0 min" in text
    assert "Frau Özdemir" in text
    assert (
        "Platz 1 2 10,0 min 12,0 min 24,0 min 64,0 min" in text
    )  # d1: W1 waited 10, W1 + W2b served 14 + 10, idle 90 − 2 − 24
