"""The "Ausweis lesen" dialog driven with Pilot: the real `CardReading` service on a real local store,
reading generated test documents through the real LDS parsers and passive authentication — and once
through pyscard → pcscd → vpcd → the emulated chip.
"""

from __future__ import annotations

import threading
from datetime import date
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from textual.app import App
from textual.widgets import Button, Input, Static, TextArea

from devices.card.emulator.personalization import TestDocument, make_test_document
from screens.app import TresenApp
from screens.card_read import CardReadScreen
from tests.card.conftest import pcsc_stack, virtual_reader  # noqa: F401  (fixtures)
from tests.core.test_card_reading import HOLDER, NOW, Desk1, open_case, parsing_reader, pcsc_reading
from tests.ui.support import ReturnType, wait_until
from workstation.card_reading import CardReading, CardReadOutcome
from workstation.db import LocalStore
from workstation.models import CardRead

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

    from devices.card.access import AccessKey, CanKey
    from devices.card.service import DocumentRead, ProgressCallback
    from devices.card.trust import TrustStore
    from tests.card.conftest import VirtualReader

SIZE = (120, 60)


class Host(App[None]):
    """A bare app that opens the dialog for one case, as the case screen does."""

    def __init__(self, reading: CardReading, case_id: str) -> None:
        super().__init__()
        self.reading = reading
        self.case_id = case_id
        self.dismissed: list[CardReadOutcome | None] = []

    def on_mount(self) -> None:
        self.push_screen(CardReadScreen(self.reading, self.case_id), self.dismissed.append)


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    local = LocalStore(tmp_path / "tresen.sqlite3")
    local.migrate()
    return local


@pytest.fixture(scope="module")
def document() -> TestDocument:
    return make_test_document("td1", holder=HOLDER, expiry=date(2026, 4, 30), seed=7)


def reading_for(
    store: LocalStore,
    document: TestDocument,
    *,
    readers: list[str] | None = None,
    trusted: bool = True,
    calls: list[str] | None = None,
) -> CardReading:
    return CardReading(
        store,
        Desk1(),
        parsing_reader(document, calls),
        trust=document.trust_store() if trusted else None,
        readers_fn=lambda: ["Lesegerät am Schalter 1"] if readers is None else readers,
        clock=lambda: NOW,
    )


