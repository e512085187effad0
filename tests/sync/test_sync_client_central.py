"""CentralClient against the real central service (embedded uvicorn over a seeded SQLite database)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from sync.central.seed import BUERGERAMT_ID, SeedDay
from sync.client import CentralClient, CentralError, SequenceGapError
from sync.protocol import CallNextRequest, Operation, PushRequest
from tests.credentials import workstation_auth
from tests.sync.support import CLERK, DESK, NOW

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sync.central.embedded import EmbeddedCentral

WS = "ws-client-test"


@pytest.fixture
def client(central: EmbeddedCentral) -> Iterator[CentralClient]:
    auth = workstation_auth(central.store, WS, BUERGERAMT_ID)
    with CentralClient(central.url, timeout=15.0, auth=auth) as central_client:
        yield central_client


def _issue(seq: int, service_id: str, ticket_id: str) -> Operation:
    return Operation(
        op_id=f"0190f0a0-0000-7000-8000-{seq:012d}",
        seq=seq,
        kind="ticket.issue",
        args={
            "ticket_id": ticket_id,
            "number": f"S1-{seq:02d}",
            "service_ids": [service_id],
            "priority": 0,
            "appointment_id": None,
            "at": (NOW + timedelta(minutes=seq)).isoformat(),
            "origin": "desk",
        },
        base_version=None,
        created_at=NOW,
    )


def _push(client: CentralClient, *operations: Operation) -> list[str]:
    answer = client.push(PushRequest(workstation_id=WS, office_id=BUERGERAMT_ID, operations=list(operations)))
    return [result.status for result in answer.results]


def test_health_names_the_epoch(client: CentralClient) -> None:
    first = client.health().epoch
    assert first
    assert client.changes(BUERGERAMT_ID, WS, 0, limit=1).epoch == first


def test_changes_come_in_pages_until_nothing_is_left(client: CentralClient, seed_day: SeedDay) -> None:
    cursor, pages = 0, 0
    appointment_ids: set[str] = set()
    while True:
        page = client.changes(BUERGERAMT_ID, WS, cursor, limit=40)
        pages += 1
        assert page.cursor >= cursor
        appointment_ids.update(a.id for a in page.appointments)
        cursor = page.cursor
        if not page.has_more:
            break
    expected = {a.id for a in seed_day.appointments if a.office_id == BUERGERAMT_ID}
    assert appointment_ids == expected
    assert pages > 2
    assert client.changes(BUERGERAMT_ID, WS, cursor).appointments == []


def test_push_is_idempotent_and_acknowledged(client: CentralClient, seed_day: SeedDay) -> None:
    service_id = seed_day.desks[0].service_ids[0]
    first, second = _issue(1, service_id, "t-ws-1"), _issue(2, service_id, "t-ws-2")
    assert _push(client, first) == ["applied"]
    assert _push(client, first, second) == ["duplicate", "applied"]  # the lost answer is asked again
    page = client.changes(BUERGERAMT_ID, WS, 0, limit=5000)
    assert page.acked_seq == 2
    assert [t.number for t in page.tickets if t.id.startswith("t-ws-")] == ["S1-01", "S1-02"]


def test_a_gap_is_refused_with_the_expected_sequence(client: CentralClient, seed_day: SeedDay) -> None:
    with pytest.raises(SequenceGapError) as caught:
        _push(client, _issue(3, seed_day.desks[0].service_ids[0], "t-ws-3"))
    assert caught.value.expected_seq == 1


def test_call_next_is_arbitrated_and_idempotent_per_call_id(client: CentralClient) -> None:
    request = CallNextRequest(workstation_id=WS, clerk_id=CLERK, call_id="call-1")
    first = client.call_next(DESK, request)
    again = client.call_next(DESK, request)
    other = client.call_next(DESK, CallNextRequest(workstation_id=WS, clerk_id=CLERK, call_id="call-2"))
    assert first.ticket is not None
    assert again.ticket is not None
    assert other.ticket is not None
    assert first.ticket.id == again.ticket.id != other.ticket.id
    assert (first.ticket.state, first.ticket.desk_id) == ("called", DESK)


def test_a_refused_request_is_not_retryable(client: CentralClient) -> None:
    with pytest.raises(CentralError) as caught:
        client.call_next("no-such-desk", CallNextRequest(workstation_id=WS, clerk_id="c", call_id="x"))
    assert caught.value.status_code == 404
    assert not caught.value.retryable
