"""The A4 document of Tresen's forms: fpdf2's page with the office's footer (`forms.layout`
draws the letterhead and the content). Its own module so that importing a form's data classes
does not import fpdf2."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fpdf import FPDF

from forms import layout
from forms.layout import CONTENT_WIDTH_MM, FONT, FOOTER_MM, MARGIN_MM, PAGE_WIDTH_MM, PDF_A

if TYPE_CHECKING:
    from forms.layout import IssuingOffice


class Document(FPDF):
    """An A4 page with Tresen's footer; the letterhead is drawn by `begin_document`."""

    def __init__(self, title: str, office: IssuingOffice) -> None:
        super().__init__(unit="mm", format="A4", enforce_compliance=PDF_A)
        self.document_title = title
        self.office = office
        layout.add_fonts(self)  # looked up at call time: tests and the bench replace it
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self.set_auto_page_break(True, margin=FOOTER_MM + 4)
        self.set_title(title)
        self.set_author(office.name)
        self.set_creator("Tresen")
        self.set_lang("de-DE")

    def footer(self) -> None:
        self.set_y(-FOOTER_MM)
        self.set_font(FONT, "", 8)
        self.set_draw_color(160)
        self.line(MARGIN_MM, self.get_y(), PAGE_WIDTH_MM - MARGIN_MM, self.get_y())
        self.ln(1.5)
        contact = " · ".join(part for part in (self.office.phone, self.office.email) if part)
        left = f"{self.office.name}, {self.office.street}, {self.office.postal_code_and_city}"
        self.cell(CONTENT_WIDTH_MM * 0.8, 4, left, new_x="LEFT", new_y="TOP")
        self.cell(
            CONTENT_WIDTH_MM,
            4,
            f"Seite {self.page_no()} von {{nb}}",
            align="R",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        if contact:
            self.cell(CONTENT_WIDTH_MM, 4, contact, new_x="LMARGIN", new_y="NEXT")
