"""In a real browser: the display's labels rotating through the office's stored languages (driven by
the page's own timer and by its hook, waiting on the DOM, never on the clock), the status page's
"bitte zur Fotostation" ending live when the capture terminal reports a photo, and axe-core on every
new text."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from sync.central import display_config
from sync.central.credentials import TokenKind
from sync.central.display_config import DisplaySettings
from sync.central.display_texts import DISPLAY_TEXTS, TEXTS
from sync.protocol import API_PREFIX as API
from tests.browser.test_waiting_room import DEADLINE_MS, _serious_violations, call_next, issue, open_live
from tests.central.conftest import OFFICE
from tests.credentials import bearer

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser.conftest import Central

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def configure(central: Central, **settings: Any) -> None:
    assert central.running is not None
    with central.running.store.write() as session:
        display_config.write_settings(session, OFFICE, DisplaySettings(**settings), central.clock())


def queue_heading(page: Page) -> str:
    """The queue panel's heading of the language shown now (the others are hidden)."""
    return page.locator(".board:not([hidden]) .queue-panel h2").inner_text()


def test_the_labels_rotate_through_the_offices_languages_on_their_own(page: Page, central: Central) -> None:
    configure(central, languages=["de", "en", "tr"], rotate_seconds=1)
    open_live(page, central.display_url())
    html = page.locator("html")
    for code in ("en", "tr", "de"):  # German first, then each in turn, then German again
        expect(html).to_have_attribute("lang", code, timeout=DEADLINE_MS)
        expect(page.locator(f'.board[data-lang="{code}"] .queue-panel h2')).to_be_visible()
    assert page.locator(".board:not([hidden])").count() == 1


def test_the_rotation_keeps_its_language_across_a_live_update(page: Page, central: Central) -> None:
    configure(central, languages=["de", "en", "tr"], rotate_seconds=300)  # only the hook turns it
    open_live(page, central.display_url())
    assert queue_heading(page) == DISPLAY_TEXTS["de"]["queue"]
    assert page.evaluate("window.tresenDisplay.rotate()") == "en"
    assert queue_heading(page) == DISPLAY_TEXTS["en"]["queue"]
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator('#offline [data-lang="en"]')).to_have_text(DISPLAY_TEXTS["en"]["offline"])

    called = call_next(central, "call-rotating")  # the stream swaps the live part in
    row = page.locator(f'.board[data-lang="en"] tr.call[data-call-id="{called["call"]["id"]}"]')
    expect(row).to_be_visible(timeout=DEADLINE_MS)
    assert queue_heading(page) == DISPLAY_TEXTS["en"]["queue"]  # still English after the swap
    assert page.evaluate("window.tresenDisplay.rotate()") == "tr"
    expect(page.locator(".board:not([hidden]) .calls th").nth(2)).to_have_text(DISPLAY_TEXTS["tr"]["desk"])


def test_the_photo_station_hint_ends_when_the_terminal_reports_the_photo(
    page: Page, central: Central
) -> None:
    passport = issue(central, "ba-mitte-pa")
    open_live(page, f"{central.url}/q/{passport['status_token']}")
    hint = page.locator(".photo-station")
    expect(hint).to_have_text(TEXTS["de"]["photo_station"])

    assert central.running is not None
    terminal = bearer(central.running.store, TokenKind.CAPTURE, OFFICE)
    body = {"ticket_number": passport["number"], "reference": "T-0815", "items": ["photo"]}
    answer = central.http.post(f"{API}/offices/{OFFICE}/captures", json=body, headers=terminal)
    assert answer.status_code == 201, answer.text
    expect(hint).to_have_count(0, timeout=DEADLINE_MS)  # through the stream, no reload
    expect(page.locator(".number")).to_have_text(passport["number"])


@pytest.mark.parametrize("viewport", [{"width": 360, "height": 640}, {"width": 1920, "height": 1080}])
def test_the_new_texts_have_no_serious_accessibility_violation(
    page: Page, central: Central, viewport: dict[str, int]
) -> None:
    page.set_viewport_size(viewport)  # type: ignore[arg-type]
    configure(central, languages=list(DISPLAY_TEXTS), columns=2, rotate_seconds=300)
    call_next(central, "call-axe-1")
    call_next(central, "call-axe-2")
    open_live(page, central.display_url())
    for _ in DISPLAY_TEXTS:  # every language the display can show
        violations = _serious_violations(page)
        shown = page.locator("html").get_attribute("lang")
        assert violations == [], (
            shown,
            json.dumps([(v["id"], v["help"], len(v["nodes"])) for v in violations]),
        )
        page.evaluate("window.tresenDisplay.rotate()")
    passport = issue(central, "ba-mitte-pa")
    for lang in ("de", "en"):
        page.goto(f"{central.url}/q/{passport['status_token']}?lang={lang}")
        expect(page.locator(".photo-station")).to_be_visible()
        violations = _serious_violations(page)
        assert violations == [], json.dumps([(v["id"], v["help"], len(v["nodes"])) for v in violations])
