"""The central API's reference data, booking and kiosk endpoints, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sync.protocol import AppointmentSnapshot, OfficeDetail, TicketSnapshot
from tests.central.conftest import DAY, OFFICE, WORKSTATION, MovableClock

if TYPE_CHECKING:
    from fastapi.testclient import TestClient
    from httpx import Response

API = "/api/v1"


def check_in(client: TestClient, booking_reference: str, office: str = OFFICE) -> Response:
    answer: Response = client.post(
        f"{API}/check-ins", json={"office_id": office, "booking_reference": booking_reference}
    )
    return answer


def test_health_reports_a_stable_epoch(client: TestClient) -> None:
    first = client.get(f"{API}/health").json()
    second = client.get(f"{API}/health").json()
    assert first["status"] == "ok"
    assert first["epoch"] == second["epoch"]
    assert len(first["epoch"]) == 36


def test_offices_and_office_detail(client: TestClient) -> None:
    offices = client.get(f"{API}/offices").json()
    assert {o["id"] for o in offices} == {"ba-mitte"}  # a workstation sees its own office only
    detail = OfficeDetail.model_validate(client.get(f"{API}/offices/{OFFICE}").json())
    assert len(detail.desks) == 8
    passport = next(s for s in detail.services if s.code == "PA")
    assert passport.fee_cents == 4600
    assert passport.needs_card_read
    assert passport.required_documents
    assert client.get(f"{API}/offices/nowhere").status_code == 403
    assert client.get(f"{API}/offices/zl-sued").status_code == 403


def test_create_list_and_cancel_an_appointment(client: TestClient) -> None:
    created = client.post(
        f"{API}/appointments",
        json={
            "office_id": OFFICE,
            "slot_start": "2026-03-02T11:20:00+01:00",
            "given_name": "Jürgen",
            "family_name": "Größ",
            "service_ids": ["ba-mitte-pa", "ba-mitte-lb"],
        },
    )
    assert created.status_code == 201, created.text
    appointment = AppointmentSnapshot.model_validate(created.json())
    assert appointment.status == "booked"
    assert appointment.family_name == "Größ"
    listed = client.get(f"{API}/appointments", params={"office_id": OFFICE, "date": DAY.isoformat()}).json()
    assert appointment.id in {a["id"] for a in listed}
    assert len(listed) == 121  # 120 seeded for this office + the new one
    assert [a["slot_start"] for a in listed] == sorted(a["slot_start"] for a in listed)

    cancelled = client.post(f"{API}/appointments/{appointment.id}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    refused = check_in(client, appointment.booking_reference)
    assert refused.status_code == 409
    assert "cancelled" in refused.json()["detail"]


def test_check_in_gives_one_ticket_even_when_repeated(client: TestClient, clock: MovableClock) -> None:
    listed = client.get(f"{API}/appointments", params={"office_id": OFFICE, "date": DAY.isoformat()}).json()
    booked = next(a for a in listed if a["status"] == "booked")
    first = check_in(client, booked["booking_reference"])
    again = check_in(client, booked["booking_reference"])
    assert first.status_code == again.status_code == 200
    ticket = TicketSnapshot.model_validate(first.json())
    assert ticket.id == again.json()["id"]
    assert ticket.appointment_id == booked["id"]
    assert ticket.origin == "appointment"
    assert ticket.issued_at == clock.now
    unknown = check_in(client, "XXXX-NOPE")
    assert unknown.status_code == 404
    assert "XXXX-NOPE" not in unknown.text  # a refusal never repeats the reference
    assert check_in(client, booked["booking_reference"], office="zl-sued").status_code == 403


def test_a_booking_reference_never_travels_in_the_url(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if "booking_reference" in path]


def test_kiosk_numbers_continue_after_the_seeded_ones(client: TestClient) -> None:
    numbers = [
        client.post(f"{API}/tickets", json={"office_id": OFFICE, "service_ids": ["ba-mitte-an"]}).json()[
            "number"
        ]
        for _ in range(3)
    ]
    assert numbers[0].startswith("B")
    values = [int(n[1:]) for n in numbers]
    assert values == [values[0], values[0] + 1, values[0] + 2]
    assert values[0] > 100
    urgent = client.post(
        f"{API}/tickets", json={"office_id": OFFICE, "service_ids": ["ba-mitte-pa"], "priority": 1}
    )
    assert urgent.status_code == 201
    assert urgent.json()["priority"] == 1
    assert urgent.json()["state"] == "waiting"


def test_openapi_document_lists_the_binding_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/health",
        "/api/v1/sync/push",
        "/api/v1/sync/changes",
        "/api/v1/desks/{desk_id}/call-next",
        "/api/v1/tickets",
        "/api/v1/check-ins",
    ):
        assert path in paths


def test_bad_input_gets_a_4xx_with_a_reason(client: TestClient) -> None:
    cases = [
        ("post", f"{API}/tickets", {"office_id": OFFICE, "service_ids": []}, 422),
        ("post", f"{API}/tickets", {"office_id": OFFICE, "service_ids": ["unknown"]}, 422),
        ("post", f"{API}/tickets", {"office_id": OFFICE, "service_ids": ["ba-mitte-pa"], "extra": 1}, 422),
        ("post", f"{API}/tickets", {"office_id": "nowhere", "service_ids": ["ba-mitte-pa"]}, 403),
        (
            "post",
            f"{API}/appointments",
            {
                "office_id": OFFICE,
                "slot_start": "2026-03-02T10:00:00",
                "given_name": "A",
                "family_name": "B",
                "service_ids": ["ba-mitte-pa"],
            },
            422,
        ),
        ("get", f"{API}/appointments?office_id={OFFICE}&date=not-a-date", None, 422),
        ("get", f"{API}/sync/changes?office_id={OFFICE}&limit=0", None, 422),
        ("get", f"{API}/sync/changes?office_id={OFFICE}&wait=3600", None, 422),
        ("post", f"{API}/desks/ba-mitte-d1/call-next", {"workstation_id": "w"}, 422),
        (
            "post",
            f"{API}/desks/nowhere/call-next",
            {"workstation_id": WORKSTATION, "clerk_id": "c", "call_id": "x"},
            404,
        ),
        (
            "post",
            f"{API}/desks/ba-mitte-d1/call-next",
            {"workstation_id": "another", "clerk_id": "c", "call_id": "x"},
            403,
        ),
    ]
    for method, url, body, expected in cases:
        response = client.request(method, url, json=body)
        assert response.status_code == expected, (url, body, response.text)
        assert response.json()["detail"], url
    not_json = client.post(f"{API}/sync/push", content=b"{nope", headers={"content-type": "application/json"})
    assert not_json.status_code == 422
