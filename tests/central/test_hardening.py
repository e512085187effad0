"""Hostile inputs from issue 8, each answered with a clear 4xx: nothing stored, the value never
repeated in the answer, nothing of it in the log. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from sync.central import store
from sync.central.responses import MAX_BODY_BYTES
from tests.central.conftest import DAY, OFFICE, WORKSTATION, MovableClock
from tests.central.test_push import issue_args, operation, push

if TYPE_CHECKING:
    from collections.abc import Iterator

    from fastapi.testclient import TestClient

API = "/api/v1"
SECRET_NAME = "Geheimname"  # a value that must never come back


def _stored_operations(client: TestClient) -> int:
    central: store.CentralStore = client.app.state.store  # type: ignore[attr-defined]
    with central.read() as session:
        return session.scalar(select(func.count()).select_from(store.AppliedOperation)) or 0


def _appointment(**override: Any) -> dict[str, Any]:
    return {
        "office_id": OFFICE,
        "slot_start": f"{DAY.isoformat()}T09:00:00+01:00",
        "given_name": "Erika",
        "family_name": "Mustermann",
        "service_ids": ["ba-mitte-an"],
        **override,
    }


def _post_raw(client: TestClient, path: str, body: str) -> Any:
    return client.post(
        path, content=body.encode("utf-8", "surrogatepass"), headers={"content-type": "application/json"}
    )


@pytest.fixture
def quiet_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog
    assert SECRET_NAME not in caplog.text
    assert "Traceback" not in caplog.text


@pytest.mark.usefixtures("quiet_log")
@pytest.mark.parametrize("field", ["seq", "base_version"])
def test_integers_beyond_64_bits_are_a_422_and_nothing_is_stored(
    client: TestClient, clock: MovableClock, field: str
) -> None:
    huge = operation(1, "ticket.issue", issue_args(clock), clock)
    huge[field] = 2**63
    answer = push(client, huge)
    assert answer.status_code == 422
    assert str(2**63) not in answer.text
    assert _stored_operations(client) == 0


@pytest.mark.usefixtures("quiet_log")
def test_a_cursor_beyond_64_bits_is_a_422(client: TestClient) -> None:
    answer = client.get(f"{API}/sync/changes", params={"office_id": OFFICE, "cursor": 2**63})
    assert answer.status_code == 422


@pytest.mark.usefixtures("quiet_log")
@pytest.mark.parametrize(
    "override",
    [
        {"birth_date": "0001-01-01"},
        {"birth_date": "9999-12-31"},
        {"slot_start": "0001-01-01T00:30:00+01:00"},
        {"slot_start": "9999-12-31T23:30:00-01:00"},
    ],
    ids=["born-year-1", "born-9999", "slot-year-1", "slot-9999"],
)
def test_dates_no_office_can_mean_are_a_422(client: TestClient, override: dict[str, str]) -> None:
    assert client.post(f"{API}/appointments", json=_appointment(**override)).status_code == 422


@pytest.mark.usefixtures("quiet_log")
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_listing_day_at_the_ends_of_the_calendar_is_a_422(client: TestClient, day: str) -> None:
    assert client.get(f"{API}/appointments", params={"office_id": OFFICE, "date": day}).status_code == 422


@pytest.mark.usefixtures("quiet_log")
@pytest.mark.parametrize("bad", ["\ud800", "\x00"], ids=["lone-surrogate", "nul"])
def test_a_name_with_a_lone_surrogate_or_nul_is_a_422_that_does_not_repeat_it(
    client: TestClient, bad: str
) -> None:
    body = json.dumps(_appointment(family_name=f"{SECRET_NAME}{bad}"))  # JSON escapes both
    answer = _post_raw(client, f"{API}/appointments", body)
    assert answer.status_code == 422
    assert SECRET_NAME not in answer.text
    listed = client.get(f"{API}/appointments", params={"office_id": OFFICE, "date": DAY.isoformat()}).json()
    assert all(SECRET_NAME not in row["family_name"] for row in listed)


def test_a_validation_error_names_the_field_but_never_the_value(client: TestClient) -> None:
    answer = client.post(f"{API}/appointments", json=_appointment(given_name=SECRET_NAME * 50))
    assert answer.status_code == 422
    assert SECRET_NAME not in answer.text
    [error] = answer.json()["detail"]
    assert error["loc"] == ["body", "given_name"]
    assert set(error) == {"loc", "type", "msg"}


def test_a_body_over_the_limit_is_refused_by_its_declared_length(
    client: TestClient, clock: MovableClock
) -> None:
    big = operation(1, "ticket.issue", {**issue_args(clock), "padding": "x" * (50 * 1024 * 1024)}, clock)
    answer = push(client, big)
    assert answer.status_code == 413
    assert _stored_operations(client) == 0


def test_a_chunked_body_over_the_limit_is_refused_while_it_arrives(client: TestClient) -> None:
    chunk = b"x" * 65536
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        while sent <= 4 * MAX_BODY_BYTES:
            sent += len(chunk)
            yield chunk

    answer = client.post(f"{API}/sync/push", content=chunks(), headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert _stored_operations(client) == 0


def test_a_full_batch_still_fits_the_limit(client: TestClient, clock: MovableClock) -> None:
    batch = [
        operation(seq, "ticket.issue", issue_args(clock, f"desk-t{seq}", f"S1-{seq:02d}"), clock)
        for seq in range(1, 101)
    ]
    assert (
        len(json.dumps({"workstation_id": WORKSTATION, "office_id": OFFICE, "operations": batch}))
        < MAX_BODY_BYTES
    )
    assert push(client, *batch).status_code == 200


def test_a_rejected_operation_keeps_a_bounded_record_not_its_arguments(
    client: TestClient, clock: MovableClock
) -> None:
    junk = operation(
        1, "ticket.issue", {**issue_args(clock), "service_ids": ["no-such-service"], "x": SECRET_NAME}, clock
    )
    [result] = push(client, junk).json()["results"]
    assert result["status"] == "rejected"
    central: store.CentralStore = client.app.state.store  # type: ignore[attr-defined]
    with central.read() as session:
        stored = session.scalars(select(store.AppliedOperation)).one()
    assert SECRET_NAME not in json.dumps(stored.args)
    assert stored.args["size_bytes"] > 0
