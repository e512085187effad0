"""The call display and the status page in a real browser: live updates over server-sent events, a
restart of the central service, the status page against the queue, a wrong token, accessibility."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from sync.protocol import API_PREFIX as API
from tests.browser.conftest import AXE_JS, WORKSTATION
from tests.central.conftest import CLERK, DESK, OFFICE
from tests.central.test_display import ahead_in_queue

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser.conftest import Central

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

DEADLINE_MS = 5000  # generous on a shared 2-core machine; the latency itself is measured in bench/


def call_next(central: Central, call_id: str, desk: str = DESK) -> dict[str, Any]:
    response = central.http.post(
        f"{API}/desks/{desk}/call-next",
        json={"workstation_id": WORKSTATION, "clerk_id": CLERK, "call_id": call_id},
    )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    assert body["ticket"] is not None
    return body


def issue(central: Central, service: str = "ba-mitte-an") -> dict[str, Any]:
    response = central.http.post(
        f"{API}/tickets", json={"office_id": OFFICE, "service_ids": [service], "priority": 0}
    )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def open_live(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-connection", "live", timeout=DEADLINE_MS)


def test_the_display_shows_a_call_made_through_the_api(page: Page, central: Central) -> None:
    open_live(page, central.display_url())
    called = call_next(central, "call-live")
    row = page.locator(f'tr.call[data-call-id="{called["call"]["id"]}"]')
    expect(row).to_be_visible(timeout=DEADLINE_MS)
    expect(row.locator(".number")).to_have_text(called["ticket"]["number"])
    expect(row.locator(".desk")).to_contain_text("1")
    expect(row).to_have_class("call new")  # the new call is highlighted
    expect(page.locator("tr.call").first).to_have_attribute("data-call-id", called["call"]["id"])


def test_the_display_survives_a_restart_of_the_central_service(page: Page, central: Central) -> None:
    first = call_next(central, "call-before")
    open_live(page, central.display_url())
    before = page.locator(f'tr.call[data-call-id="{first["call"]["id"]}"]')
    expect(before).to_be_visible()

    central.stop()
    expect(page.locator("#offline")).to_be_visible(timeout=DEADLINE_MS)
    expect(page.locator("#offline")).to_have_text("Verbindung unterbrochen")
    expect(before).to_be_visible()  # the last state stays

    central.start()
    expect(page.locator("#offline")).to_be_hidden(timeout=DEADLINE_MS * 2)
    second = call_next(central, "call-after")
    expect(page.locator(f'tr.call[data-call-id="{second["call"]["id"]}"]')).to_be_visible(timeout=DEADLINE_MS)


def test_the_status_page_matches_the_queue_and_follows_the_call(page: Page, central: Central) -> None:
    ticket = issue(central)
    open_live(page, f"{central.url}/q/{ticket['status_token']}")
    expect(page.locator(".number")).to_have_text(ticket["number"])
    ahead = page.locator(".ahead")
    expect(ahead).to_have_attribute("data-ahead", str(ahead_in_queue(central.http, ticket["id"])))

    for n in range(60):
        called = call_next(central, f"call-{n}")
        if called["ticket"]["id"] == ticket["id"]:
            break
        expected = ahead_in_queue(central.http, ticket["id"])
        if expected:
            expect(ahead).to_have_attribute("data-ahead", str(expected), timeout=DEADLINE_MS)
        else:
            expect(page.locator(".message")).to_have_text("Sie sind als Nächstes dran.", timeout=DEADLINE_MS)
    expect(page.locator(".message")).to_have_text("Sie wurden aufgerufen: Schalter 1", timeout=DEADLINE_MS)


def test_a_wrong_token_shows_unbekannt_and_no_data(page: Page, central: Central) -> None:
    issue(central)
    response = page.goto(f"{central.url}/q/guessed-token")
    assert response is not None
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("unbekannt")
    text = page.locator("body").inner_text()
    assert "Bürgeramt" not in text
    assert "Nummer" not in text
    assert page.locator("dd").count() == 0


def _serious_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE_JS))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document,"
        " {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']})"
    )
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("viewport", [{"width": 360, "height": 640}, {"width": 1920, "height": 1080}])
def test_the_pages_have_no_serious_accessibility_violation(
    page: Page, central: Central, viewport: dict[str, int]
) -> None:
    page.set_viewport_size(viewport)  # type: ignore[arg-type]
    ticket = issue(central)
    call_next(central, "call-axe")  # a highlighted row on the display
    for url in (
        central.display_url(),
        f"{central.url}/q/{ticket['status_token']}",
        f"{central.url}/q/{ticket['status_token']}?lang=en",
        f"{central.url}/q/guessed-token",
    ):
        page.goto(url)
        violations = _serious_violations(page)
        assert violations == [], json.dumps([(v["id"], v["help"], len(v["nodes"])) for v in violations])
