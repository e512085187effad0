"""The shared A4 layout of Tresen's documents: fonts, letterhead, footer, field rows, tables, QR codes.

Every A4 template draws through this module, so the letterhead, the footer and the formats of money
and dates exist once. Documents are PDF/A-2u (fpdf2's `enforce_compliance`: XMP identification, an
sRGB output intent, embedded fonts), so an office can archive them as they were printed.

The DejaVu fonts are bundled in forms/fonts/ (fpdf2 subsets them); text the fonts have no glyph for
is refused before drawing, naming the field, instead of printing blanks.
"""

from __future__ import annotations

import copy
import dataclasses
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from datetime import date, datetime

    from fpdf import FPDF

    from forms._document import Document

# fpdf2, fontTools and segno are imported where a document is drawn, not here: the core imports the
# forms' data classes (a receipt, a slip) on the clerk's start path, and the PDF stack costs some
# 200 ms to import (docs/benchmarks.md, cold start).

OFFICE_TIME_ZONE = ZoneInfo("Europe/Berlin")

FONT = "TresenSans"
FONT_DIR = Path(__file__).parent / "fonts"
FONT_FILES = {"": FONT_DIR / "DejaVuSansCondensed.ttf", "B": FONT_DIR / "DejaVuSansCondensed-Bold.ttf"}

PAGE_WIDTH_MM = 210.0
MARGIN_MM = 20.0
CONTENT_WIDTH_MM = PAGE_WIDTH_MM - 2 * MARGIN_MM
LABEL_WIDTH_MM = 62.0
LINE_MM = 5.5
FOOTER_MM = 18.0
PDF_A = "PDF/A-2U"


@cache
def _parsed_faces(family: str) -> dict[str, Any]:
    """The fonts as fpdf2 parses them (metrics, cmap, glyph ids), once per process and family."""
    from fpdf import FPDF

    scratch = FPDF()
    for style, path in FONT_FILES.items():
        scratch.add_font(family, style, path)
    return dict(scratch.fonts)


def add_fonts(pdf: FPDF, family: str = FONT) -> None:
    """Tresen's fonts in `pdf`, from the faces parsed once per process (`_parsed_faces`).

    fpdf2 parses a font file for every document (a third of a receipt's render time, see
    docs/benchmarks.md). Its per-document state is made afresh here: the font object (its number in
    this document, the used-glyph subset, the largest size) and the fontTools font itself, which
    the subsetting at output changes in place. The parsed metrics and maps are shared (read only).
    """
    from fontTools.ttLib import TTFont
    from fpdf.fonts import SubsetMap

    for key, parsed in _parsed_faces(family).items():
        face = copy.copy(parsed)
        face.i = len(pdf.fonts) + 1
        face.ttfont = TTFont(parsed.ttffile, recalcTimestamp=False, lazy=True)
        face.cw = parsed.cw.copy()  # a defaultdict: a lookup may add to it
        face.missing_glyphs = []
        face.biggest_size_pt = 0
        face._hbfont = None
        face.subset = SubsetMap(face)
        pdf.fonts[key] = face


@dataclass(frozen=True)
class IssuingOffice:
    """The office named in the letterhead of every document."""

    authority: str  # e.g. "Stadt Köln – Der Oberbürgermeister"
    name: str  # e.g. "Bürgeramt Mülheim"
    street: str
    postal_code_and_city: str
    phone: str | None = None
    email: str | None = None


