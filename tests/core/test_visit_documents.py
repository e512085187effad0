"""Documents at the finish: one local transaction issues the Kassenzeichen, the documents are kept
0600/0700, printed (a PDF folder or a fake queue here; CUPS in tests/devices), a missing printer is
reported in German and the document reprints; every print is an audit event."""

from __future__ import annotations

import stat
import subprocess
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from forms.layout import IssuingOffice
from forms.receipt import PaymentMethod
from sync.kassenzeichen import is_valid
from tests.core.conftest import DESK_1, PA, RP
from workstation.documents import (
    DocumentDesk,
    DocumentKind,
    FinishRequest,
    KeptDocuments,
    Letterhead,
    PrintTargets,
    finish_with_documents,
    preview_finish,
    purge_kept_documents,
)
from workstation.errors import CommandRefused
from workstation.kassenzeichen_ranges import reserve_range
from workstation.models import AuditEvent, Case
from workstation.number_witness import NumberWitness

if TYPE_CHECKING:
    from pathlib import Path

    from tests.core.conftest import SmallOffice

LETTERHEAD = Letterhead(
    IssuingOffice("Stadt Teststadt", "Bürgeramt Test", "Markt 1", "12345 Teststadt"),
    "Teststadt",
    "Stadtkasse",
)


def pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def serve(office: SmallOffice, ticket_id: str, number: str, services: tuple[str, ...]) -> None:
    office.add_ticket(ticket_id, number, 5, services, slot_in_minutes=0)
    counter = office.counter()
    counter.call_next()
    counter.citizen_arrived()


def audit_actions(office: SmallOffice) -> list[tuple[str, dict[str, object]]]:
    with office.store.session() as session:
        return [(e.action, e.detail) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


@pytest.fixture
def desk_range(office: SmallOffice) -> None:
    with office.store.write() as session:
        reserve_range(session, DESK_1, "5101", 100, 200)


@pytest.mark.usefixtures("desk_range")
@pytest.mark.poppler
def test_finish_prints_receipt_and_pickup_slip_into_the_folder(office: SmallOffice, tmp_path: Path) -> None:
    serve(office, "t1", "A001", (PA, RP))
    result, pending = finish_with_documents(
        office.counter(),
        FinishRequest(
            {PA: "completed", RP: "completed"}, payment=PaymentMethod.CASH, status_check_number="L01X"
        ),
        LETTERHEAD,
    )
    with office.store.session() as session:
        assert session.get_one(Case, result.case_id).finished_at is not None  # committed before printing
    assert [d.kind for d in pending] == [DocumentKind.RECEIPT, DocumentKind.PICKUP]
    kept = KeptDocuments(tmp_path / "kept")
    desk = DocumentDesk(office.store, "clerk-1", kept, PrintTargets(folder=tmp_path / "out"))
    outcomes = desk.produce(pending)
    assert all(o.printed for o in outcomes), [o.message for o in outcomes]
    receipt = pdftotext(outcomes[0].kept)  # type: ignore[arg-type]
    assert "Quittung" in receipt
    assert "Personalausweis" in receipt
    assert "116,00 €" in receipt
    assert "Barzahlung" in receipt
    kassenzeichen = next(line for line in receipt.splitlines() if line.startswith("5101-"))
    assert is_valid(kassenzeichen)
    printed = sorted((tmp_path / "out").glob("*.pdf"))
    assert len(printed) == 2
    assert "Abholschein" in pdftotext(printed[0]) + pdftotext(printed[1])
    assert stat.S_IMODE((tmp_path / "kept").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "kept" / result.case_id).stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in kept.of_case(result.case_id))
    prints = [d for a, d in audit_actions(office) if a == "document.print"]
    assert [p["document"] for p in prints] == ["quittung", "abholschein"]


@pytest.mark.usefixtures("desk_range")
def test_two_receipts_never_share_a_kassenzeichen(office: SmallOffice) -> None:
    numbers = []
    for index in range(3):
        serve(office, f"t{index}", f"A00{index}", (PA,))
        _, pending = finish_with_documents(office.counter(), FinishRequest({PA: "completed"}), LETTERHEAD)
        numbers.append(pending[0].data.kassenzeichen)  # type: ignore[union-attr]
    assert len(set(numbers)) == 3
    assert all(is_valid(n) for n in numbers)


