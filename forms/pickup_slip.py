"""Abholschein: the slip for picking up a new ID document, A4, PDF/A-2u.

It carries the number the citizen checks the production status with, the pickup code (also as a QR
code the desk scans) and a proxy section: whoever picks up on the citizen's behalf signs there and
confirms whether the PIN letter (PIN-Brief) was received.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime  # noqa: TC003  (pydantic's TypeAdapter resolves the fields at run time)
from typing import TYPE_CHECKING

from forms.layout import (
    CONTENT_WIDTH_MM,
    MARGIN_MM,
    PAGE_WIDTH_MM,
    IssuingOffice,
    begin_document,
    bullet_list,
    check_printable,
    field_rows,
    fill_in_rows,
    finish_document,
    format_date,
    heading,
    paragraph,
    qr_code,
    signature_line,
)

if TYPE_CHECKING:
    from forms._document import Document

QR_SIZE_MM = 32.0
CHECKBOX_MM = 4.0


@dataclass(frozen=True)
class PickupSlip:
    office: IssuingOffice
    document_kind: str  # e.g. "Personalausweis"
    applicant_name: str
    applied_on: date
    status_check_number: str  # the number the citizen enters in the online status check
    pickup_code: str  # printed and encoded in the QR code
    issued_at: datetime
    ready_from: date | None = None
    status_url: str | None = None
    bring_along: tuple[str, ...] = ("diesen Abholschein", "Ihr bisheriges Ausweisdokument")


def render_pickup_slip(slip: PickupSlip) -> bytes:
    if not slip.pickup_code.strip() or not slip.status_check_number.strip():
        raise ValueError("pickup_code and status_check_number must not be empty")
    check_printable(slip)
    pdf = begin_document(f"Abholschein – {slip.document_kind}", slip.office, slip.issued_at)
    qr_top = pdf.get_y()
    qr_code(pdf, slip.pickup_code, x=PAGE_WIDTH_MM - MARGIN_MM - QR_SIZE_MM, y=qr_top, size_mm=QR_SIZE_MM)
    field_rows(
        pdf,
        [
            ("Antragsteller/in", slip.applicant_name),
            ("Beantragt am", format_date(slip.applied_on)),
            ("Abholbereit ab", format_date(slip.ready_from) if slip.ready_from else "nach Benachrichtigung"),
            ("Nummer für die Statusabfrage", slip.status_check_number),
            ("Abholcode", slip.pickup_code),
        ],
    )
    pdf.set_y(max(pdf.get_y(), qr_top + QR_SIZE_MM) + 2)
    if slip.status_url:
        paragraph(
            pdf,
            f"Ob Ihr Dokument abholbereit ist, sehen Sie unter {slip.status_url} "
            f"mit der Nummer {slip.status_check_number}.",
            size=9,
        )
    heading(pdf, "Zur Abholung bitte mitbringen")
    bullet_list(pdf, slip.bring_along)

    pdf.ln(4)
    heading(pdf, "Abholung durch eine bevollmächtigte Person")
    paragraph(
        pdf,
        "Hiermit bevollmächtige ich die unten genannte Person, mein Dokument abzuholen. "
        "Die bevollmächtigte Person weist sich mit ihrem eigenen gültigen Ausweis aus.",
        size=9,
    )
    pdf.ln(2)
    fill_in_rows(pdf, ("Name der/des Bevollmächtigten", "Geburtsdatum", "Ausweisnummer"))
    pdf.ln(2)
    _checkbox(
        pdf, "PIN-Brief erhalten: Ich bestätige, dass mir der PIN-Brief zu diesem Dokument zugegangen ist."
    )
    signature_line(pdf, "Ort, Datum, Unterschrift der antragstellenden Person")
    signature_line(pdf, "Ort, Datum, Unterschrift der bevollmächtigten Person")
    return finish_document(pdf)


def _checkbox(pdf: Document, label: str) -> None:
    y = pdf.get_y()
    pdf.rect(MARGIN_MM, y + 0.8, CHECKBOX_MM, CHECKBOX_MM)
    pdf.set_x(MARGIN_MM + CHECKBOX_MM + 2)
    pdf.multi_cell(CONTENT_WIDTH_MM - CHECKBOX_MM - 2, 5.5, label, new_x="LMARGIN", new_y="NEXT")
