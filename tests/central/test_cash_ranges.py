"""Kassenzeichen ranges reserved per desk (sync/central/cash_ranges.py): fresh, never overlapping
ranges for each desk's workstation, a lost answer given again, the workstation guards — on SQLite
and PostgreSQL, and with two central stores (two processes' connection pools) reserving at once."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from sqlalchemy import select

from sync.central import cash_ranges
from sync.central import store as central_models
from sync.central.app import create_app
from sync.central.seed import generate_day, seed_central
from sync.central.store import CentralStore
from sync.kassenzeichen import DEFAULT_PREFIX, RANGE_SIZE
from sync.protocol import KassenzeichenRangeRequest
from tests.central.conftest import DAY, DESK, OFFICE, OPENING, WORKSTATION
from tests.credentials import signed_client, workstation_auth

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from fastapi import FastAPI
    from fastapi.testclient import TestClient

OTHER_DESK = "ba-mitte-d2"
URL = "/api/v1/desks/{desk}/kassenzeichen-ranges"


def reserve(client: TestClient, desk: str, workstation: str, **newest: object) -> dict[str, object]:
    response = client.post(URL.format(desk=desk), json={"workstation_id": workstation, **newest})
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


def numbers(grant: dict[str, object]) -> set[tuple[object, int]]:
    first, last = grant["first"], grant["last"]
    assert isinstance(first, int)
    assert isinstance(last, int)
    return {(grant["prefix"], n) for n in range(first, last + 1)}


def test_each_request_naming_the_newest_range_gets_a_fresh_one(client: TestClient) -> None:
    first = reserve(client, DESK, WORKSTATION)
    assert first["prefix"] == DEFAULT_PREFIX
    assert len(numbers(first)) == RANGE_SIZE
    second = reserve(client, DESK, WORKSTATION, newest_prefix=first["prefix"], newest_first=first["first"])
    assert not numbers(first) & numbers(second)


def test_a_lost_answer_is_given_again_instead_of_a_fresh_range(client: TestClient) -> None:
    first = reserve(client, DESK, WORKSTATION)
    assert reserve(client, DESK, WORKSTATION) == first  # it still holds none: the answer was lost
    held = reserve(client, DESK, WORKSTATION, newest_prefix=first["prefix"], newest_first=first["first"])
    again = reserve(client, DESK, WORKSTATION, newest_prefix=first["prefix"], newest_first=first["first"])
    assert again == held != first


def test_two_desks_and_two_workstations_at_one_desk_never_overlap(
    client: TestClient, signed_as: Callable[[str, str], TestClient]
) -> None:
    other = signed_as(OFFICE, "ws-other")
    grants = [
        reserve(client, DESK, WORKSTATION),
        reserve(other, OTHER_DESK, "ws-other"),
        reserve(other, DESK, "ws-other"),  # a second workstation configured for the same desk id
        reserve(client, OTHER_DESK, WORKSTATION),
    ]
    seen: set[tuple[object, int]] = set()
    for grant in grants:
        assert not seen & numbers(grant)
        seen |= numbers(grant)


def test_only_the_workstation_itself_at_its_own_desk_and_office(
    central_app: FastAPI, client: TestClient, anonymous: TestClient
) -> None:
    body = {"workstation_id": WORKSTATION}
    assert anonymous.post(URL.format(desk=DESK), json=body).status_code == 401
    assert client.post(URL.format(desk=DESK), json={"workstation_id": "ws-someone-else"}).status_code == 403
    assert client.post(URL.format(desk="ba-nord-d1"), json=body).status_code in (403, 404)
    assert client.post(URL.format(desk="no-such-desk"), json=body).status_code == 404
    bound = signed_client(
        central_app, workstation_auth(central_app.state.store, "ws-bound", OFFICE, desk_id=DESK)
    )
    refused = bound.post(URL.format(desk=OTHER_DESK), json={"workstation_id": "ws-bound"})
    assert refused.status_code == 403
    assert "another desk" in refused.text
    assert bound.post(URL.format(desk=DESK), json={"workstation_id": "ws-bound"}).status_code == 200


def test_another_offices_desk_is_refused(central_app: FastAPI, client: TestClient) -> None:
    with central_app.state.store.read() as session:
        foreign = session.scalars(
            select(central_models.Desk).where(central_models.Desk.office_id != OFFICE)
        ).first()
    assert foreign is not None
    refused = client.post(URL.format(desk=foreign.id), json={"workstation_id": WORKSTATION})
    assert refused.status_code == 403
    assert "another office" in refused.text


RESERVERS_PER_STORE = 4
RESERVATIONS_EACH = 5


def test_two_central_stores_reserving_at_once_never_hand_out_one_range_twice(
    central_app: FastAPI, db_url: str
) -> None:
    """Two stores (two connection pools, as two central processes) and threads on each: the counter
    row lock (PostgreSQL) or the one writer (SQLite) serialises them; no running number twice."""
    stores = [central_app.state.store, CentralStore(db_url)]
    barrier = threading.Barrier(len(stores) * RESERVERS_PER_STORE)
    grants: list[tuple[str, int, int]] = []
    errors: list[BaseException] = []

    def reserve_many(central: CentralStore, workstation: str) -> None:
        try:
            barrier.wait(timeout=30)
            newest: int | None = None
            for _ in range(RESERVATIONS_EACH):
                request = KassenzeichenRangeRequest(
                    workstation_id=workstation, newest_prefix=DEFAULT_PREFIX, newest_first=newest
                )
                with central.write() as session:
                    desk = session.get(central_models.Desk, DESK)
                    assert desk is not None
                    block = cash_ranges.reserve(session, DEFAULT_PREFIX, desk, request, OPENING)
                    grants.append((block.prefix, block.first, block.last))
                newest = block.first
        except BaseException as error:  # noqa: BLE001 (thread boundary: asserted empty below)
            errors.append(error)

    threads = [
        threading.Thread(target=reserve_many, args=(central, f"ws-{index}-{n}"))
        for index, central in enumerate(stores)
        for n in range(RESERVERS_PER_STORE)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    stores[1].dispose()
    assert not errors
    assert len(grants) == len(threads) * RESERVATIONS_EACH
    covered = [n for _prefix, first, last in grants for n in range(first, last + 1)]
    assert len(covered) == len(set(covered))
    with central_app.state.store.read() as session:
        rows = session.scalars(select(central_models.KassenzeichenBlock)).all()
    assert len(rows) == len(grants)


def test_the_prefix_is_the_central_services_setting(tmp_path: Path) -> None:
    app = create_app(f"sqlite:///{tmp_path / 'prefixed.sqlite3'}", kassenzeichen_prefix="4711")
    with app.state.store.write() as session:
        seed_central(session, generate_day(DAY, seed=3, now=OPENING))
    with signed_client(app, workstation_auth(app.state.store, WORKSTATION, OFFICE)) as prefixed:
        grant = reserve(prefixed, DESK, WORKSTATION)
    assert grant["prefix"] == "4711"
    assert grant["first"] == 0  # a prefix of its own counts from the start
