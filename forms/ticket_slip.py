"""Wartenummer slip: the ticket a citizen takes at the kiosk or desk, printed on an 80 mm receipt printer.

fpdf2's core Helvetica is Latin-1 only (no €), so the slip embeds DejaVu Sans Condensed shipped in
forms/fonts/ (narrow, good on receipts; fpdf2 subsets it, the PDF stays small) and needs no system font.
Text the font has no glyph for is rejected up front with the field's name instead of printing blanks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime  # noqa: TC003  (pydantic's TypeAdapter resolves the fields at run time)
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

from forms.layout import OFFICE_TIME_ZONE, add_fonts, check_printable, qr_code

PAGE_WIDTH_MM = 80.0
MARGIN_MM = 4.0
CONTENT_WIDTH_MM = PAGE_WIDTH_MM - 2 * MARGIN_MM
# The first pass lays the slip out on a long strip; the second uses the measured height.
DRAFT_HEIGHT_MM = 600.0
QR_SIZE_MM = 32.0
TICKET_NUMBER_MAX_PT = 56.0
TICKET_NUMBER_MIN_PT = 20.0
FONT = "SlipSans"

PRIVACY_NOTE = "Datenschutz: Dieser Beleg enthält keine personenbezogenen Daten."


@dataclass(frozen=True)
class TicketSlip:
    """Everything printed on one slip; plain values so any caller (kiosk, desk, central) can fill it."""

    office_name: str
    ticket_number: str
    services: tuple[str, ...]
    issued_at: datetime  # timezone-aware; printed in Europe/Berlin
    status_url: str  # encoded in the QR code so the citizen can follow the queue on the phone
    position_in_queue: int | None = None  # 1 = next to be called
    expected_wait_minutes: int | None = None


def render_ticket_slip(slip: TicketSlip) -> bytes:
    """Return the slip as a one-page PDF, 80 mm wide and as long as its content."""
    _check_printable(slip)
    draft = _new_pdf(DRAFT_HEIGHT_MM)
    _draw(draft, slip)
    height = draft.get_y() + MARGIN_MM
    pdf = _new_pdf(height)
    _draw(pdf, slip)
    pdf.set_creation_date(slip.issued_at)  # same slip, same bytes
    return bytes(pdf.output())


def format_issue_time(issued_at: datetime) -> str:
    """German date and time in the office's zone, e.g. '14.03.2025, 09:07 Uhr'."""
    if issued_at.tzinfo is None or issued_at.utcoffset() is None:
        raise ValueError("issued_at must be timezone-aware")
    local = issued_at.astimezone(OFFICE_TIME_ZONE)
    return f"{local:%d.%m.%Y}, {local:%H:%M} Uhr"


def format_expected_wait(minutes: int) -> str:
    """Rounded, German wait hint; a slip promises no exact minute."""
    if minutes < 5:
        return "weniger als 5 Minuten"
    rounded = 5 * round(minutes / 5)
    if rounded < 60:
        return f"ca. {rounded} Minuten"
    hours, rest = divmod(15 * round(minutes / 15), 60)
    return f"ca. {hours} Std. {rest} Min." if rest else f"ca. {hours} Std."


def _check_printable(slip: TicketSlip) -> None:
    check_printable(slip)
    if not slip.ticket_number.strip():
        raise ValueError("ticket_number must not be empty")
    if not slip.status_url:
        raise ValueError("status_url must not be empty")


def _new_pdf(height_mm: float) -> FPDF:
    from fpdf import FPDF  # drawn here only: importing the slip's data class stays light

    pdf = FPDF(unit="mm", format=(PAGE_WIDTH_MM, height_mm))
    add_fonts(pdf, FONT)
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(False)
    pdf.set_title("Wartenummer")
    pdf.set_creator("Tresen")
    pdf.add_page()
    return pdf


def _draw(pdf: FPDF, slip: TicketSlip) -> None:
    pdf.set_font(FONT, "B", 12)
    pdf.multi_cell(CONTENT_WIDTH_MM, 5.5, slip.office_name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FONT, "", 10)
    pdf.cell(CONTENT_WIDTH_MM, 5, "Ihre Wartenummer", align="C", new_x="LMARGIN", new_y="NEXT")
    _draw_ticket_number(pdf, slip.ticket_number)
    pdf.ln(1)

    pdf.set_font(FONT, "B", 10)
    pdf.cell(CONTENT_WIDTH_MM, 5, "Anliegen", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    for service in slip.services:
        pdf.multi_cell(CONTENT_WIDTH_MM, 4.5, f"- {service}", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    pdf.cell(
        CONTENT_WIDTH_MM, 5, f"Ausgegeben: {format_issue_time(slip.issued_at)}", new_x="LMARGIN", new_y="NEXT"
    )
    if slip.position_in_queue is not None:
        pdf.cell(
            CONTENT_WIDTH_MM,
            5,
            f"Platz in der Warteschlange: {slip.position_in_queue}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    if slip.expected_wait_minutes is not None:
        pdf.cell(
            CONTENT_WIDTH_MM,
            5,
            f"Voraussichtliche Wartezeit: {format_expected_wait(slip.expected_wait_minutes)}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(3)

    _draw_status_qr(pdf, slip.status_url)
    pdf.set_font(FONT, "", 8)
    pdf.multi_cell(
        CONTENT_WIDTH_MM,
        3.8,
        "Wartestand auf dem Smartphone: QR-Code scannen.",
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    pdf.multi_cell(CONTENT_WIDTH_MM, 3.8, PRIVACY_NOTE, align="C", new_x="LMARGIN", new_y="NEXT")


def _draw_ticket_number(pdf: FPDF, ticket_number: str) -> None:
    """Largest size that still fits the width, so long numbers shrink instead of wrapping."""
    size = TICKET_NUMBER_MAX_PT
    pdf.set_font(FONT, "B", size)
    while pdf.get_string_width(ticket_number) > CONTENT_WIDTH_MM and size > TICKET_NUMBER_MIN_PT:
        size -= 2
        pdf.set_font(FONT, "B", size)
    line_height = size * 0.3528 * 1.1  # points to millimetres, with a little leading
    pdf.cell(CONTENT_WIDTH_MM, line_height, ticket_number, align="C", new_x="LMARGIN", new_y="NEXT")


def _draw_status_qr(pdf: FPDF, status_url: str) -> None:
    x = MARGIN_MM + (CONTENT_WIDTH_MM - QR_SIZE_MM) / 2
    qr_code(pdf, status_url, x=x, y=pdf.get_y(), size_mm=QR_SIZE_MM)
    pdf.set_y(pdf.get_y() + QR_SIZE_MM + 1)
