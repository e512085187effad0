"""The A4 documents render real PDF/A files; content is read back with poppler, not compared as bytes."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forms.appointment_confirmation import AppointmentConfirmation, format_slot
from forms.layout import format_euro
from forms.pickup_slip import PickupSlip, render_pickup_slip
from forms.receipt import PaymentMethod, Receipt, ReceiptLine, render_receipt, total_in_words
from forms.registration import (
    Address,
    DwellingKind,
    ExtendedRegisterData,
    RegisteredPerson,
    RegistrationCertificate,
    RegistrationConfirmation,
    render_registration_certificate,
    render_registration_confirmation,
)
from forms.templates import TEMPLATES
from tests.forms.pdftools import embedded_fonts, pdf_text, run, write, xmp_metadata

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.poppler


def example(name: str) -> object:
    return TEMPLATES[name].parse(TEMPLATES[name].example())


def receipt(**changes: Any) -> Receipt:
    base = example("quittung")
    assert isinstance(base, Receipt)
    return dataclasses.replace(base, **changes)


def certificate(**changes: Any) -> RegistrationCertificate:
    base = example("meldebescheinigung")
    assert isinstance(base, RegistrationCertificate)
    return dataclasses.replace(base, **changes)


# --- Quittung ---------------------------------------------------------------------------------


def test_receipt_shows_payer_lines_total_method_place_clerk_and_kassenzeichen(tmp_path: Path) -> None:
    text = pdf_text(write(tmp_path, "q.pdf", render_receipt(receipt())))
    assert "Quittung" in text
    assert "Kassenzeichen 5101-0004711-8" in text
    assert "Einzahler/in Erika Mustermann" in text
    assert "Personalausweis (ab 24 Jahre) 1 37,00 € 37,00 €" in text
    assert "Meldebescheinigung 2 10,00 € 20,00 €" in text
    assert "Gesamtbetrag: 127,00 €" in text
    assert "in Worten: einhundertsiebenundzwanzig Euro" in text
    assert "Zahlungsart EC-Karte (girocard)" in text
    assert "Köln, 14.03.2025, 09:07 Uhr" in text
    assert "Kassierer/in (Kürzel) TM" in text
    assert "Stadtkasse Köln, Zahlstelle Bürgeramt Mülheim" in text


def test_total_in_words_only_above_100_euro(tmp_path: Path) -> None:
    exactly_100 = receipt(lines=(ReceiptLine("Reisepass", 10000),), payment_method=PaymentMethod.CASH)
    text = pdf_text(write(tmp_path, "q.pdf", render_receipt(exactly_100)))
    assert "Gesamtbetrag: 100,00 €" in text
    assert "in Worten" not in text
    assert "Zahlungsart Barzahlung" in text

    above = receipt(lines=(ReceiptLine("Reisepass Express", 10050),))
    assert "in Worten: einhundert Euro und fünfzig Cent" in pdf_text(
        write(tmp_path, "q.pdf", render_receipt(above))
    )


@given(st.integers(min_value=0, max_value=10**9))
def test_euro_format_reads_back_to_the_cents(cents: int) -> None:
    text = format_euro(cents)
    assert re.fullmatch(r"\d{1,3}(\.\d{3})*,\d\d €", text)
    assert int(text.removesuffix(" €").replace(".", "").replace(",", "")) == cents


def test_total_in_words_examples() -> None:
    assert total_in_words(123456) == "eintausendzweihundertvierunddreißig Euro und sechsundfünfzig Cent"
    assert total_in_words(10100) == "einhunderteins Euro"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lines": ()}, "at least one line"),
        ({"lines": (ReceiptLine("x", -1),)}, "negative"),
        ({"clerk_initials": " "}, "must not be empty"),
        ({"paid_at": datetime(2025, 3, 14, 9, 7)}, "timezone-aware"),
        ({"payer": "Erika \U0001f3e0"}, r"^payer holds characters"),
    ],
)
def test_receipt_refuses_bad_data(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_receipt(receipt(**changes))


# --- Meldebescheinigung / Meldebestätigung ----------------------------------------------------


def test_simple_certificate_holds_the_section_18_fields(tmp_path: Path) -> None:
    text = pdf_text(write(tmp_path, "m.pdf", render_registration_certificate(certificate(extended=None))))
    assert "Meldebescheinigung" in text
    assert "Erweiterte" not in text
    assert "Familienname Mustermann" in text
    assert "Vornamen Erika Maria Anna" in text
    assert "Rufname Maria" in text
    assert "Doktorgrad Dr." in text
    assert "Geburtsdatum 12.08.1983" in text
    assert "Hauptwohnung Heidestraße 17, 51147 Köln" in text
    assert "Nebenwohnung Am Markt 1, 53111 Bonn" in text
    assert "Geburtsort" not in text  # only the extended form carries more


def underlines(pdf: bytes) -> list[tuple[float, float]]:
    """(x, width) in points of the filled rectangles fpdf2 draws as underlines on page 1."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    page = PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Kids"][0]
    content = page["/Contents"].data.decode("latin-1")
    return [
        (float(x), float(width))
        for x, _, width, height in re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) (-?[\d.]+) re f", content)
    ]


