"""The fonts parsed once per process (`forms.layout.add_fonts`): every document still gets its own
subset of the glyphs it uses, also when documents render at the same time in several threads (the
desk's document worker, the kiosk), and the same text and embedded fonts as fpdf2's `add_font`."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

import forms.layout
from forms.receipt import Receipt, render_receipt
from forms.templates import TEMPLATES
from tests.forms.pdftools import embedded_fonts, pdf_text, write

if TYPE_CHECKING:
    from pathlib import Path

    from fpdf import FPDF

pytestmark = pytest.mark.poppler

PAYERS = (
    "Ælfrida Østergård",
    "Zoë Çelik",
    "Ђорђе Јовановић",
    "Ωmega Ψaltis",
    "Jürgen Groß",
    "Ярослава Ёлкина",
)


def example_receipt() -> Receipt:
    receipt = TEMPLATES["quittung"].parse(TEMPLATES["quittung"].example())
    assert isinstance(receipt, Receipt)
    return receipt


def test_documents_rendered_at_once_in_threads_each_carry_their_own_glyphs(tmp_path: Path) -> None:
    receipts = [dataclasses.replace(example_receipt(), payer=payer) for payer in PAYERS]
    with ThreadPoolExecutor(max_workers=3) as pool:
        pdfs = list(pool.map(render_receipt, receipts))
    for index, (payer, pdf) in enumerate(zip(PAYERS, pdfs, strict=True)):
        text = pdf_text(write(tmp_path, f"q{index}.pdf", pdf))
        assert payer in text  # a glyph missing from this document's subset would not read back
        assert all(other not in text for other in PAYERS if other != payer)


def test_the_same_page_as_with_fpdf2_parsing_the_fonts_per_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = example_receipt()
    shared = write(tmp_path, "shared.pdf", render_receipt(receipt))

    def per_document(pdf: FPDF, family: str = forms.layout.FONT) -> None:
        for style, path in forms.layout.FONT_FILES.items():
            pdf.add_font(family, style, path)

    monkeypatch.setattr(forms.layout, "add_fonts", per_document)
    parsed_again = write(tmp_path, "again.pdf", render_receipt(receipt))
    assert pdf_text(shared) == pdf_text(parsed_again)
    assert embedded_fonts(shared) == embedded_fonts(parsed_again)
    assert all(embedded for _name, embedded in embedded_fonts(shared))
