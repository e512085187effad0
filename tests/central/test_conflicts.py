"""Issue 9/12: the supervisor's conflict list. Refused and flagged operations of the office, with desk,
clerk and reason; only supervisors read and resolve them; a resolved one leaves the default list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from sync.central import apply, store
from tests.central.conftest import CLERK, DESK, OFFICE, WORKSTATION, MovableClock
from tests.central.test_push import issue_args, operation, push
from tests.credentials import clerk_auth, signed_client

if TYPE_CHECKING:
    import pytest
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

CONFLICTS = f"/api/v1/offices/{OFFICE}/conflicts"
SUPERVISOR = f"{OFFICE}-c1"


def _refused_and_flagged(client: TestClient, clock: MovableClock) -> None:
    call_of_nothing = operation(
        1,
        "ticket.call",
        {
            "ticket_id": "no-such-ticket",
            "desk_id": DESK,
            "clerk_id": CLERK,
            "call_id": "c-1",
            "called_at": clock.now.isoformat(),
        },
        clock,
    )
    issued = operation(2, "ticket.issue", issue_args(clock), clock)
    finish_unserved = operation(
        3,
        "case.finish",
        {
            "ticket_id": "desk-t1",
            "case_id": "case-1",
            "outcomes": {"ba-mitte-an": "completed"},
            "at": clock.now.isoformat(),
        },
        clock,
    )
    results = push(client, call_of_nothing, issued, finish_unserved).json()["results"]
    assert [r["status"] for r in results] == ["rejected", "applied", "applied"]


def test_the_supervisor_sees_who_did_what_and_why(
    central_app: FastAPI, client: TestClient, clock: MovableClock
) -> None:
    _refused_and_flagged(client, clock)
    supervisor = signed_client(
        central_app, clerk_auth(central_app.state.store, "ws-lead", OFFICE, SUPERVISOR)
    )
    listed = supervisor.get(CONFLICTS).json()
    by_seq = {entry["seq"]: entry for entry in listed}
    assert set(by_seq) == {1, 3}
    assert (by_seq[1]["status"], by_seq[1]["kind"], by_seq[1]["desk_id"], by_seq[1]["clerk_id"]) == (
        "rejected",
        "ticket.call",
        DESK,
        CLERK,
    )
    assert by_seq[1]["ticket_id"] == "no-such-ticket"
    assert "unknown ticket" in by_seq[1]["reason"]
    assert (by_seq[3]["status"], by_seq[3]["ticket_id"]) == ("flagged", "desk-t1")
    assert all(entry["workstation_id"] == WORKSTATION for entry in listed)


def test_only_supervisors_read_and_resolve_and_resolved_ones_leave_the_list(
    central_app: FastAPI, client: TestClient, clock: MovableClock
) -> None:
    _refused_and_flagged(client, clock)
    central = central_app.state.store
    clerk = signed_client(central_app, clerk_auth(central, "ws-clerk", OFFICE, CLERK))
    supervisor = signed_client(central_app, clerk_auth(central, "ws-lead", OFFICE, SUPERVISOR))
    resolution = f"{CONFLICTS}/{WORKSTATION}/1/resolution"
    assert client.get(CONFLICTS).status_code == 403  # a workstation without a supervisor logged in
    assert clerk.get(CONFLICTS).status_code == 403
    assert clerk.post(resolution, json={"note": "x"}).status_code == 403
    done = supervisor.post(resolution, json={"note": "Bürger an Platz 2 bedient"})
    assert done.status_code == 200
    assert (done.json()["resolved_by"], done.json()["note"]) == (SUPERVISOR, "Bürger an Platz 2 bedient")
    assert [entry["seq"] for entry in supervisor.get(CONFLICTS).json()] == [3]
    everything = supervisor.get(CONFLICTS, params={"include_resolved": True}).json()
    assert {entry["seq"] for entry in everything} == {1, 3}
    assert supervisor.post(f"{CONFLICTS}/{WORKSTATION}/2/resolution", json={}).status_code == 404  # applied
    assert supervisor.get("/api/v1/offices/zl-sued/conflicts").status_code == 403


def test_a_flood_of_refused_operations_waits_until_a_supervisor_reviews_them(
    client: TestClient, central_app: FastAPI, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(apply, "MAX_UNREVIEWED_REJECTIONS", 3)
    junk = {"ticket_id": "no-such-ticket", "at": clock.now.isoformat()}
    first = push(client, *(operation(seq, "ticket.no_show", junk, clock) for seq in (1, 2, 3)))
    assert [r["status"] for r in first.json()["results"]] == ["rejected"] * 3  # at the limit: stored
    flood = push(
        client,
        operation(4, "ticket.no_show", junk, clock),
        operation(5, "ticket.issue", issue_args(clock), clock),
    )
    assert flood.status_code == 429
    with central_app.state.store.read() as session:
        stored = session.scalars(
            select(store.AppliedOperation.seq).order_by(store.AppliedOperation.seq)
        ).all()
    assert stored == [1, 2, 3]  # the batch that crossed the limit left nothing: it waits in the outbox
    supervisor = signed_client(
        central_app, clerk_auth(central_app.state.store, "ws-lead", OFFICE, SUPERVISOR)
    )
    for seq in (1, 2):
        assert supervisor.post(f"{CONFLICTS}/{WORKSTATION}/{seq}/resolution", json={}).status_code == 200
    again = push(
        client,
        operation(4, "ticket.no_show", junk, clock),
        operation(5, "ticket.issue", issue_args(clock), clock),
    )
    assert again.status_code == 200
    assert [r["status"] for r in again.json()["results"]] == ["rejected", "applied"]
