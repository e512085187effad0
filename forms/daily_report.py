"""Tagesbericht: the office's figures of one day as an A4 PDF (with a chart per hour) and as CSV.

Both read the same `sync.statistics.DayFigures` (the one implementation of DESIGN §7's figures), so
PDF, CSV and the supervisor screen cannot disagree. The CSV is what German spreadsheets open without an
import dialog: `;` between fields, decimal comma, dates as dd.mm.yyyy, UTF-8 with a byte order mark.
Times are minutes with one decimal, shares are percent with one decimal; an empty field means "no
value" (e.g. no appointment was called, so there is no punctuality).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from babel.numbers import format_decimal

from forms.layout import (
    CONTENT_WIDTH_MM,
    FONT,
    MARGIN_MM,
    IssuingOffice,
    begin_document,
    check_printable,
    finish_document,
    format_date,
    heading,
    paragraph,
    table,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from datetime import datetime

    from fpdf import FPDF

    from sync.statistics import DayFigures, GroupFigures

__all__ = ["CSV_HEADER", "DailyReport", "GermanCsv", "daily_report_csv", "render_daily_report"]


class GermanCsv(csv.excel):
    """The dialect German Excel and LibreOffice read by default."""

    delimiter = ";"


@dataclass(frozen=True)
class DailyReport:
    office: IssuingOffice
    figures: DayFigures
    same_weekday_last_week: DayFigures
    names: Mapping[str, str]  # desk, service and clerk ids → names
    issued_at: datetime


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else format_decimal(seconds / 60, format="0.0", locale="de_DE")


def _percent(share: float | None) -> str:
    return "" if share is None else format_decimal(share * 100, format="0.0", locale="de_DE")


def _with_unit(text: str, unit: str) -> str:
    return f"{text} {unit}" if text else "–"


# --- CSV --------------------------------------------------------------------------------------------

CSV_HEADER = (
    "Datum",
    "Bereich",
    "Schlüssel",
    "Name",
    "Tickets",
    "Besuche",
    "Aufgerufen",
    "Bedient",
    "Nicht erschienen",
    "Wartezeit Ø (min)",
    "Wartezeit max (min)",
    "Servicelevel (%)",
    "Nicht-erschienen-Quote (%)",
    "Pünktlichkeit Termine (%)",
    "Wegezeit Ø (min)",
    "Bearbeitungszeit Ø (min)",
    "Bearbeitungszeit max (min)",
    "Bearbeitungszeit Summe (min)",
    "Leerlauf (min)",
)


def _csv_row(day: str, area: str, key: str, name: str, g: GroupFigures) -> list[str]:
    return [
        day,
        area,
        key,
        name,
        str(g.tickets),
        str(g.visits),
        str(g.called),
        str(g.served),
        str(g.no_shows),
        _minutes(g.waiting.mean),
        _minutes(g.waiting.maximum if g.waiting.count else None),
        _percent(g.service_level),
        _percent(g.no_show_rate),
        _percent(g.punctuality),
        _minutes(g.walk.mean),
        _minutes(g.service.mean),
        _minutes(g.service.maximum if g.service.count else None),
        _minutes(g.service.total),
        _minutes(g.idle_seconds) if area == "Platz" else "",
    ]


def _groups(figures: DayFigures, names: Mapping[str, str]) -> Iterator[tuple[str, str, str, GroupFigures]]:
    yield "Tag", "gesamt", "alle", figures.total
    yield "Tag", "termin", "mit Termin", figures.booked
    yield "Tag", "ohne-termin", "ohne Termin", figures.walk_in
    for hour, group in figures.hours.items():
        yield "Stunde", f"{hour:02d}", f"{hour:02d}–{(hour + 1) % 24:02d} Uhr", group
    for area, groups in (
        ("Platz", figures.desks),
        ("Leistung", figures.services),
        ("Sachbearbeitung", figures.clerks),
    ):
        for key, group in groups.items():
            yield area, key, names.get(key, key), group


def daily_report_csv(report: DailyReport) -> bytes:
    """One row per group of the day, then last week's weekday as a whole; UTF-8 with BOM."""
    out = io.StringIO()
    writer = csv.writer(out, dialect=GermanCsv)
    writer.writerow(CSV_HEADER)
    day = format_date(report.figures.day)
    for area, key, name, group in _groups(report.figures, report.names):
        writer.writerow(_csv_row(day, area, key, name, group))
    previous = report.same_weekday_last_week
    writer.writerow(_csv_row(format_date(previous.day), "Vorwoche", "gesamt", "alle", previous.total))
    return out.getvalue().encode("utf-8-sig")


# --- PDF --------------------------------------------------------------------------------------------

_ARRIVALS_GREY = 150
_SERVED_BLUE = (30, 90, 160)


