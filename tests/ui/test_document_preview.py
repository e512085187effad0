"""Issue 10: the preview before printing. F3 in the finish dialog shows what the finish will print
(decided as the finish decides, then rolled back: nothing finished, no Kassenzeichen used), and in
the Nachdruck dialog the highlighted kept document (audited) — each first page as a picture
(textual-image) where the terminal can draw one, else the page's text, rendered in a worker; Esc
goes back to the dialog."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from textual.widgets import Select, SelectionList, Static

from forms.preview import preview_pdf
from screens.dialogs import ConfirmDialog, FinishDialog, ReprintDialog
from screens.document_preview import DocumentPreview
from tests.ui.support import Desk, current_screen, filled_store, settle
from tests.ui.test_documents_at_finish import LETTERHEAD, SIZE, app_with, finish_all_completed
from workstation.documents import DocumentSetup, KeptDocuments, PrintTargets
from workstation.kassenzeichen_ranges import reserve_range
from workstation.models import AuditEvent, Case, KassenzeichenRangeRow

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

    from screens.app import TresenApp


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    made = filled_store(tmp_path / "tresen.sqlite3")
    with made.store.write() as session:
        reserve_range(session, made.ctx.desk_id, "5101", 1000, 1999)
    return made


def setup_in(tmp_path: Path) -> DocumentSetup:
    return DocumentSetup(PrintTargets(folder=tmp_path / "out"), KeptDocuments(tmp_path / "kept"), LETTERHEAD)


async def open_preview(pilot: Pilot[int], app: TresenApp) -> DocumentPreview:
    await finish_all_completed(pilot, app)
    await pilot.press("ctrl+r")  # Nachdruck
    await settle(pilot)
    assert isinstance(current_screen(app), ReprintDialog)
    await pilot.press("f3")
    await settle(pilot)
    preview = current_screen(app)
    assert isinstance(preview, DocumentPreview)
    return preview


async def test_f3_in_the_nachdruck_shows_the_receipts_text_where_no_picture_can_be_drawn(
    desk: Desk, tmp_path: Path
) -> None:
    setup = setup_in(tmp_path)
    app = app_with(desk, setup)
    async with app.run_test(size=SIZE) as pilot:
        preview = await open_preview(pilot, app)
        text = str(preview.query_one("#preview-0-text", Static).render())
        assert "Quittung" in text
        assert "Kassenzeichen 5101-000" in text
        assert "Barzahlung" in text
        assert "erste Seite" in str(preview.query_one("#preview-status", Static).render())
        printed_before = len(list((tmp_path / "out").glob("*.pdf")))
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(current_screen(app), ReprintDialog)  # Esc closed only the preview
        assert len(list((tmp_path / "out").glob("*.pdf"))) == printed_before  # nothing printed by it
    with desk.store.session() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("document.%"))).all()
    assert list(actions) == ["document.print", "document.preview"]


async def test_the_page_is_drawn_as_a_picture_with_textual_image_where_possible(
    desk: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual_image.widget import UnicodeImage

    from screens import card_read

    # A pixel-capable terminal cannot exist under pytest; textual-image's text-cell widget stands in.
    monkeypatch.setattr(card_read._photo_support, "image_widget", UnicodeImage)
    app = app_with(desk, setup_in(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        preview = await open_preview(pilot, app)
        image = preview.query_one("#preview-0-image", UnicodeImage)
        assert image.image is not None
        width, height = image.image.size  # type: ignore[union-attr]  # a PIL image here
        assert height > width  # the A4 page, upright
        assert not preview.query("#preview-0-text")


async def test_a_document_gone_from_the_store_is_said_in_german(desk: Desk, tmp_path: Path) -> None:
    setup = setup_in(tmp_path)
    app = app_with(desk, setup)
    async with app.run_test(size=SIZE) as pilot:
        await finish_all_completed(pilot, app)
        await pilot.press("ctrl+r")
        await settle(pilot)
        dialog = current_screen(app)
        assert isinstance(dialog, ReprintDialog)
        assert dialog.query_one("#kinds", SelectionList).option_count >= 1
        for case_id in setup.kept.case_ids():  # purged meanwhile (retention)
            for path in setup.kept.of_case(case_id):
                path.unlink()
        await pilot.press("f3")
        await settle(pilot)
        preview = current_screen(app)
        assert isinstance(preview, DocumentPreview)
        status = str(preview.query_one("#preview-status", Static).render())
        assert status == "Dieses Dokument ist nicht (mehr) aufbewahrt."


async def test_f3_in_the_finish_dialog_shows_what_the_finish_will_print_and_finishes_nothing(
    desk: Desk, tmp_path: Path
) -> None:
    setup = setup_in(tmp_path)
    app = app_with(desk, setup)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in ("f2", "f5", "f8"):  # call, open the case, the finish dialog
            await pilot.press(key)
            await settle(pilot)
        dialog = current_screen(app)
        assert isinstance(dialog, FinishDialog)
        for outcome in dialog.query(Select):
            if outcome.id and outcome.id.startswith("outcome-"):
                outcome.value = "completed"
        dialog.query_one("#payment", Select).value = "cash"
        await pilot.press("f3")
        await settle(pilot)
        preview = current_screen(app)
        assert isinstance(preview, DocumentPreview)
        text = str(preview.query_one("#preview-0-text", Static).render())
        assert "Quittung" in text
        assert "Barzahlung" in text
        previewed = re.search(r"5101-\d{7}-\d", text)
        assert previewed is not None
        await pilot.press("escape")
        await settle(pilot)
        assert current_screen(app) is dialog  # Esc closed only the preview, the finish is still open
        assert not list((tmp_path / "out").glob("*.pdf"))  # the preview printed nothing
        with desk.store.session() as session:
            assert session.scalars(select(Case).where(Case.finished_at.is_not(None))).first() is None
            held = session.get(KassenzeichenRangeRow, desk.ctx.desk_id)
            assert held is not None
            assert held.last_issued is None  # and used no Kassenzeichen
        await pilot.click("#confirm")
        await settle(pilot)
        if isinstance(current_screen(app), ConfirmDialog):  # unticked documents: asked once
            await pilot.press("enter")
            await settle(pilot)
        (printed,) = (tmp_path / "out").glob("tresen-quittung-*.pdf")
        page = preview_pdf(printed.read_bytes())
        assert previewed.group(0) in page.text  # the receipt printed is the one previewed
