"""Quittung: the receipt for fees paid at the desk, A4, PDF/A-2u.

Amounts are integer cents (never floats). The total is written out in words above 100 € (num2words),
as cash offices do against altered figures. The Kassenzeichen arrives as issued by
`sync.kassenzeichen` (the receipt prints it; issuing and checking it is that module's job).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime  # noqa: TC003  (pydantic's TypeAdapter resolves the fields at run time)
from enum import StrEnum

from forms.layout import (
    CONTENT_WIDTH_MM,
    FONT,
    IssuingOffice,
    begin_document,
    check_printable,
    field_rows,
    finish_document,
    format_euro,
    format_local_datetime,
    paragraph,
    require_aware,
    table,
)

WORDS_ABOVE_CENTS = 100_00


class PaymentMethod(StrEnum):
    CARD = "ec"
    CASH = "cash"

    @property
    def label(self) -> str:
        return {"ec": "EC-Karte (girocard)", "cash": "Barzahlung"}[self.value]


@dataclass(frozen=True)
class ReceiptLine:
    service: str
    fee_cents: int  # per unit
    quantity: int = 1

    @property
    def amount_cents(self) -> int:
        return self.fee_cents * self.quantity


@dataclass(frozen=True)
class Receipt:
    office: IssuingOffice
    cash_office: str  # the Zahlstelle that books the payment, e.g. "Stadtkasse Köln, Zahlstelle 12"
    kassenzeichen: str  # formatted, e.g. "5101-0004711-8"
    payer: str
    lines: tuple[ReceiptLine, ...]
    payment_method: PaymentMethod
    paid_at: datetime  # timezone-aware
    place: str  # e.g. "Köln"
    clerk_initials: str

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


def total_in_words(cents: int) -> str:
    """'einhundertsiebenunddreißig Euro und fünfzig Cent'."""
    euros, rest = divmod(cents, 100)
    from num2words import num2words  # at render time: the library loads every language's module

    words = f"{num2words(euros, lang='de')} Euro"
    return f"{words} und {num2words(rest, lang='de')} Cent" if rest else words


def render_receipt(receipt: Receipt) -> bytes:
    _check(receipt)
    pdf = begin_document("Quittung", receipt.office, receipt.paid_at)
    field_rows(
        pdf,
        [
            ("Kassenzeichen", receipt.kassenzeichen),
            ("Einzahler/in", receipt.payer),
            ("Zahlstelle", receipt.cash_office),
        ],
    )
    pdf.ln(4)
    rows = [
        (line.service, str(line.quantity), format_euro(line.fee_cents), format_euro(line.amount_cents))
        for line in receipt.lines
    ]
    table(
        pdf,
        ("Leistung", "Anzahl", "Gebühr", "Betrag"),
        rows,
        col_widths=(90, 20, 30, 30),
        right_aligned=(1, 2, 3),
    )
    pdf.ln(2)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(
        CONTENT_WIDTH_MM,
        7,
        f"Gesamtbetrag: {format_euro(receipt.total_cents)}",
        align="R",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if receipt.total_cents > WORDS_ABOVE_CENTS:
        paragraph(pdf, f"in Worten: {total_in_words(receipt.total_cents)}")
    pdf.ln(4)
    field_rows(
        pdf,
        [
            ("Zahlungsart", receipt.payment_method.label),
            ("Ort, Datum", f"{receipt.place}, {format_local_datetime(receipt.paid_at)}"),
            ("Kassierer/in (Kürzel)", receipt.clerk_initials),
        ],
    )
    pdf.ln(6)
    paragraph(
        pdf,
        f"Betrag dankend erhalten. Bitte geben Sie bei Rückfragen das Kassenzeichen "
        f"{receipt.kassenzeichen} an.",
        size=9,
    )
    return finish_document(pdf)


def _check(receipt: Receipt) -> None:
    require_aware(receipt.paid_at, "paid_at")
    if not receipt.lines:
        raise ValueError("a receipt needs at least one line")
    if any(line.fee_cents < 0 or line.quantity < 1 for line in receipt.lines):
        raise ValueError("fees must not be negative and quantities at least 1")
    if not receipt.kassenzeichen.strip() or not receipt.clerk_initials.strip():
        raise ValueError("kassenzeichen and clerk_initials must not be empty")
    check_printable(receipt)