def text_of(app: App[ReturnType], selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def type_can_and_read(pilot: Pilot[ReturnType], can: str) -> None:
    await pilot.click("#can")
    await pilot.press(*can)
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_read_shows_data_photo_fallback_verdict_and_expiry(
    store: LocalStore, document: TestDocument
) -> None:
    case_id = open_case(store, booked=("Müller-Lüdenscheidt", "Jürgen", date(1980, 5, 17)))
    app = Host(reading_for(store, document), case_id)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Kartenleser bereit: Lesegerät am Schalter 1" in text_of(app, "#reader-status")
        await type_can_and_read(pilot, document.can)

        verdict = app.screen.query_one("#verdict", Static)
        assert "Echtheit bestätigt" in text_of(app, "#verdict")
        assert verdict.has_class("verdict-verified")
        fields = text_of(app, "#fields")
        assert "MUELLER" in fields
        assert "17.05.1980" in fields
        assert "30.04.2026" in fields
        assert document.mrz_key.document_number in fields
        assert "Lichtbild: JPEG" in text_of(app, "#photo-text")  # no pixels in a test terminal
        assert "übereinstimmen" in text_of(app, "#names") or "überein" in text_of(app, "#names")
        assert not app.screen.query_one("#names", Static).has_class("mismatch")
        assert "läuft" in text_of(app, "#expiry-warning")  # 59 days left: remind the citizen
        progress = text_of(app, "#progress-steps")
        assert "✓ DG2 (Lichtbild)" in progress
        assert "Bytes" in progress

        await pilot.press("escape")
        await pilot.pause()
    assert len(app.dismissed) == 1
    assert app.dismissed[0] is not None
    assert app.dismissed[0].verdict.headline == "Echtheit bestätigt"


async def test_name_mismatch_and_not_verified_are_loud(store: LocalStore, document: TestDocument) -> None:
    case_id = open_case(store, booked=("Schmitt", "Jürgen", None))
    app = Host(reading_for(store, document, trusted=False), case_id)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await type_can_and_read(pilot, document.can)
        verdict = app.screen.query_one("#verdict", Static)
        assert verdict.has_class("verdict-not-verified")
        assert not verdict.has_class("verdict-verified")
        assert text_of(app, "#verdict").startswith("NICHT geprüft")
        names = app.screen.query_one("#names", Static)
        assert names.has_class("mismatch")
        assert "Familienname" in text_of(app, "#names")


async def test_can_is_digits_only_and_checked_before_the_card_is_touched(
    store: LocalStore, document: TestDocument
) -> None:
    calls: list[str] = []
    case_id = open_case(store, booked=None)
    app = Host(reading_for(store, document, calls=calls), case_id)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await type_can_and_read(pilot, "12ab34")
        assert app.screen.query_one("#can", Input).value == "1234"
        assert "6 Ziffern" in text_of(app, "#input-error")
        assert calls == []
        assert app.screen.query_one("#result").has_class("hidden")


async def test_wrong_can_shows_the_german_reason_and_allows_a_retry(
    store: LocalStore, document: TestDocument
) -> None:
    case_id = open_case(store, booked=None)
    app = Host(reading_for(store, document), case_id)
    wrong = "000000" if document.can != "000000" else "111111"
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await type_can_and_read(pilot, wrong)
        progress = text_of(app, "#progress-steps")
        assert "Zugang verweigert" in progress
        assert "…" not in progress  # nothing looks as if it still ran
        assert not app.screen.query_one("#read", Button).disabled
        app.screen.query_one("#can", Input).value = ""
        await type_can_and_read(pilot, document.can)
        assert "Echtheit bestätigt" in text_of(app, "#verdict")


def test_a_failed_read_marks_its_unfinished_steps_as_failed() -> None:
    from screens.card_read import _StepState, describe_steps

    steps = {"PACE": _StepState(0, 1)}
    assert describe_steps(steps) == "… PACE"  # while the chip is being read
    assert describe_steps(steps, failed=True) == "✗ PACE"
    steps["PACE"] = _StepState(1, 1)
    steps["DG1"] = _StepState(10, 90)
    assert describe_steps(steps, failed=True) == "✓ PACE\n✗ DG1 (Daten)  10 / 90 Bytes"


async def test_a_second_read_in_the_same_dialog_replaces_the_first(
    store: LocalStore, document: TestDocument
) -> None:
    case_id = open_case(store, booked=None)
    app = Host(reading_for(store, document), case_id)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await type_can_and_read(pilot, document.can)
        assert "Echtheit bestätigt" in text_of(app, "#verdict")
        app.screen.query_one("#can", Input).value = ""
        await type_can_and_read(pilot, document.can)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Echtheit bestätigt" in text_of(app, "#verdict")
        assert "Unerwarteter Fehler" not in text_of(app, "#progress-steps")
        assert len(app.screen.query("#photo-text")) == 1
    with store.session() as session:
        assert len(session.scalars(select(CardRead)).all()) == 2


async def test_no_reader_is_shown_as_a_problem(store: LocalStore, document: TestDocument) -> None:
    case_id = open_case(store, booked=None)
    app = Host(reading_for(store, document, readers=[]), case_id)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        status = app.screen.query_one("#reader-status", Static)
        assert status.has_class("problem")
        assert "Kein Kartenleser" in text_of(app, "#reader-status")


async def test_mrz_entry_reads_the_document(store: LocalStore, document: TestDocument) -> None:
    case_id = open_case(store, booked=None)
    calls: list[str] = []
    app = Host(reading_for(store, document, calls=calls), case_id)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.click("#access-mrz")
        await pilot.pause()
        area = app.screen.query_one("#mrz", TextArea)
        assert not area.has_class("hidden")
        assert app.screen.query_one("#can").has_class("hidden")
        area.text = document.mrz
        await pilot.click("#read")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert calls == ["MrzKey"]


async def test_a_previous_read_is_shown_when_the_dialog_opens_again(
    store: LocalStore, document: TestDocument
) -> None:
    case_id = open_case(store, booked=None)
    reading = reading_for(store, document)
    reading.read(case_id, make_can(document))
    app = Host(reading, case_id)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert text_of(app, "#verdict") == "Zuletzt gelesen: Echtheit bestätigt"


def make_can(document: TestDocument) -> CanKey:
    from devices.card.access import CanKey

    return CanKey(document.can)


def desk_app(store: LocalStore, card_reading: CardReading | None = None) -> TresenApp:
    from workstation.commands import DeskContext
    from workstation.counter import Counter
    from workstation.login import Workplace

    counter = Counter(store, DeskContext("ws-1", "office-1", "desk-1", "clerk-1"), clock=lambda: NOW)
    return TresenApp(workplace=Workplace(counter, None, "Schalter 1"), card_reading=card_reading)


async def test_the_app_builds_the_card_service_once_for_the_logged_in_desk(store: LocalStore) -> None:
    app = desk_app(store)
    async with app.run_test(size=SIZE):
        reading = app.card_reading()
        assert isinstance(reading, CardReading)
        assert app.card_reading() is reading
        # The real PC/SC stack answers here: a reader, or pcscd's absence, in German either way.
        assert reading.reader_status().message.strip()


async def test_the_app_takes_the_card_service_it_was_given(store: LocalStore, document: TestDocument) -> None:
    offered = reading_for(store, document)
    app = desk_app(store, offered)
    async with app.run_test(size=SIZE):
        assert app.card_reading() is offered


@pytest.mark.serial
@pytest.mark.pcsc
@pytest.mark.xdist_group("pcsc")
async def test_read_through_pcscd_with_the_dialog(
    store: LocalStore,
    virtual_reader: VirtualReader,  # noqa: F811  (the fixture imported above)
    document: TestDocument,
) -> None:
    from devices.card.emulator.card import card_for_document

    virtual_reader.insert(card_for_document(document))
    case_id = open_case(store, booked=("Müller-Lüdenscheidt", "Jürgen Weiß", None))
    reading = pcsc_reading(store, document)
    app = Host(reading, case_id)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert virtual_reader.name in text_of(app, "#reader-status")
        await type_can_and_read(pilot, document.can)
        assert "Echtheit bestätigt" in text_of(app, "#verdict")
        assert "APDUs" in text_of(app, "#figures")
        assert "PACE" in text_of(app, "#progress-steps")


async def test_closing_during_a_read_drops_the_late_result(store: LocalStore, document: TestDocument) -> None:
    case_id = open_case(store, booked=None)
    release = threading.Event()
    parse = parsing_reader(document)

    def slow_reader(
        reader: str | None,
        access_key: AccessKey,
        progress: ProgressCallback | None = None,
        *,
        trust: TrustStore | None = None,
        wait_for_card: float = 0.0,
    ) -> DocumentRead:
        release.wait(10)  # the clerk closes the dialog while the chip is still being read
        return parse(reader, access_key, progress, trust=trust, wait_for_card=wait_for_card)

    reading = CardReading(
        store,
        Desk1(),
        slow_reader,
        trust=document.trust_store(),
        readers_fn=lambda: ["Lesegerät"],
        clock=lambda: NOW,
    )
    app = Host(reading, case_id)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.click("#can")
        await pilot.press(*document.can, "enter")
        await pilot.pause()
        assert app.screen.query_one("#read", Button).disabled
        await pilot.press("enter")  # impatient clerk: no second read while the first is on the card
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.dismissed == [None]
        release.set()
        # The worker thread outlives the dialog; wait for it to finish the read.
        await wait_until(pilot, lambda: reading.latest(case_id) is not None, "the late read is kept")
        await pilot.pause()
        assert app.is_running  # the late progress and result went nowhere, without an error
    assert reading.latest(case_id) is not None  # the read itself completed and was kept with the case
    with store.session() as session:
        assert len(session.scalars(select(CardRead)).all()) == 1


async def test_the_photo_is_shown_with_textual_image_where_possible(
    store: LocalStore, document: TestDocument, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual_image.widget import UnicodeImage

    from screens import card_read

    # A pixel-capable terminal cannot exist under pytest; textual-image's text-cell widget stands in.
    monkeypatch.setattr(card_read._photo_support, "image_widget", UnicodeImage)
    case_id = open_case(store, booked=None)
    app = Host(reading_for(store, document), case_id)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await type_can_and_read(pilot, document.can)
        image = app.screen.query_one("#photo-image", UnicodeImage)
        assert image.image is not None
        assert not app.screen.query("#photo-text")