def test_rufname_is_underlined_and_only_it() -> None:
    person = certificate().person
    first = underlines(
        render_registration_certificate(certificate(person=dataclasses.replace(person, call_name="Erika")))
    )
    second = underlines(render_registration_certificate(certificate()))  # Rufname Maria
    assert len(first) == 1
    assert len(second) == 1
    value_column_pt = (20 + 62) * 72 / 25.4  # margin + label column, in points
    assert first[0][0] == pytest.approx(value_column_pt, abs=3.5)  # Erika opens the line (after cell padding)
    assert second[0][0] > first[0][0] + first[0][1]  # Maria comes after "Erika "
    assert first[0][1] != pytest.approx(second[0][1], abs=0.1)  # each as wide as its name


def test_extended_certificate_adds_register_data(tmp_path: Path) -> None:
    text = pdf_text(write(tmp_path, "m.pdf", render_registration_certificate(certificate())))
    assert "Erweiterte Meldebescheinigung" in text
    assert "Geburtsort Berlin" in text
    assert "Frühere Namen Gabler" in text
    assert "Staatsangehörigkeiten deutsch" in text
    assert "Frühere Anschriften Lindenallee 3, 10115 Berlin" in text


def test_main_dwelling_is_listed_first_and_must_be_unique() -> None:
    main = Address("Heidestraße 17", "51147", "Köln")
    second = Address("Am Markt 1", "53111", "Bonn", DwellingKind.SECONDARY)
    with pytest.raises(ValueError, match="exactly one Hauptwohnung"):
        render_registration_certificate(certificate(addresses=(second,)))
    with pytest.raises(ValueError, match="exactly one Hauptwohnung"):
        render_registration_certificate(certificate(addresses=(main, main)))


def test_rufname_must_be_one_of_the_first_names() -> None:
    person = RegisteredPerson("Mustermann", ("Erika",), "Maria", date(1983, 8, 12))
    with pytest.raises(ValueError, match="call_name"):
        render_registration_certificate(certificate(person=person))


def test_confirmation_shows_the_move_in_date(tmp_path: Path) -> None:
    confirmation = example("meldebestaetigung")
    assert isinstance(confirmation, RegistrationConfirmation)
    text = pdf_text(write(tmp_path, "b.pdf", render_registration_confirmation(confirmation)))
    assert "Meldebestätigung" in text
    assert "am 14.03.2025 bei der Meldebehörde angemeldet" in text
    assert "Familienname Yılmaz" in text
    assert "Vornamen Ayşe Zeynep" in text
    assert "Hauptwohnung Frankfurter Straße 120, 51065 Köln" in text
    assert "Einzugsdatum 01.03.2025" in text


# --- Abholschein, Terminbestätigung ---------------------------------------------------------


