"""The card read in the clerk's workflow: F2, F5, F9 "Ausweis lesen" on the case screen, the read,
and its result (verdict, names against the appointment, expiry) on the case screen afterwards.

The documents are generated for the case's citizen the way the demo does it
(`tresen.demo_devices.holder_for`); the first tests hand the chip's files to the real LDS
parsers and passive authentication without a reader, the last one runs the demo's simulated card in
its own process through pyscard → pcscd → vpcd.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from textual.binding import Binding
from textual.widgets import Static

from devices.card.access import CanKey
from devices.card.emulator.personalization import TestDocument, make_test_document
from screens.card_read import CardReadScreen
from screens.case import CaseScreen
from tests.card.conftest import pcsc_stack  # noqa: F401  (fixture, used through running_pcscd)
from tests.core.test_card_reading import parsing_reader
from tests.ui.support import NOW, Desk, filled_store, make_app, settle
from tresen.demo_devices import (
    DEMO_CSCA_FILE,
    DemoCardDevices,
    holder_for,
    seed_for,
    virtual_reader_present,
)
from workstation.card_reading import BookedCitizen, CardReading

if TYPE_CHECKING:
    from pathlib import Path

SIZE = (160, 50)


class DocumentOnDesk:
    """Makes the case citizen's document as the demo does and keeps it for a reader-less read."""

    def __init__(self, trust_folder: Path, expiry: date) -> None:
        self.trust_folder = trust_folder
        self.expiry = expiry
        self.document: TestDocument | None = None
        self.citizens: list[BookedCitizen] = []

    def prepare_card(self, case_id: str, citizen: BookedCitizen) -> str | None:
        self.citizens.append(citizen)
        self.document = make_test_document(
            "td1", holder=holder_for(citizen), seed=seed_for(case_id), expiry=self.expiry, face_bytes=4_000
        )
        self.trust_folder.mkdir(parents=True, exist_ok=True)
        (self.trust_folder / DEMO_CSCA_FILE).write_bytes(self.document.csca_der)
        return f"Demo: CAN {self.document.can}"

    def read(self, reader: Any, access_key: Any, progress: Any = None, **options: Any) -> Any:
        assert self.document is not None, "the dialog read before the card was prepared"
        return parsing_reader(self.document)(reader, access_key, progress, **options)


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return filled_store(tmp_path / "tresen.sqlite3")


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def open_case_screen(pilot: Any) -> CaseScreen:
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    await pilot.press("f5")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CaseScreen)
    return screen


async def test_f9_reads_the_card_and_the_case_screen_shows_the_result(desk: Desk, tmp_path: Path) -> None:
    expiry = (NOW + timedelta(days=40)).date()  # within three months: the clerk must remind the citizen
    on_desk = DocumentOnDesk(tmp_path / "csca", expiry)
    reading = CardReading(
        desk.store,
        desk.ctx,
        on_desk.read,
        trust_folder=on_desk.trust_folder,
        preparer=on_desk,
        readers_fn=lambda: ["Lesegerät am Schalter"],
        clock=lambda: NOW,
    )
    app = make_app(desk, card_reading=reading)
    async with app.run_test(size=SIZE) as pilot:
        case_screen = await open_case_screen(pilot)
        assert "noch nicht gelesen (F9)" in text_of(case_screen, "#case-card")
        descriptions = {b.description for b in case_screen.BINDINGS if isinstance(b, Binding)}
        assert "Ausweis lesen" in descriptions

        await pilot.press("f9")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, CardReadScreen)
        assert on_desk.document is not None
        assert text_of(dialog, "#card-hint") == f"Demo: CAN {on_desk.document.can}"
        assert "Kartenleser bereit" in text_of(dialog, "#reader-status")
        await pilot.click("#can")
        await pilot.press(*on_desk.document.can, "enter")
        await settle(pilot)
        assert "Echtheit bestätigt" in text_of(dialog, "#verdict")

        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is case_screen
        shown = text_of(case_screen, "#case-card")
        stored = reading.latest(case_screen.case_id)
        assert stored is not None
        assert "Echtheit bestätigt" in shown
        assert stored.verdict.headline in shown
        assert stored.names.message in shown
        assert "läuft in 40 Tagen ab" in shown
        card_box = case_screen.query_one("#case-card", Static)
        assert card_box.has_class("verdict-verified")
        # The card was made for this case's citizen: a booked one matches, a walk-in has nothing to match.
        citizen = on_desk.citizens[0]
        if citizen.family_name:
            assert not card_box.has_class("mismatch")
            assert "stimmt mit dem Termin überein" in shown
        else:
            assert "Kein Termin" in shown