def test_without_a_range_the_finish_is_refused_and_nothing_is_committed(office: SmallOffice) -> None:
    serve(office, "t1", "A001", (PA,))
    with pytest.raises(CommandRefused, match="kein Kassenzeichen-Bereich"):
        finish_with_documents(office.counter(), FinishRequest({PA: "completed"}), LETTERHEAD)
    assert office.counter().current_ticket() is not None  # still open: the finish rolled back


@pytest.mark.usefixtures("desk_range")
def test_missing_printer_is_reported_in_german_kept_and_reprinted(
    office: SmallOffice, tmp_path: Path
) -> None:
    from devices.printing import PrintError, PrintFailure

    sent: list[str] = []

    def printer(pdf: bytes, queue: str, title: str) -> str:  # noqa: ARG001  (the Printer protocol)
        if queue == "Gibt-es-nicht":
            raise PrintError(PrintFailure.NO_PRINTER, printer=queue)
        sent.append(queue)
        return f"an {queue} übergeben"

    serve(office, "t1", "A001", (PA,))
    result, pending = finish_with_documents(office.counter(), FinishRequest({PA: "completed"}), LETTERHEAD)
    kept = KeptDocuments(tmp_path / "kept")
    desk = DocumentDesk(office.store, "clerk-1", kept, PrintTargets(receipt="Gibt-es-nicht"), printer=printer)
    (outcome,) = desk.produce(pending)
    assert not outcome.printed
    assert outcome.message == (
        "Quittung nicht gedruckt: Der Drucker „Gibt-es-nicht“ ist nicht eingerichtet. Bitte die "
        "Druckereinstellung prüfen. Das Dokument ist für den Nachdruck aufbewahrt."
    )
    assert [p.name for p in kept.of_case(result.case_id)] == ["quittung.pdf"]
    desk.targets = PrintTargets(receipt="Kasse")
    again = desk.reprint(result.case_id, DocumentKind.RECEIPT)
    assert again.printed
    assert sent == ["Kasse"]
    assert again.message.startswith("Quittung gedruckt")
    actions = [(a, d["printed"]) for a, d in audit_actions(office) if a.startswith("document.")]
    assert actions == [("document.print", False), ("document.reprint", True)]


@pytest.mark.usefixtures("desk_range")
def test_kept_documents_are_purged_with_the_case_data(office: SmallOffice, tmp_path: Path) -> None:
    serve(office, "t1", "A001", (PA,))
    result, pending = finish_with_documents(office.counter(), FinishRequest({PA: "completed"}), LETTERHEAD)
    kept = KeptDocuments(tmp_path / "kept")
    DocumentDesk(office.store, "clerk-1", kept, PrintTargets(folder=tmp_path / "out")).produce(pending)
    with office.store.session() as session:
        assert purge_kept_documents(session, kept, office.clock.now) == 0  # finished now: kept
        assert purge_kept_documents(session, kept, office.clock.advance(days=1)) == 1
    assert kept.of_case(result.case_id) == []


@pytest.mark.usefixtures("desk_range")
def test_the_finish_records_its_kassenzeichen_outside_the_store(office: SmallOffice, tmp_path: Path) -> None:
    witness = NumberWitness(tmp_path / "state" / "desk-numbers.json")
    serve(office, "t1", "A001", (PA,))
    counter = office.counter()
    counter.numbers = witness
    _, pending = finish_with_documents(counter, FinishRequest({PA: "completed"}), LETTERHEAD)
    issued = pending[0].data.kassenzeichen  # type: ignore[union-attr]
    assert witness.highest_kassenzeichen("5101") == int(issued.split("-")[1])
    # a preview (rolled back) records nothing
    serve(office, "t2", "A002", (PA,))
    counter = office.counter()
    counter.numbers = witness
    preview_finish(counter, FinishRequest({PA: "completed"}), LETTERHEAD)
    assert witness.highest_kassenzeichen("5101") == int(issued.split("-")[1])
