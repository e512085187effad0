""" "Bitte zur Fotostation" on the status page: shown while a ticket waits for a service that needs a
capture and no photo is recorded for it; gone once the office's capture terminal reports one or a
desk attaches one (`capture.attach`). The terminal's endpoint and its narrow token."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sync.central.credentials import TokenKind
from sync.central.display import TEXTS
from sync.central.seed import _PHOTO, generate_day
from sync.protocol import API_PREFIX as API
from tests.central.conftest import DAY, OFFICE
from tests.central.test_display import issue
from tests.central.test_push import operation, push
from tests.credentials import bearer

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from tests.central.conftest import MovableClock

PHOTO_TEXT = TEXTS["de"]["photo_station"]


def status_page(client: TestClient, ticket: dict[str, object], lang: str = "de") -> str:
    page = client.get(f"/q/{ticket['status_token']}", params={"lang": lang})
    assert page.status_code == 200
    return str(page.text)


def report(
    anonymous: TestClient, central_app: FastAPI, number: object, items: list[str], office: str = OFFICE
) -> int:
    headers = bearer(central_app.state.store, TokenKind.CAPTURE, office)
    body = {"ticket_number": number, "reference": "T-4711", "items": items}
    return int(anonymous.post(f"{API}/offices/{office}/captures", json=body, headers=headers).status_code)


def test_a_service_listing_the_digital_photo_needs_a_capture() -> None:
    """The property the page reads is the service's own flag, and the seed keeps it in step with the
    required document it stands for."""
    services = generate_day(DAY, seed=3).services
    listing_photo = {s.id for s in services if _PHOTO in s.required_documents}
    assert listing_photo, "the seed lists the digital photo somewhere"
    assert listing_photo <= {s.id for s in services if s.needs_capture}


def test_a_ticket_for_an_id_card_is_sent_to_the_photo_station(client: TestClient) -> None:
    passport, registration = issue(client, "ba-mitte-pa"), issue(client, "ba-mitte-an")
    assert PHOTO_TEXT in status_page(client, passport)
    assert TEXTS["en"]["photo_station"] in status_page(client, passport, "en")
    assert "Fotostation" not in status_page(client, registration)


def test_the_terminal_reporting_a_photo_ends_the_hint(
    client: TestClient, anonymous: TestClient, central_app: FastAPI
) -> None:
    passport = issue(client, "ba-mitte-pa")
    assert report(anonymous, central_app, passport["number"], ["signature"]) == 201
    assert PHOTO_TEXT in status_page(client, passport), "a signature alone is no photo"
    assert report(anonymous, central_app, passport["number"], ["photo", "signature"]) == 201
    assert PHOTO_TEXT not in status_page(client, passport)


def test_a_desk_attaching_the_capture_ends_the_hint(client: TestClient, clock: MovableClock) -> None:
    passport = issue(client, "ba-mitte-pa")
    args = {
        "ticket_id": passport["id"],
        "case_id": "case-photo",
        "reference": "cloud:XYZ",
        "sha256": "ab" * 32,
        "items": ["photo"],
        "source": "cloud",
        "at": clock.now.isoformat(),
    }
    answer = push(client, operation(1, "capture.attach", args, clock)).json()
    assert answer["results"][0]["status"] == "applied"
    assert PHOTO_TEXT not in status_page(client, passport)


def test_only_the_offices_capture_terminal_may_report(
    client: TestClient, anonymous: TestClient, central_app: FastAPI
) -> None:
    passport = issue(client, "ba-mitte-pa")
    body = {"ticket_number": passport["number"], "reference": "T-1", "items": ["photo"]}
    central = central_app.state.store
    path = f"{API}/offices/{OFFICE}/captures"
    assert anonymous.post(path, json=body).status_code == 401
    for kind in (TokenKind.KIOSK, TokenKind.DISPLAY, TokenKind.ADMIN):
        assert anonymous.post(path, json=body, headers=bearer(central, kind, OFFICE)).status_code == 403
    assert client.post(path, json=body).status_code == 403  # a workstation attaches by `capture.attach`
    other_terminal = bearer(central, TokenKind.CAPTURE, "zl-sued")
    assert anonymous.post(path, json=body, headers=other_terminal).status_code == 403
    assert PHOTO_TEXT in status_page(client, passport)


def test_an_unknown_number_is_refused_without_echoing_it(anonymous: TestClient, central_app: FastAPI) -> None:
    headers = bearer(central_app.state.store, TokenKind.CAPTURE, OFFICE)
    body = {"ticket_number": "Q999", "reference": "T-1", "items": ["photo"]}
    answer = anonymous.post(f"{API}/offices/{OFFICE}/captures", json=body, headers=headers)
    assert answer.status_code == 404
    assert answer.json()["detail"] == "no ticket of that number today"
    assert "Q999" not in answer.text