async def test_closing_the_dialog_without_a_read_leaves_the_case_unread(desk: Desk, tmp_path: Path) -> None:
    on_desk = DocumentOnDesk(tmp_path / "csca", date(2031, 1, 1))
    reading = CardReading(
        desk.store,
        desk.ctx,
        on_desk.read,
        trust_folder=on_desk.trust_folder,
        readers_fn=lambda: [],
        clock=lambda: NOW,
    )
    app = make_app(desk, card_reading=reading)
    async with app.run_test(size=SIZE) as pilot:
        case_screen = await open_case_screen(pilot)
        await pilot.press("f9")
        await settle(pilot)
        assert "Kein Kartenleser" in text_of(app.screen, "#reader-status")
        assert app.screen.query_one("#card-hint").has_class("hidden")  # no preparer: no demo hint
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is case_screen
        assert "noch nicht gelesen (F9)" in text_of(case_screen, "#case-card")
        assert on_desk.citizens == []


async def test_a_read_without_expiry_warning_shows_the_validity(desk: Desk, tmp_path: Path) -> None:
    on_desk = DocumentOnDesk(tmp_path / "csca", date(2031, 1, 31))
    reading = CardReading(
        desk.store,
        desk.ctx,
        on_desk.read,
        trust_folder=on_desk.trust_folder,
        preparer=on_desk,
        readers_fn=lambda: ["Lesegerät"],
        clock=lambda: NOW,
    )
    app = make_app(desk, card_reading=reading)
    async with app.run_test(size=SIZE) as pilot:
        case_screen = await open_case_screen(pilot)
        await pilot.press("f9")
        await settle(pilot)
        assert on_desk.document is not None
        reading.read(case_screen.case_id, CanKey(on_desk.document.can))  # as the dialog's worker does
        await pilot.press("escape")
        await settle(pilot)
        shown = text_of(case_screen, "#case-card")
        assert "Gültig bis 31.01.2031" in shown
        assert "läuft" not in shown


def test_the_demo_card_carries_the_booked_citizen_or_the_specimen() -> None:
    booked = holder_for(BookedCitizen("Weiß", "Jürgen", date(1980, 5, 17)))
    assert (booked.surname, booked.given_names, booked.birth_date) == ("Weiß", "Jürgen", date(1980, 5, 17))
    walk_in = holder_for(BookedCitizen(None, None, None))
    assert walk_in.surname == "Mustermann"
    assert seed_for("case-1") == seed_for("case-1") != seed_for("case-2")


def test_the_demo_says_when_there_is_no_virtual_reader(tmp_path: Path) -> None:
    devices = DemoCardDevices(tmp_path / "csca", reader_present=lambda: False)
    hint = devices.prepare_card("case-1", BookedCitizen("Weiß", "Jürgen", None))
    assert hint is not None
    assert "Kein virtueller Kartenleser" in hint
    assert not (tmp_path / "csca").exists()
    devices.close()


@pytest.fixture
def running_pcscd(request: pytest.FixtureRequest) -> None:
    """pcscd with the virtual reader; started through the card tests' fixture only when not running."""
    if not virtual_reader_present():
        request.getfixturevalue("pcsc_stack")


@pytest.mark.serial
@pytest.mark.pcsc
@pytest.mark.xdist_group("pcsc")
@pytest.mark.usefixtures("running_pcscd")
def test_the_demo_card_is_read_through_pcscd(tmp_path: Path) -> None:
    """The demo's simulated card in its own process on the virtual reader, read by the real service."""
    from tests.core.test_card_reading import open_case
    from workstation.commands import DeskContext
    from workstation.db import LocalStore

    store = LocalStore(tmp_path / "tresen.sqlite3")
    store.migrate()
    case_id = open_case(store, booked=("Müller-Lüdenscheidt", "Jürgen Weiß", date(1980, 5, 17)))
    devices = DemoCardDevices(tmp_path / "csca")
    reading = CardReading(
        store,
        DeskContext("ws-1", "office-1", "desk-1", "clerk-1"),
        trust_folder=devices.trust_folder,
        preparer=devices,
        card_wait_seconds=10,
    )
    try:
        hint = reading.prepare(case_id)
        assert hint is not None
        assert hint.startswith("Demo: CAN ")
        assert reading.prepare(case_id) == hint  # the same case keeps its card
        outcome = reading.read(case_id, CanKey(hint.split()[2]))
    finally:
        devices.close()
    assert outcome.access_protocol == "PACE"
    assert outcome.verdict.headline == "Echtheit bestätigt"
    assert outcome.chip.surname.startswith("MUELLER")  # as the MRZ spells Müller-Lüdenscheidt
    assert not outcome.names.mismatch
    assert (tmp_path / "csca" / DEMO_CSCA_FILE).exists()