def begin_document(title: str, office: IssuingOffice, issued_at: datetime) -> Document:
    """A new document with its first page, letterhead and title; `issued_at` fixes the PDF dates."""
    from forms._document import Document

    require_aware(issued_at, "issued_at")
    pdf = Document(title, office)
    pdf.set_creation_date(issued_at)  # the same document renders to the same bytes
    pdf.add_page()
    pdf.set_font(FONT, "", 9)
    pdf.cell(CONTENT_WIDTH_MM, 4.5, office.authority, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 12)
    pdf.cell(CONTENT_WIDTH_MM, 6, office.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    pdf.cell(
        CONTENT_WIDTH_MM,
        4.5,
        f"{office.street} · {office.postal_code_and_city}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(10)
    pdf.set_font(FONT, "B", 18)
    pdf.multi_cell(CONTENT_WIDTH_MM, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(FONT, "", 10)
    return pdf


def finish_document(pdf: Document) -> bytes:
    return bytes(pdf.output())


def heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(CONTENT_WIDTH_MM, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)


def paragraph(pdf: FPDF, text: str, size: float = 10) -> None:
    pdf.set_font(FONT, "", size)
    pdf.multi_cell(CONTENT_WIDTH_MM, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)


def field_rows(pdf: FPDF, rows: Sequence[tuple[str, str]]) -> None:
    """Label on the left, value beside it; long values wrap within their column."""
    for label, value in rows:
        pdf.set_font(FONT, "B", 10)
        top = pdf.get_y()
        pdf.multi_cell(LABEL_WIDTH_MM, LINE_MM, label, new_x="RIGHT", new_y="TOP")
        pdf.set_font(FONT, "", 10)
        pdf.multi_cell(
            CONTENT_WIDTH_MM - LABEL_WIDTH_MM, LINE_MM, value or "–", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_y(max(pdf.get_y(), top + LINE_MM))


def fill_in_rows(pdf: FPDF, labels: Sequence[str]) -> None:
    """Labels with a ruled blank beside each, for a citizen to write on."""
    for label in labels:
        pdf.set_font(FONT, "B", 10)
        pdf.cell(LABEL_WIDTH_MM, LINE_MM + 3, label, new_x="RIGHT", new_y="TOP")
        bottom = pdf.get_y() + LINE_MM + 2
        pdf.set_draw_color(0)
        pdf.line(MARGIN_MM + LABEL_WIDTH_MM, bottom, PAGE_WIDTH_MM - MARGIN_MM, bottom)
        pdf.ln(LINE_MM + 3)
    pdf.set_font(FONT, "", 10)


def bullet_list(pdf: FPDF, items: Sequence[str]) -> None:
    for item in items:
        pdf.multi_cell(CONTENT_WIDTH_MM, LINE_MM, f"• {item}", new_x="LMARGIN", new_y="NEXT")


def table(
    pdf: FPDF,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    col_widths: Sequence[float],
    right_aligned: Sequence[int] = (),
) -> None:
    """A ruled table; the columns named in `right_aligned` hold amounts."""
    align = tuple("RIGHT" if index in right_aligned else "LEFT" for index in range(len(header)))
    with pdf.table(
        col_widths=tuple(col_widths),
        text_align=align,
        line_height=LINE_MM + 1,
        first_row_as_headings=True,
        borders_layout="HORIZONTAL_LINES",
    ) as drawn:
        for cells in (header, *rows):
            row = drawn.row()
            for cell in cells:
                row.cell(cell)


def signature_line(pdf: FPDF, caption: str, width_mm: float = 80.0) -> None:
    pdf.ln(12)
    y = pdf.get_y()
    pdf.set_draw_color(0)
    pdf.line(pdf.get_x(), y, pdf.get_x() + width_mm, y)
    pdf.set_font(FONT, "", 8)
    pdf.cell(width_mm, 4, caption, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)


def qr_code(pdf: FPDF, payload: str, x: float, y: float, size_mm: float) -> None:
    # One pixel per module, quiet zone included: the PDF scales it without resampling blur.
    import segno

    png = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(png, kind="png", scale=1, border=4)
    png.seek(0)
    pdf.image(png, x=x, y=y, w=size_mm, h=size_mm)


def format_euro(cents: int) -> str:
    """German amount, e.g. 123456 → '1.234,56 €'."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}{euros:,}".replace(",", ".") + f",{rest:02d} €"


def format_date(day: date) -> str:
    return f"{day:%d.%m.%Y}"


def format_local_datetime(moment: datetime) -> str:
    """German date and time in the office's zone, e.g. '14.03.2025, 09:07 Uhr'."""
    local = require_aware(moment, "time").astimezone(OFFICE_TIME_ZONE)
    return f"{local:%d.%m.%Y}, {local:%H:%M} Uhr"


def require_aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment


def check_printable(data: object) -> None:
    """Refuse any text in a template's data the fonts cannot print, naming the field."""
    printable = printable_code_points()
    for name, text in _text_fields(data, ""):
        if any(ord(char) not in printable for char in text if not char.isspace()):
            raise ValueError(f"{name} holds characters the document font cannot print")


def _text_fields(value: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _text_fields(getattr(value, field.name), f"{path}.{field.name}".lstrip("."))
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            yield from _text_fields(item, f"{path}[{index}]")


@cache
def printable_code_points() -> frozenset[int]:
    """Code points both bundled fonts have a glyph for."""
    from fontTools.ttLib import TTFont

    sets = [set(TTFont(path, lazy=True).getBestCmap()) for path in FONT_FILES.values()]
    return frozenset(set.intersection(*sets))
