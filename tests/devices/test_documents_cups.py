"""A desk's documents through the real CUPS into cups-pdf: the printed file arrives and is the
document (pdftotext), the print is an audit event, a stopped queue leaves the document kept."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from forms.templates import TEMPLATES
from tests.devices.test_printing import job_title as job_title  # noqa: PLC0414  (the fixture)
from tests.devices.test_printing import wait_for_output
from workstation.db import LocalStore
from workstation.documents import DocumentDesk, DocumentKind, KeptDocuments, PendingDocument, PrintTargets
from workstation.models import AuditEvent

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.cups
@pytest.mark.poppler
def test_receipt_of_a_case_arrives_in_cups_pdf(cups_pdf_queue: str, tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "tresen.sqlite3")
    store.migrate()
    template = TEMPLATES["quittung"]
    receipt = PendingDocument(DocumentKind.RECEIPT, "case-1", template.parse(template.example()))
    desk = DocumentDesk(
        store, "clerk-1", KeptDocuments(tmp_path / "kept"), PrintTargets(receipt=cups_pdf_queue)
    )
    (outcome,) = desk.produce([receipt])
    assert outcome.printed, outcome.message
    assert "an den Drucker übergeben" in outcome.message
    printed = sorted(wait_for_output("tresen-quittung").parent.glob("tresen-quittung-*.pdf"))
    try:
        texts = [
            subprocess.run(["pdftotext", str(p), "-"], capture_output=True, text=True, check=True).stdout
            for p in printed
        ]
        assert any("5101-0004711-8" in text and "Quittung" in text for text in texts)
    finally:
        for path in printed:
            path.unlink()
    with store.session() as session:
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "document.print")).all()
    assert event.detail["printer"] == cups_pdf_queue
    assert event.detail["printed"] is True
    store.dispose()
