"""A document's first page as a picture for the preview before printing, with its text beside it.

pypdfium2 (PDFium, the renderer of Chromium; its wheel carries the library, so the demo needs no
system package) draws the page and reads the page's text, which is the preview where the terminal
cannot show pictures. PDFium is not thread-safe: one render at a time (`_PDFIUM`). Blocking: call it
from a thread worker. Never logs the document's content (it holds personal data).
"""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

_PDFIUM = threading.Lock()
POINTS_PER_INCH = 72
PREVIEW_DPI = 100  # an A4 page is 827 × 1169 pixels: enough to read it in a terminal window


class PreviewError(ValueError):
    """The bytes are no PDF PDFium can open."""


@dataclass(frozen=True)
class PagePreview:
    png: bytes | None = field(repr=False)  # the first page; None when it could not be drawn
    text: str = field(repr=False)  # the first page's text, for terminals without pictures
    pages: int = 1


def preview_pdf(pdf: bytes, dpi: int = PREVIEW_DPI) -> PagePreview:
    """The first page of `pdf` as PNG and as text (raises PreviewError for a file that is no PDF)."""
    import pypdfium2

    with _PDFIUM:
        try:
            document = pypdfium2.PdfDocument(pdf)
        except pypdfium2.PdfiumError as error:
            raise PreviewError("not a PDF that can be shown") from error
        try:
            pages = len(document)
            if pages == 0:
                raise PreviewError("the PDF has no page")
            page = document[0]
            text_page = page.get_textpage()
            text = str(text_page.get_text_bounded()).replace("\r\n", "\n")
            png: bytes | None
            try:
                picture = page.render(scale=dpi / POINTS_PER_INCH).to_pil()
                buffer = io.BytesIO()
                picture.save(buffer, "PNG")
                png = buffer.getvalue()
            except Exception:  # noqa: BLE001 - the text still previews the page
                log.warning("the page could not be drawn for the preview")
                png = None
        finally:
            document.close()
    return PagePreview(png, text, pages)
