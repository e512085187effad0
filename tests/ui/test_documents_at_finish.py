"""The finish through the keyboard produces the visit's documents: the receipt arrives (a PDF folder
stands in for the printer; its text read with pdftotext), a missing printer is said in German and the
document is kept; Strg+N prints the Wartenummer slip."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from textual.widgets import Select

from devices.printing import PrintError, PrintFailure
from forms.layout import IssuingOffice
from screens.app import TresenApp
from screens.dialogs import ConfirmDialog, FinishDialog, ReprintDialog
from tests.ui.support import NOW, Desk, current_screen, filled_store, make_counter, settle
from workstation.documents import (
    DocumentSetup,
    FinishInputs,
    KeptDocuments,
    Letterhead,
    PrintTargets,
    finish_inputs,
)
from workstation.kassenzeichen_ranges import reserve_range
from workstation.login import Workplace
from workstation.models import AuditEvent, Case, Service

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

SIZE = (160, 60)
LETTERHEAD = Letterhead(
    IssuingOffice("Stadt Test", "Bürgeramt", "Markt 1", "12345 Test"), "Test", "Stadtkasse"
)


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    desk = filled_store(tmp_path / "tresen.sqlite3")
    with desk.store.write() as session:
        reserve_range(session, desk.ctx.desk_id, "5101", 1000, 1999)
    return desk


def app_with(desk: Desk, setup: DocumentSetup) -> TresenApp:
    return TresenApp(
        workplace=Workplace(make_counter(desk), None, "Schalter 1 · Test"), now=lambda: NOW, documents=setup
    )


async def finish_all_completed(pilot: Pilot[int], app: TresenApp) -> None:
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    await pilot.press("f5")
    await settle(pilot)
    await pilot.press("f8")
    await settle(pilot)
    dialog = current_screen(app)
    assert isinstance(dialog, FinishDialog)
    for outcome in dialog.query(Select):
        if outcome.id and outcome.id.startswith("outcome-"):
            outcome.value = "completed"
    dialog.query_one("#payment", Select).value = "cash"
    await pilot.click("#confirm")
    await settle(pilot)
    if isinstance(current_screen(app), ConfirmDialog):  # unticked documents: asked once
        await pilot.press("enter")
        await settle(pilot)


def notifications(app: TresenApp) -> list[str]:
    return [notification.message for notification in app._notifications]


@pytest.mark.poppler
async def test_finish_prints_the_receipt_with_fees_and_payment_method(desk: Desk, tmp_path: Path) -> None:
    setup = DocumentSetup(PrintTargets(folder=tmp_path / "out"), KeptDocuments(tmp_path / "kept"), LETTERHEAD)
    app = app_with(desk, setup)
    async with app.run_test(size=SIZE) as pilot:
        await finish_all_completed(pilot, app)
        printed = sorted((tmp_path / "out").glob("tresen-quittung-*.pdf"))
        assert len(printed) == 1, notifications(app)
        text = subprocess.run(
            ["pdftotext", str(printed[0]), "-"], capture_output=True, text=True, check=True
        ).stdout
        for expected in ("Quittung", "Barzahlung", "Kassenzeichen", "5101-000"):
            assert expected in text
        assert any(m.startswith("Quittung gedruckt") for m in notifications(app))
    with desk.store.session() as session:
        case = session.scalars(select(Case).where(Case.finished_at.is_not(None))).one()
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case.id)).all()
    assert "document.print" in actions
    assert "quittung.pdf" in [p.name for p in setup.kept.of_case(case.id)]


async def test_missing_printer_is_said_in_german_the_receipt_kept_and_reprinted(
    desk: Desk, tmp_path: Path
) -> None:
    installed: list[str] = []  # the printer is set up after the first failure

    def missing(pdf: bytes, queue: str, title: str) -> str:  # noqa: ARG001  (the Printer protocol)
        if not installed:
            raise PrintError(PrintFailure.NO_PRINTER, printer=queue)
        return "an den Drucker übergeben"

    setup = DocumentSetup(
        PrintTargets(receipt="Kasse-1", a4="A4-1"),
        KeptDocuments(tmp_path / "kept"),
        LETTERHEAD,
        printer=missing,
    )
    app = app_with(desk, setup)
    async with app.run_test(size=SIZE) as pilot:
        await finish_all_completed(pilot, app)
        assert (
            "Quittung nicht gedruckt: Der Drucker „Kasse-1“ ist nicht eingerichtet. Bitte die "
            "Druckereinstellung prüfen. Das Dokument ist für den Nachdruck aufbewahrt."
        ) in notifications(app)
        installed.append("Kasse-1")
        await pilot.press("ctrl+r")  # Nachdruck
        await settle(pilot)
        assert isinstance(current_screen(app), ReprintDialog)
        await pilot.click("#confirm")
        await settle(pilot)
        assert "Quittung gedruckt (an den Drucker übergeben)." in notifications(app)
    (case_id,) = setup.kept.case_ids()
    assert "quittung.pdf" in [p.name for p in setup.kept.of_case(case_id)]
    with desk.store.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("document.%"))).all()
    assert [(e.action, e.detail["document"], e.detail["printed"]) for e in events] == [
        ("document.print", "quittung", False),
        ("document.reprint", "quittung", True),
    ]


async def test_ctrl_n_prints_the_wartenummer_slip_on_the_thermal_printer(desk: Desk, tmp_path: Path) -> None:
    sent: list[tuple[str, bytes]] = []

    def thermal(pdf: bytes, queue: str, title: str) -> str:  # noqa: ARG001  (the Printer protocol)
        sent.append((queue, pdf))
        return "an den Drucker übergeben"

    setup = DocumentSetup(
        PrintTargets(thermal="Thermo"), KeptDocuments(tmp_path / "kept"), LETTERHEAD, printer=thermal
    )
    app = app_with(desk, setup)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press("space")
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert [queue for queue, _ in sent] == ["Thermo"]
        assert sent[0][1].startswith(b"%PDF")


async def test_the_finish_asks_for_an_address_or_a_document_number_only_where_a_document_needs_it(
    desk: Desk, tmp_path: Path
) -> None:
    setup = DocumentSetup(PrintTargets(folder=tmp_path / "out"), KeptDocuments(tmp_path / "kept"), LETTERHEAD)
    app = app_with(desk, setup)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        current = make_counter(desk).current_ticket()
        assert current is not None
        with desk.store.session() as session:
            codes = {session.get_one(Service, s.id).code.upper() for s in current.services}
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        dialog = current_screen(app)
        assert isinstance(dialog, FinishDialog)
        # by hand: Anmeldung/Meldebescheinigung print the certificate, ID applications the pickup slip
        assert bool(dialog.query("#address")) == bool(codes & {"AN", "ANM", "MB"})
        assert bool(dialog.query("#status-check-number")) == bool(codes & {"PA", "RP"})


def test_finish_inputs_follow_the_service_codes() -> None:
    assert finish_inputs(["pa"]) == FinishInputs(address=False, document_number=True)
    assert finish_inputs(["AN", "RP"]) == FinishInputs(address=True, document_number=True)
    assert finish_inputs(["MB"]) == FinishInputs(address=True, document_number=False)
    assert finish_inputs(["ABH", "LB"]) == FinishInputs(address=False, document_number=False)