def render_daily_report(report: DailyReport) -> bytes:
    check_printable(report.office)
    check_printable(list(report.names.values()))
    figures, previous = report.figures, report.same_weekday_last_week
    pdf = begin_document(f"Tagesbericht {format_date(figures.day)}", report.office, report.issued_at)
    paragraph(
        pdf,
        f"Zielwartezeit {figures.target_minutes} min. Zum Vergleich: "
        f"{_WEEKDAYS[previous.day.weekday()]} der Vorwoche, {format_date(previous.day)}.",
    )
    heading(pdf, "Kennzahlen")
    rows = [
        (label, value(figures.total), value(figures.booked), value(figures.walk_in), value(previous.total))
        for label, value in _KPIS
    ]
    table(
        pdf,
        ("Kennzahl", "Tag", "mit Termin", "ohne Termin", "Vorwoche"),
        rows,
        (58, 28, 28, 28, 28),
        (1, 2, 3, 4),
    )
    heading(pdf, "Ankünfte und Bediente je Stunde")
    _hour_chart(pdf, figures)
    for title, groups, with_idle in (
        ("Plätze", figures.desks, True),
        ("Leistungen", figures.services, False),
        ("Sachbearbeitung", figures.clerks, False),
    ):
        if pdf.get_y() > pdf.h - pdf.b_margin - 30:  # keep a heading with the start of its table
            pdf.add_page()
        heading(pdf, title)
        if not groups:
            paragraph(pdf, "Keine Angaben.")
            continue
        header = ["Name", "Bedient", "Wartezeit Ø", "Bearbeitung Ø", "Bearbeitung Σ"]
        if with_idle:
            header.append("Leerlauf")
        body = []
        for key, g in groups.items():
            cells = [
                report.names.get(key, key),
                str(g.served),
                _with_unit(_minutes(g.waiting.mean), "min"),
                _with_unit(_minutes(g.service.mean), "min"),
                _with_unit(_minutes(g.service.total), "min"),
            ]
            if with_idle:
                cells.append(_with_unit(_minutes(g.idle_seconds), "min"))
            body.append(cells)
        widths = (50, 20, 25, 25, 25, 25) if with_idle else (60, 25, 30, 27, 28)
        table(pdf, header, body, widths[: len(header)], tuple(range(1, len(header))))
    return finish_document(pdf)


_WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")

_KPIS: tuple[tuple[str, Callable[[GroupFigures], str]], ...] = (
    ("Tickets", lambda g: str(g.tickets)),
    ("Bedient", lambda g: str(g.served)),
    ("Nicht erschienen", lambda g: str(g.no_shows)),
    ("Wartezeit Ø", lambda g: _with_unit(_minutes(g.waiting.mean), "min")),
    ("Wartezeit max", lambda g: _with_unit(_minutes(g.waiting.maximum if g.waiting.count else None), "min")),
    ("Servicelevel", lambda g: _with_unit(_percent(g.service_level), "%")),
    ("Nicht-erschienen-Quote", lambda g: _with_unit(_percent(g.no_show_rate), "%")),
    ("Pünktlichkeit Termine", lambda g: _with_unit(_percent(g.punctuality), "%")),
    ("Wegezeit Ø", lambda g: _with_unit(_minutes(g.walk.mean), "min")),
    ("Bearbeitungszeit Ø", lambda g: _with_unit(_minutes(g.service.mean), "min")),
    (
        "Bearbeitungszeit max",
        lambda g: _with_unit(_minutes(g.service.maximum if g.service.count else None), "min"),
    ),
)


def _hour_chart(pdf: FPDF, figures: DayFigures, height_mm: float = 45.0) -> None:
    """Two bars per hour of arrival: tickets (grey) and served (blue), with the counts on top."""
    hours = figures.hours
    if not hours:
        paragraph(pdf, "Keine Ankünfte.")
        return
    if pdf.get_y() + height_mm + 20 > pdf.h - pdf.b_margin:
        pdf.add_page()
    top = pdf.get_y() + 4
    peak = max(g.tickets for g in hours.values()) or 1
    slot = CONTENT_WIDTH_MM / len(hours)
    bar = min(8.0, slot / 2.5)
    base = top + height_mm
    pdf.set_font(FONT, "", 7)
    for index, (hour, group) in enumerate(hours.items()):
        x = MARGIN_MM + index * slot + (slot - 2 * bar) / 2
        for offset, count, colour in (
            (0.0, group.tickets, (_ARRIVALS_GREY,) * 3),
            (bar, group.served, _SERVED_BLUE),
        ):
            h = height_mm * count / peak
            pdf.set_fill_color(*colour)
            if h > 0:
                pdf.rect(x + offset, base - h, bar, h, style="F")
            pdf.set_xy(x + offset, base - h - 3.5)
            pdf.cell(bar, 3.5, str(count), align="C")
        pdf.set_xy(x, base + 0.5)
        pdf.cell(2 * bar, 3.5, f"{hour:02d}", align="C")
    pdf.set_fill_color(255)  # the tables after the chart fill with the current colour
    pdf.set_draw_color(0)
    pdf.line(MARGIN_MM, base, MARGIN_MM + CONTENT_WIDTH_MM, base)
    pdf.set_xy(MARGIN_MM, base + 5)
    pdf.set_font(FONT, "", 8)
    pdf.cell(
        CONTENT_WIDTH_MM,
        4,
        "Uhrzeit der Ankunft · grau: Ankünfte (Tickets) · blau: davon bedient",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    waits = " · ".join(
        f"{hour:02d} Uhr {_with_unit(_minutes(g.waiting.mean), 'min')}" for hour, g in hours.items()
    )
    pdf.multi_cell(
        CONTENT_WIDTH_MM, 4, f"Wartezeit Ø nach Stunde der Ankunft: {waits}", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font(FONT, "", 10)
    pdf.ln(2)
