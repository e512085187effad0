"""Call-next arbitration: the order of DESIGN §7, idempotency per call id, and 20 desks at once against
a real uvicorn server (real concurrent requests, not the in-process client) never sharing a ticket."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import pytest

from sync.central import store
from sync.central.credentials import TokenKind
from sync.central.embedded import EmbeddedCentral, start_embedded
from sync.central.seed import generate_day, seed_central
from sync.clock import OFFICE_ZONE
from tests.central.conftest import CLERK, DAY, DESK, OFFICE, WORKSTATION, MovableClock
from tests.credentials import bearer, workstation_auth

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from fastapi.testclient import TestClient

API = "/api/v1"


def call_next(
    client: TestClient | httpx.Client,
    desk: str,
    call_id: str,
    clerk: str = CLERK,
    workstation: str = WORKSTATION,
) -> httpx.Response:
    return client.post(
        f"{API}/desks/{desk}/call-next",
        json={"workstation_id": workstation, "clerk_id": clerk, "call_id": call_id},
    )


def test_calls_follow_the_queue_order_with_an_explanation(client: TestClient) -> None:
    urgent = client.post(
        f"{API}/tickets", json={"office_id": OFFICE, "service_ids": ["ba-mitte-an"], "priority": 1}
    )
    first = call_next(client, DESK, "call-a").json()
    assert first["ticket"]["id"] == urgent.json()["id"]
    assert first["explanation"].startswith("Dringend")
    assert first["call"]["desk_id"] == DESK
    assert first["ticket"]["state"] == "called"
    second = call_next(client, DESK, "call-b").json()
    assert second["explanation"].startswith("Ohne Termin, wartet seit")
    # Walk-ins seeded before opening: the longest-waiting one comes first.
    waiting = sorted(
        (t for t in client.get(f"{API}/sync/changes", params={"office_id": OFFICE}).json()["tickets"]),
        key=lambda t: t["issued_at"],
    )
    assert second["ticket"]["issued_at"] <= min(t["issued_at"] for t in waiting if t["state"] == "waiting")


def test_a_due_appointment_goes_before_walk_ins(client: TestClient, clock: MovableClock) -> None:
    listed = client.get(f"{API}/appointments", params={"office_id": OFFICE, "date": DAY.isoformat()}).json()
    slot = datetime.fromisoformat(listed[0]["slot_start"])
    clock.now = slot - timedelta(minutes=15)  # checked in early: the walk-ins go first until it is due
    ticket = client.post(
        f"{API}/check-ins", json={"office_id": OFFICE, "booking_reference": listed[0]["booking_reference"]}
    ).json()
    assert call_next(client, DESK, "call-walk-in").json()["ticket"]["origin"] == "kiosk"
    clock.now = slot + timedelta(minutes=3)  # due since slot minus the 5-minute early window
    answer = call_next(client, DESK, "call-apt").json()
    assert answer["ticket"]["id"] == ticket["id"]
    assert answer["explanation"] == f"Termin {slot.astimezone(OFFICE_ZONE):%H:%M}, fällig seit 8 min"


def test_the_same_call_id_returns_the_same_ticket(client: TestClient) -> None:
    first = call_next(client, DESK, "retry-me").json()
    again = call_next(client, DESK, "retry-me").json()
    assert first["ticket"]["id"] == again["ticket"]["id"]
    assert again["ticket"]["called_count"] == 1
    other_desk = call_next(client, "ba-mitte-d2", "retry-me")
    assert other_desk.status_code == 409


def test_an_empty_queue_answers_no_ticket(signed_as: Callable[[str, str], TestClient]) -> None:
    zl = signed_as("zl-sued", "ws-zl")
    answers = [
        call_next(zl, "zl-sued-d1", f"zl-{n}", clerk="zl-sued-c12", workstation="ws-zl").json()
        for n in range(30)
    ]
    assert answers[-1]["ticket"] is None
    called = [a["ticket"]["id"] for a in answers if a["ticket"]]
    assert len(called) == len(set(called)) > 0


def test_a_clerk_of_another_office_is_refused(client: TestClient) -> None:
    assert call_next(client, DESK, "x", clerk="zl-sued-c12").status_code == 409


def test_a_desk_of_another_office_is_forbidden(client: TestClient) -> None:
    assert call_next(client, "zl-sued-d1", "x", clerk="zl-sued-c12").status_code == 403


@pytest.fixture
def running_central(db_url: str) -> Iterator[tuple[EmbeddedCentral, str]]:
    """A real uvicorn server over the parametrised database, with 20 desks and 30 waiting walk-ins."""
    now = datetime.now(UTC)
    central = start_embedded(db_url)
    big_store = store.CentralStore(db_url)
    with big_store.write() as session:
        seed_central(session, generate_day(now.date(), seed=11, waiting=0))
        services = [s.id for s in session.query(store.Service).filter_by(office_id=OFFICE)]
        desks = [
            store.Desk(
                id=f"race-d{n}",
                office_id=OFFICE,
                number=100 + n,
                name=f"Schalter {100 + n}",
                service_ids=services,
            )
            for n in range(20)
        ]
        session.add_all(desks)
        session.flush()
        store.stamp(session, OFFICE, desks)
    big_store.dispose()
    with httpx.Client(base_url=central.url, headers=bearer(central.store, TokenKind.KIOSK, OFFICE)) as http:
        for _ in range(30):
            http.post(
                f"{API}/tickets", json={"office_id": OFFICE, "service_ids": ["ba-mitte-pa"]}
            ).raise_for_status()
    yield central, db_url
    central.stop()


def test_twenty_desks_calling_at_once_get_twenty_distinct_tickets(
    running_central: tuple[EmbeddedCentral, str],
) -> None:
    central, _ = running_central
    start = threading.Barrier(20)

    auths = [workstation_auth(central.store, f"ws-race-{n}", OFFICE) for n in range(20)]

    def desk_calls(n: int) -> httpx.Response:
        with httpx.Client(base_url=central.url, timeout=30, auth=auths[n]) as http:
            start.wait()
            return call_next(
                http,
                f"race-d{n}",
                f"race-call-{n}",
                clerk=f"ba-mitte-c{n % 10 + 1}",
                workstation=f"ws-race-{n}",
            )

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(desk_calls, range(20)))
    assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers if a.status_code != 200]
    tickets = [a.json()["ticket"]["id"] for a in answers]
    assert len(set(tickets)) == 20
    with httpx.Client(base_url=central.url, auth=auths[0]) as http:
        page = http.get(f"{API}/sync/changes", params={"office_id": OFFICE, "limit": 5000}).json()
    called = {t["id"]: t for t in page["tickets"] if t["state"] == "called"}
    assert set(called) == set(tickets)
    assert {t["desk_id"] for t in called.values()} == {f"race-d{n}" for n in range(20)}
    assert all(t["called_count"] == 1 for t in called.values())
    assert len(page["calls"]) == 20