def test_pickup_slip_has_numbers_qr_and_proxy_section(tmp_path: Path) -> None:
    slip = example("abholschein")
    assert isinstance(slip, PickupSlip)
    path = write(tmp_path, "a.pdf", render_pickup_slip(slip))
    text = pdf_text(path)
    assert "Abholschein – Personalausweis" in text
    assert "Nummer für die Statusabfrage L01X00T47" in text
    assert "Abholcode ABH-7Q4K-2M9P" in text
    assert "Abholbereit ab 04.04.2025" in text
    assert "Abholung durch eine bevollmächtigte Person" in text
    assert "PIN-Brief erhalten" in text
    assert "Unterschrift der bevollmächtigten Person" in text
    images = [row.split() for row in run("pdfimages", "-list", str(path)).splitlines()[2:] if row.strip()]
    assert len(images) == 1
    assert images[0][3] == images[0][4]  # the square QR code


def test_pickup_qr_encodes_the_pickup_code(tmp_path: Path) -> None:
    # The QR image in the PDF is exactly segno's matrix for the code (one pixel per module).
    import segno
    from PIL import Image

    slip = example("abholschein")
    assert isinstance(slip, PickupSlip)
    path = write(tmp_path, "a.pdf", render_pickup_slip(slip))
    run("pdfimages", "-png", str(path), str(tmp_path / "img"))
    image = Image.open(next(tmp_path.glob("img-*.png"))).convert("1")
    expected = segno.make(slip.pickup_code, error="m", micro=False)
    matrix = [[not image.getpixel((x, y)) for x in range(image.width)] for y in range(image.height)]
    assert matrix == [[bool(module) for module in row] for row in expected.matrix_iter(border=4)]


def test_appointment_confirmation(tmp_path: Path) -> None:
    confirmation = example("terminbestaetigung")
    assert isinstance(confirmation, AppointmentConfirmation)
    text = pdf_text(write(tmp_path, "t.pdf", TEMPLATES["terminbestaetigung"].render_data(confirmation)))
    assert "Terminbestätigung" in text
    assert "Termin Freitag, 14.03.2025, 09:20–09:40 Uhr" in text
    assert "Vorgangsnummer T-2025-03-0815" in text
    assert "• Personalausweis beantragen" in text
    assert "• Geburtsurkunde bei erstmaliger Beantragung" in text


def test_slot_is_shown_in_berlin_time() -> None:
    assert format_slot(datetime(2025, 7, 1, 6, 0, tzinfo=UTC), 30) == "Dienstag, 01.07.2025, 08:00–08:30 Uhr"


# --- every template: PDF/A, fonts, determinism ---------------------------------------------


@pytest.mark.parametrize("name", [name for name in TEMPLATES if name != "wartenummer"])
def test_a4_documents_are_pdf_a_2u_with_embedded_fonts(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, f"{name}.pdf", TEMPLATES[name].render(TEMPLATES[name].example()))
    xmp = xmp_metadata(path)
    assert "<pdfaid:part>2</pdfaid:part>" in xmp
    assert "<pdfaid:conformance>U</pdfaid:conformance>" in xmp
    fonts = embedded_fonts(path)
    assert fonts
    assert all(embedded for _, embedded in fonts)
    assert all("DejaVuSansCondensed" in font for font, _ in fonts)
    info = run("pdfinfo", str(path))
    assert re.search(r"Page size:\s+595\.\d* x 841\.\d* pts \(A4\)", info)
    assert "Pages:           1" in info
    assert b"/OutputIntents" in path.read_bytes()


def without_render_clock(pdf: bytes) -> bytes:
    # fpdf2 stamps the XMP ModifyDate/MetadataDate (and so the /ID) with the render time under
    # PDF/A; everything else follows the document's own date.
    pdf = re.sub(rb'xmp:(ModifyDate|MetadataDate)="[^"]*"', b"", pdf)
    return re.sub(rb"/ID \[<[0-9A-F]+><[0-9A-F]+>\]", b"", pdf)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_same_data_renders_same_bytes_but_for_the_render_clock(name: str) -> None:
    template = TEMPLATES[name]
    first, second = template.render(template.example()), template.render(template.example())
    assert without_render_clock(first) == without_render_clock(second)


def test_extended_data_only_prints_what_was_given(tmp_path: Path) -> None:
    sparse = certificate(extended=ExtendedRegisterData(birth_place="Köln"))
    text = pdf_text(write(tmp_path, "m.pdf", render_registration_certificate(sparse)))
    assert "Geburtsort Köln" in text
    assert "Staatsangehörigkeiten –" in text
