"""The case screen's "Aufnahme holen" (Strg+B) against the capture simulator over real HTTP: the code
typed, the checks listed, the photo shown, a bad code told in German with nothing attached, and the
accepted capture attached with its photo document ticked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select
from textual.widgets import Button, Input, Static

from devices.captures.simulator import RunningSimulator, Variant, add_ready_capture, start_simulator
from screens.app import TresenApp
from screens.capture_fetch import CaptureFetchScreen
from screens.case import CaseScreen
from tests.ui.support import NOW, Desk, current_screen, filled_store, make_counter, settle
from workstation.capture_setup import CaptureSetup
from workstation.config import CaptureSettings
from workstation.login import Workplace
from workstation.models import CaseCapture, CaseService, Service

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

SIZE = (160, 50)


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningSimulator]:
    with start_simulator(seed=31) as running:
        yield running


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    desk = filled_store(tmp_path / "tresen.sqlite3", appointments=20, waiting=3)
    counter = make_counter(desk)
    with desk.store.session() as session:
        passport = session.scalars(select(Service.id).where(Service.code == "PA")).one()
    counter.issue_walk_in([passport], priority=1)  # F2 calls it first
    return desk


def app_with_captures(desk: Desk, sim: RunningSimulator, tmp_path: Path) -> TresenApp:
    certificate = tmp_path / "terminal.pem"
    certificate.write_bytes(sim.state.terminal_cert_pem)
    settings = CaptureSettings(terminal_url=sim.url, terminal_certificate=certificate)
    return TresenApp(
        workplace=Workplace(make_counter(desk), None, "Schalter 1 · Test"),
        now=lambda: NOW,
        captures=CaptureSetup(settings, hint=lambda _case: "Demo: Aufnahme-Code ABCD-EFGH-0101"),
    )


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def open_capture_dialog(pilot: Any) -> tuple[CaseScreen, CaptureFetchScreen]:
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    await pilot.press("f5")
    await settle(pilot)
    case = current_screen(pilot.app)
    assert isinstance(case, CaseScreen)
    await pilot.press("ctrl+b")
    await settle(pilot)
    dialog = current_screen(pilot.app)
    assert isinstance(dialog, CaptureFetchScreen)
    return case, dialog


async def enter_code(pilot: Any, dialog: CaptureFetchScreen, code: str) -> None:
    dialog.query_one("#capture-code", Input).value = code  # as a scanner types it
    await pilot.press("enter")
    await settle(pilot)


async def test_the_clerk_fetches_a_code_sees_the_checks_and_accepts(
    desk: Desk, simulator: RunningSimulator, tmp_path: Path
) -> None:
    app = app_with_captures(desk, simulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        case, dialog = await open_capture_dialog(pilot)
        assert text_of(dialog, "#capture-hint") == "Demo: Aufnahme-Code ABCD-EFGH-0101"

        await enter_code(pilot, dialog, "ZZZZ-ZZZZ-0101")
        assert text_of(dialog, "#capture-status") == (
            "Nicht übernommen: Zu diesem Code gibt es keine Aufnahme. Bitte den Code prüfen."
        )
        assert dialog.query_one("#capture-accept", Button).disabled

        await enter_code(pilot, dialog, simulator.state.terminal_code(Variant.POOR_QUALITY))
        checks = text_of(dialog, "#capture-checks")
        assert "✗ Bildgröße" in checks
        assert "→ Foto neu aufnehmen lassen." in checks
        assert dialog.query_one("#capture-accept", Button).disabled

        code = add_ready_capture(simulator.state)
        await enter_code(pilot, dialog, code)
        lines = text_of(dialog, "#capture-checks").splitlines()
        assert lines[0] == "✓ Bilddatei: JPEG lesbar"
        assert all(not line.startswith("✗") for line in lines)
        assert any(line.startswith("✓ Bildgröße: ") for line in lines)
        assert text_of(dialog, "#capture-photo-text").startswith("Aufnahme: JPEG")  # no terminal: text
        assert "nicht gelesen" in text_of(dialog, "#chip-photo-text")
        assert not dialog.query_one("#capture-accept", Button).disabled

        await pilot.press("ctrl+s")
        await settle(pilot)
        assert text_of(dialog, "#capture-status").startswith("Aufnahme in den Vorgang übernommen.")
        assert not simulator.state.has_capture(code)  # acknowledged after the commit

        await pilot.press("escape")
        await settle(pilot)
        assert current_screen(app) is case
        assert text_of(case, "#case-capture").startswith("Aufnahme übernommen")
        case_id = case.case_id
    with desk.store.session() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(CaseCapture).where(CaseCapture.case_id == case_id)
            )
            == 1
        )
        checked = session.scalars(select(CaseService.documents_checked).where(CaseService.case_id == case_id))
        assert any(doc.startswith("Digitales Lichtbild") for docs in checked for doc in docs)


async def test_a_tampered_capture_attaches_nothing(
    desk: Desk, simulator: RunningSimulator, tmp_path: Path
) -> None:
    app = app_with_captures(desk, simulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        _case, dialog = await open_capture_dialog(pilot)
        await enter_code(pilot, dialog, simulator.state.terminal_code(Variant.HASH_MISMATCH))
        assert "Prüfsumme falsch" in text_of(dialog, "#capture-status")
        assert text_of(dialog, "#capture-checks") == ""
        await pilot.press("ctrl+s")  # nothing to accept
        await settle(pilot)
    with desk.store.session() as session:
        assert session.scalar(select(func.count()).select_from(CaseCapture)) == 0
