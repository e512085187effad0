"""Fuzzing a few endpoints: whatever arrives, the answer is a 2xx or a 4xx with a reason, never a 5xx."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.central.app import create_app
from sync.central.seed import generate_day, seed_central
from tests.central.conftest import DAY, OFFICE

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
known_kinds = st.sampled_from(
    [
        "ticket.call",
        "ticket.serve",
        "ticket.no_show",
        "ticket.park",
        "ticket.resume",
        "ticket.transfer",
        "case.finish",
        "ticket.issue",
        "made.up",
    ]
)
operations = st.fixed_dictionaries(
    {
        "op_id": st.text(min_size=1, max_size=36),
        "seq": st.integers(-2, 6),
        "kind": known_kinds,
        "args": st.dictionaries(
            st.sampled_from(
                [
                    "ticket_id",
                    "desk_id",
                    "clerk_id",
                    "call_id",
                    "at",
                    "called_at",
                    "case_id",
                    "service_ids",
                    "outcomes",
                    "number",
                    "new_ticket_id",
                ]
            ),
            json_values | st.sampled_from(["tkt-20260302-00001", OFFICE + "-d1", "2026-03-02T08:00:00Z"]),
        ),
        "created_at": st.sampled_from(["2026-03-02T08:00:00Z", "2026-03-02T08:00:00", "yesterday"]),
    }
)


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "central.sqlite3"
    app = create_app(f"sqlite:///{path}", clock=lambda: datetime(2026, 3, 2, 8, tzinfo=UTC))
    with app.state.store.write() as session:
        seed_central(session, generate_day(DAY))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _assert_no_server_error(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["detail"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.fixed_dictionaries(
        {
            "workstation_id": st.sampled_from(["ws-f1", "ws-f2", "bad id!", ""]),
            "office_id": st.sampled_from([OFFICE, "zl-sued", "nowhere"]),
            "operations": st.lists(operations, max_size=4),
        }
    )
    | json_values
)
def test_push_never_answers_5xx(fuzz_client: TestClient, body: Any) -> None:
    _assert_no_server_error(fuzz_client.post("/api/v1/sync/push", json=body))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.fixed_dictionaries(
        {
            "office_id": st.sampled_from([OFFICE, "nowhere"]) | st.text(max_size=70),
            "service_ids": st.lists(
                st.sampled_from(["ba-mitte-pa", "zl-sued-nz"]) | st.text(max_size=70), max_size=12
            ),
            "priority": st.integers(-5, 20) | json_values,
        }
    )
    | json_values
)
def test_kiosk_never_answers_5xx(fuzz_client: TestClient, body: Any) -> None:
    _assert_no_server_error(fuzz_client.post("/api/v1/tickets", json=body))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(
        st.sampled_from(["office_id", "cursor", "limit", "wait", "workstation_id"]),
        st.text(max_size=12) | st.integers(-10, 10_000).map(str),
    )
)
def test_changes_never_answers_5xx(fuzz_client: TestClient, params: dict[str, str]) -> None:
    params.setdefault("office_id", OFFICE)
    params["wait"] = "0"
    _assert_no_server_error(fuzz_client.get("/api/v1/sync/changes", params=params))
