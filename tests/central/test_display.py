"""The waiting-room pages over HTTP (no browser): the token, the status page against the queue, the
call display after a call, the plain "unbekannt" for a wrong token, languages, the schema upgrade."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect

from sync.central.changes import ChangeNotifier
from sync.central.display import TEXTS, BoardCache, StreamHub, demo_addresses, render_display_live
from sync.central.seed import generate_day, seed_central
from sync.central.store import CentralStore
from sync.ordering import OrderingRules, QueueEntry, order_key
from sync.protocol import API_PREFIX as API
from tests.central.conftest import CLERK, DAY, DESK, OFFICE, OPENING, WORKSTATION, MovableClock

if TYPE_CHECKING:
    from pathlib import Path

    import httpx
    from fastapi.testclient import TestClient


def issue(client: TestClient, service: str = "ba-mitte-an") -> dict[str, object]:
    response = client.post(
        f"{API}/tickets", json={"office_id": OFFICE, "service_ids": [service], "priority": 0}
    )
    assert response.status_code == 201
    body: dict[str, object] = response.json()
    return body


def call_next(client: TestClient, call_id: str, desk: str = DESK) -> dict[str, object]:
    response = client.post(
        f"{API}/desks/{desk}/call-next",
        json={"workstation_id": WORKSTATION, "clerk_id": CLERK, "call_id": call_id},
    )
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def ahead_on_page(page: str) -> int:
    found = re.search(r'data-ahead="(\d+)"', page)
    assert found is not None, page
    return int(found.group(1))


def ahead_in_queue(client: TestClient | httpx.Client, ticket_id: str) -> int:
    """Recount from the changes feed with the call-next order: waiting tickets sharing a service."""
    page = client.get(f"{API}/sync/changes", params={"office_id": OFFICE}).json()
    office = page["offices"][0]
    rules = OrderingRules(office["recall_block_minutes"], office["early_window_minutes"])
    slots = {a["id"]: a["slot_start"] for a in page["appointments"]}

    def entry(ticket: dict[str, Any]) -> QueueEntry:
        slot = slots.get(str(ticket["appointment_id"])) if ticket["appointment_id"] else None
        return QueueEntry(
            str(ticket["id"]),
            str(ticket["number"]),
            datetime.fromisoformat(str(ticket["issued_at"])),
            frozenset(ticket["service_ids"]),
            slot_start=datetime.fromisoformat(slot) if slot else None,
        )

    waiting = [entry(t) for t in page["tickets"] if t["state"] == "waiting"]
    mine = next(e for e in waiting if e.ticket_id == ticket_id)
    now = max(e.issued_at for e in waiting)  # the clock does not move in this test
    return sum(
        1
        for other in waiting
        if other is not mine
        and other.service_ids & mine.service_ids
        and order_key(other, now, rules) < order_key(mine, now, rules)
    )


def test_the_kiosk_answer_carries_an_unguessable_token(client: TestClient) -> None:
    first, second = issue(client), issue(client)
    assert isinstance(first["status_token"], str)
    assert len(first["status_token"]) >= 43
    assert first["status_token"] != second["status_token"]
    feed = client.get(f"{API}/sync/changes", params={"office_id": OFFICE}).text
    assert str(first["status_token"]) not in feed  # only the kiosk learns it


def test_the_status_page_follows_the_ticket_from_waiting_to_called(client: TestClient) -> None:
    ticket = issue(client)
    page = client.get(f"/q/{ticket['status_token']}")
    assert page.status_code == 200
    assert ticket["number"] in page.text
    assert ahead_on_page(page.text) == ahead_in_queue(client, str(ticket["id"]))
    assert page.headers["cache-control"] == "no-store"

    for n in range(60):
        called = call_next(client, f"call-{n}")
        assert called["ticket"] is not None, "the ticket was never called"
        if called["ticket"]["id"] == ticket["id"]:  # type: ignore[index]
            break
        page = client.get(f"/q/{ticket['status_token']}")
        if "data-ahead" in page.text:
            assert ahead_on_page(page.text) == ahead_in_queue(client, str(ticket["id"]))
        else:
            assert "Sie sind als Nächstes dran." in page.text
    page = client.get(f"/q/{ticket['status_token']}")
    assert "Sie wurden aufgerufen: Schalter 1" in page.text


def test_a_wrong_token_gives_a_plain_unbekannt_and_nothing_else(client: TestClient) -> None:
    issue(client)
    page = client.get("/q/not-a-token-at-all")
    assert page.status_code == 404
    assert "unbekannt" in page.text
    assert "Bürgeramt" not in page.text
    assert not re.search(r"\b[A-Z]\d{3}\b", page.text)  # no ticket number
    assert "EventSource" not in page.text  # no stream to subscribe to
    events = client.get("/q/not-a-token-at-all/events")
    assert "event: gone" in events.text


def test_the_status_page_speaks_english_on_request(client: TestClient) -> None:
    token = issue(client)["status_token"]
    by_query = client.get(f"/q/{token}?lang=en").text
    by_header = client.get(f"/q/{token}", headers={"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"}).text
    assert '<html lang="en">' in by_query
    assert "Ahead of you" in by_query
    assert "Ahead of you" in by_header
    assert '<html lang="de">' in client.get(f"/q/{token}", headers={"Accept-Language": "fr, de;q=0.8"}).text


def test_the_display_shows_the_latest_call_and_the_queue(client: TestClient) -> None:
    called = call_next(client, "call-display")
    page = client.get(f"/display/{OFFICE}")
    assert page.status_code == 200
    number = called["ticket"]["number"]  # type: ignore[index]
    assert re.search(rf'class="number">{number}</td>.*?</span>1</td>', page.text)
    assert "wartend" in page.text
    assert client.get("/display/no-such-office").status_code == 403  # not this workstation's office


def test_an_older_database_gets_the_token_column(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    store = CentralStore(url)
    store.create_schema()
    with store.write_engine.begin() as connection:  # what a database from before the column looks like
        connection.exec_driver_sql("DROP INDEX ix_tickets_status_token")
        connection.exec_driver_sql("ALTER TABLE tickets DROP COLUMN status_token")
    store.create_schema()
    columns = {c["name"] for c in inspect(store.write_engine).get_columns("tickets")}
    indexes = {i["name"] for i in inspect(store.write_engine).get_indexes("tickets")}
    store.dispose()
    assert "status_token" in columns
    assert "ix_tickets_status_token" in indexes


async def test_closing_the_hub_ends_open_streams(tmp_path: Path) -> None:
    """What shutdown relies on: `StreamHub.close()` (from another thread) ends a waiting stream."""
    store = CentralStore(f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    store.create_schema()
    with store.write() as session:
        seed_central(session, generate_day(DAY, seed=3, now=OPENING + timedelta(minutes=30)))
    notifier = ChangeNotifier()
    hub = StreamHub(notifier)
    cache = BoardCache(store, lambda: OPENING + timedelta(hours=1))
    events: list[bytes] = []
    first_state = asyncio.Event()

    async def consume() -> None:
        async for event in hub.stream(OFFICE, cache, lambda board: render_display_live(board, TEXTS["de"])):
            events.append(event)
            if event.startswith(b"event: state\n"):
                first_state.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_state.wait(), 10)
    assert hub.open_streams == 1
    await asyncio.to_thread(hub.close)
    await asyncio.wait_for(task, 10)  # would wait REFRESH_SECONDS × … until the lifetime without close()
    store.dispose()
    assert hub.open_streams == 0
    assert [event.split(b"\n", 1)[0] for event in events] == [b"retry: 1000", b"event: state"]


def test_a_display_can_show_only_some_groups_and_fewer_calls(client: TestClient, clock: MovableClock) -> None:
    called = []
    for n in range(3):
        clock.advance(seconds=30)  # distinct call times: the display orders by them
        called.append(call_next(client, f"call-g{n}")["ticket"])
    prefixes = {str(t["number"])[0] for t in called}  # type: ignore[index]
    everything = client.get(f"/display/{OFFICE}").text
    assert all(f'data-prefix="{p}"' in everything for p in prefixes)
    one = sorted(prefixes)[0]
    only = client.get(f"/display/{OFFICE}", params={"groups": one, "calls": 1}).text
    assert re.findall(r'data-prefix="([^"]+)"', only) == [one]
    assert len(re.findall(r'class="call"', only)) <= 1
    assert re.findall(r'class="number">([^<]+)<', only) == [
        [str(t["number"]) for t in called if str(t["number"]).startswith(one)][-1]  # type: ignore[index]
    ]
    assert f"groups={one}" in only  # the stream keeps the screen's choice


def test_the_demo_addresses_lead_to_the_pages(client: TestClient, anonymous: TestClient) -> None:
    store: CentralStore = client.app.state.store  # type: ignore[attr-defined]
    display, status = demo_addresses(store, "http://testserver", OFFICE)
    assert display.startswith(f"http://testserver/display/{OFFICE}?key=")
    assert status is not None
    # The display's key becomes a cookie, and the browser goes on to the address without it.
    assert anonymous.get(f"/display/{OFFICE}").status_code == 401
    first = anonymous.get(display, follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == f"/display/{OFFICE}"
    assert "httponly" in first.headers["set-cookie"].lower()
    assert anonymous.get(display).status_code == 200
    assert anonymous.get(f"/display/{OFFICE}").status_code == 200  # by the cookie now
    assert anonymous.get(status).status_code == 200  # the status page needs only its own token


def test_a_display_key_of_another_office_shows_nothing(client: TestClient, anonymous: TestClient) -> None:
    store: CentralStore = client.app.state.store  # type: ignore[attr-defined]
    display, _ = demo_addresses(store, "http://testserver", "zl-sued")
    key = display.split("?key=")[1]
    assert anonymous.get(f"/display/{OFFICE}?key={key}").status_code == 403
    assert anonymous.get(f"/display/{OFFICE}?key=wrong-key-of-enough-length").status_code == 401


def test_the_display_keeps_the_office_language_whatever_the_browser_says(client: TestClient) -> None:
    assert '<html lang="de">' in client.get(f"/display/{OFFICE}", headers={"Accept-Language": "en-US"}).text
    assert '<html lang="en">' in client.get(f"/display/{OFFICE}?lang=en").text
