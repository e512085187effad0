"""Pushing the outbox: applied in order, idempotent, gaps refused, rejections never wedge the queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from sync.central import store
from sync.central.seed import ZULASSUNG_ID
from sync.protocol import Operation
from tests.central.conftest import CLERK, DESK, OFFICE, WORKSTATION, MovableClock

if TYPE_CHECKING:
    from collections.abc import Callable

    from fastapi import FastAPI
    from fastapi.testclient import TestClient

PUSH = "/api/v1/sync/push"


def operation(
    seq: int, kind: str, args: dict[str, Any], clock: MovableClock, op_id: str | None = None
) -> dict[str, Any]:
    return {
        "op_id": op_id or f"op-{WORKSTATION}-{seq}",
        "seq": seq,
        "kind": kind,
        "args": args,
        "base_version": None,
        "schema_version": 1,
        "created_at": clock.now.isoformat(),
    }


def push(
    client: TestClient, *operations: dict[str, Any], workstation: str = WORKSTATION, office: str = OFFICE
) -> Any:
    return client.post(
        PUSH, json={"workstation_id": workstation, "office_id": office, "operations": list(operations)}
    )


def issue_args(clock: MovableClock, ticket_id: str = "desk-t1", number: str = "S1-01") -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "number": number,
        "service_ids": ["ba-mitte-an"],
        "priority": 0,
        "appointment_id": None,
        "at": clock.now.isoformat(),
        "origin": "desk",
    }


def ticket_state(client: TestClient, ticket_id: str) -> dict[str, Any]:
    page = client.get("/api/v1/sync/changes", params={"office_id": OFFICE, "limit": 5000}).json()
    return next(t for t in page["tickets"] if t["id"] == ticket_id)


def test_a_whole_visit_applies_in_order(client: TestClient, clock: MovableClock) -> None:
    now = clock.now.isoformat
    ops = [
        operation(1, "ticket.issue", issue_args(clock), clock),
        operation(
            2,
            "ticket.call",
            {
                "ticket_id": "desk-t1",
                "desk_id": DESK,
                "clerk_id": CLERK,
                "call_id": "call-1",
                "called_at": now(),
                "recall": False,
            },
            clock,
        ),
        operation(
            3,
            "ticket.serve",
            {
                "ticket_id": "desk-t1",
                "case_id": "case-1",
                "desk_id": DESK,
                "clerk_id": CLERK,
                "at": now(),
                "service_ids": ["ba-mitte-an"],
            },
            clock,
        ),
        operation(4, "ticket.park", {"ticket_id": "desk-t1", "case_id": "case-1", "at": now()}, clock),
        operation(
            5,
            "ticket.resume",
            {"ticket_id": "desk-t1", "case_id": "case-1", "desk_id": DESK, "clerk_id": CLERK, "at": now()},
            clock,
        ),
        operation(
            6,
            "case.finish",
            {
                "ticket_id": "desk-t1",
                "case_id": "case-1",
                "outcomes": {"ba-mitte-an": "completed"},
                "notes": "",
                "at": now(),
            },
            clock,
        ),
    ]
    response = push(client, *ops)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["applied"] * 6
    assert body["acked_seq"] == 6
    assert not any(r["flagged"] for r in body["results"])
    ticket = ticket_state(client, "desk-t1")
    assert ticket["state"] == "finished"
    assert ticket["called_count"] == 1
    assert ticket["number"] == "S1-01"


def test_the_same_operation_twice_is_a_duplicate_with_the_stored_result(
    client: TestClient, clock: MovableClock
) -> None:
    first = push(client, operation(1, "ticket.issue", issue_args(clock), clock)).json()
    again = push(client, operation(1, "ticket.issue", issue_args(clock), clock)).json()
    assert first["results"][0]["status"] == "applied"
    assert again["results"][0]["status"] == "duplicate"
    assert again["results"][0]["original_status"] == "applied"
    assert first["results"][0]["original_status"] is None  # only duplicates look back
    assert again["results"][0]["result"] == first["results"][0]["result"]
    assert again["acked_seq"] == 1
    # An old sequence number sent along with new ones returns its stored result, the new one applies.
    mixed = push(
        client,
        operation(1, "ticket.issue", issue_args(clock), clock),
        operation(2, "ticket.issue", issue_args(clock, "desk-t2", "S1-02"), clock),
    ).json()
    assert [r["status"] for r in mixed["results"]] == ["duplicate", "applied"]
    assert mixed["acked_seq"] == 2


def test_an_operation_as_older_workstations_send_it_is_accepted(
    client: TestClient, clock: MovableClock
) -> None:
    """Workstations before the leases sent an operation-level `lease_token` (always null) with every
    operation; one not yet upgraded still does. Accepted and ignored; newer ones never send it."""
    older = operation(1, "ticket.issue", issue_args(clock), clock) | {"lease_token": None}
    answer = push(client, older)
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["status"] == "applied"
    newer = Operation.model_validate(older).model_dump(mode="json")
    assert "lease_token" not in newer


def test_a_gap_is_refused_with_the_expected_sequence_and_applies_nothing(
    client: TestClient, clock: MovableClock
) -> None:
    push(client, operation(1, "ticket.issue", issue_args(clock), clock))
    gap = push(
        client,
        operation(2, "ticket.issue", issue_args(clock, "desk-t2", "S1-02"), clock),
        operation(4, "ticket.issue", issue_args(clock, "desk-t4", "S1-04"), clock),
    )
    assert gap.status_code == 409
    assert gap.json()["expected_seq"] == 3
    tickets = client.get("/api/v1/sync/changes", params={"office_id": OFFICE, "limit": 5000}).json()[
        "tickets"
    ]
    assert "desk-t2" not in {t["id"] for t in tickets}  # the batch was all or nothing
    starts_late = push(client, operation(3, "ticket.issue", issue_args(clock, "desk-t3", "S1-03"), clock))
    assert starts_late.status_code == 409
    assert starts_late.json()["expected_seq"] == 2


def test_a_rejection_still_advances_the_sequence_and_is_stored(
    client: TestClient, clock: MovableClock
) -> None:
    bad_call = operation(
        1,
        "ticket.call",
        {
            "ticket_id": "no-such-ticket",
            "desk_id": DESK,
            "clerk_id": CLERK,
            "call_id": "c-x",
            "called_at": clock.now.isoformat(),
            "recall": False,
        },
        clock,
    )
    unknown_kind = operation(2, "ticket.teleport", {}, clock)
    malformed = operation(3, "ticket.no_show", {"ticket_id": "x"}, clock)
    good = operation(4, "ticket.issue", issue_args(clock), clock)
    body = push(client, bad_call, unknown_kind, malformed, good).json()
    assert [r["status"] for r in body["results"]] == ["rejected", "rejected", "rejected", "applied"]
    assert "unknown ticket" in body["results"][0]["reason"]
    assert "unknown operation kind" in body["results"][1]["reason"]
    assert "at" in body["results"][2]["reason"]
    assert body["acked_seq"] == 4
    again = push(client, bad_call).json()["results"][0]
    assert again["status"] == "duplicate"
    assert again["reason"] == body["results"][0]["reason"]
    assert again["original_status"] == "rejected"


def test_no_show_only_after_the_office_maximum_of_calls(client: TestClient, clock: MovableClock) -> None:
    def call(seq: int, recall: bool) -> dict[str, Any]:
        return operation(
            seq,
            "ticket.call",
            {
                "ticket_id": "desk-t1",
                "desk_id": DESK,
                "clerk_id": CLERK,
                "call_id": f"call-{seq}",
                "called_at": clock.now.isoformat(),
                "recall": recall,
            },
            clock,
        )

    no_show = {"ticket_id": "desk-t1", "at": clock.now.isoformat()}
    body = push(
        client,
        operation(1, "ticket.issue", issue_args(clock), clock),
        call(2, False),
        call(3, True),
        operation(4, "ticket.no_show", no_show, clock),
        call(5, True),
        operation(6, "ticket.no_show", no_show, clock),
    ).json()
    assert [r["status"] for r in body["results"]] == [
        "applied",
        "applied",
        "applied",
        "rejected",
        "applied",
        "applied",
    ]
    assert ticket_state(client, "desk-t1")["state"] == "no_show"


def test_transfer_keeps_number_and_arrival(client: TestClient, clock: MovableClock) -> None:
    issued_at = clock.now
    clock.advance(minutes=12)
    body = push(
        client,
        operation(1, "ticket.issue", issue_args(clock.__class__(issued_at)), clock),
        operation(
            2,
            "ticket.call",
            {
                "ticket_id": "desk-t1",
                "desk_id": DESK,
                "clerk_id": CLERK,
                "call_id": "call-1",
                "called_at": clock.now.isoformat(),
            },
            clock,
        ),
        operation(
            3,
            "ticket.transfer",
            {
                "ticket_id": "desk-t1",
                "new_ticket_id": "desk-t1b",
                "service_ids": ["ba-mitte-mb"],
                "target_desk_id": "ba-mitte-d8",
                "at": clock.now.isoformat(),
            },
            clock,
        ),
    ).json()
    assert [r["status"] for r in body["results"]] == ["applied"] * 3
    successor = ticket_state(client, "desk-t1b")
    assert successor["number"] == "S1-01"
    assert successor["state"] == "waiting"
    assert successor["issued_at"].startswith(issued_at.isoformat()[:19])
    assert successor["transferred_from_id"] == "desk-t1"
    assert successor["target_desk_id"] == "ba-mitte-d8"
    assert ticket_state(client, "desk-t1")["state"] == "transferred"


def test_a_finish_on_a_ticket_central_does_not_see_as_served_is_kept_and_flagged(
    client: TestClient, clock: MovableClock
) -> None:
    body = push(
        client,
        operation(1, "ticket.issue", issue_args(clock), clock),
        operation(
            2,
            "case.finish",
            {
                "ticket_id": "desk-t1",
                "case_id": "case-9",
                "outcomes": {"ba-mitte-an": "completed"},
                "at": clock.now.isoformat(),
            },
            clock,
        ),
        operation(
            3,
            "case.finish",
            {"ticket_id": "ghost", "case_id": "case-10", "outcomes": {}, "at": clock.now.isoformat()},
            clock,
        ),
    ).json()
    finish, ghost = body["results"][1], body["results"][2]
    assert finish["status"] == "applied"
    assert finish["flagged"]
    assert "was waiting" in finish["reason"]
    assert ghost["status"] == "applied"
    assert ghost["flagged"]
    assert ghost["result"]["kept_for_review"]
    assert ticket_state(client, "desk-t1")["state"] == "finished"
    # Re-sent after a lost answer: a reason, yet applied; the answer says so instead of leaving it to guess.
    again = push(client, *[operation(seq, "case.finish", {}, clock) for seq in (2, 3)]).json()["results"]
    assert [(r["status"], r["original_status"], r["flagged"]) for r in again] == [
        ("duplicate", "applied", True),
        ("duplicate", "applied", True),
    ]
    assert again[0]["reason"] == finish["reason"]


def test_a_reused_sequence_number_with_another_operation_says_where_to_go_on(
    client: TestClient, clock: MovableClock
) -> None:
    """A new operation under a number already used (the store was restored from a backup) is neither
    a duplicate nor refused for good: 409 with the number to continue from, and nothing stored."""
    push(client, operation(1, "ticket.issue", issue_args(clock), clock))
    other = push(
        client, operation(1, "ticket.issue", issue_args(clock, "desk-t2", "S1-02"), clock, op_id="new")
    )
    assert other.status_code == 409
    assert other.json()["expected_seq"] == 2
    renumbered = push(
        client, operation(2, "ticket.issue", issue_args(clock, "desk-t2", "S1-02"), clock, op_id="new")
    )
    assert renumbered.json()["results"][0]["status"] == "applied"
    # The first operation sent again under the next number is recognised by its id.
    first_id = f"op-{WORKSTATION}-1"
    again = push(client, operation(3, "ticket.issue", issue_args(clock), clock, op_id=first_id)).json()[
        "results"
    ][0]
    assert (again["status"], again["original_status"]) == ("duplicate", "applied")


def test_an_operation_another_workstation_of_the_office_applied_gets_its_stored_answer(
    client: TestClient, signed_as: Callable[[str, str], TestClient], clock: MovableClock
) -> None:
    """A copied store enrolled anew sends what it holds under its own identity (issue 9, fault 12):
    what the original applied is answered by operation id, not applied again nor refused."""
    first = push(client, operation(1, "ticket.issue", issue_args(clock), clock)).json()["results"][0]
    held = operation(1, "ticket.issue", issue_args(clock), clock, op_id=f"op-{WORKSTATION}-1")
    with signed_as(OFFICE, "ws-copy") as copy:
        again = push(copy, held, workstation="ws-copy").json()
    assert (again["results"][0]["status"], again["results"][0]["original_status"]) == ("duplicate", "applied")
    assert again["results"][0]["result"] == first["result"]
    assert again["acked_seq"] == 1  # the copy's sequence goes on from there


def test_another_offices_operation_id_is_rejected_once_and_the_outbox_goes_on(
    client: TestClient, signed_as: Callable[[str, str], TestClient], clock: MovableClock
) -> None:
    """Issue 9: "an operation id reused with another sequence number answers 409 'retry' forever: the
    outbox wedges". An id another office used is not that office's answer to give: the operation is
    rejected and stored as such (its number is used), and the workstation's next operations apply."""
    push(client, operation(1, "ticket.issue", issue_args(clock), clock))
    reused = operation(
        1,
        "ticket.issue",
        {**issue_args(clock, "zl-t1", "Z1-01"), "service_ids": ["zl-sued-nz"]},
        clock,
        op_id=f"op-{WORKSTATION}-1",
    )
    with signed_as(ZULASSUNG_ID, "ws-zl") as other:
        first = push(other, reused, workstation="ws-zl", office=ZULASSUNG_ID)
        again = push(other, reused, workstation="ws-zl", office=ZULASSUNG_ID)
        following = push(
            other,
            operation(
                2,
                "ticket.issue",
                {**issue_args(clock, "zl-t2", "Z1-02"), "service_ids": ["zl-sued-nz"]},
                clock,
                op_id="zl-op-2",
            ),
            workstation="ws-zl",
            office=ZULASSUNG_ID,
        )
    assert first.status_code == 200, first.text
    assert first.json()["results"][0]["status"] == "rejected"
    assert first.json()["acked_seq"] == 1
    assert again.status_code == 200, again.text
    assert (again.json()["results"][0]["status"], again.json()["results"][0]["original_status"]) == (
        "duplicate",
        "rejected",
    )
    assert following.status_code == 200, following.text
    assert following.json()["results"][0]["status"] == "applied"


def test_one_operation_id_twice_in_a_batch_applies_the_first_and_rejects_the_second(
    client: TestClient, clock: MovableClock
) -> None:
    first = operation(1, "ticket.issue", issue_args(clock), clock, op_id="twice")
    second = operation(2, "ticket.issue", issue_args(clock, "desk-t2", "S1-02"), clock, op_id="twice")
    answer = push(client, first, second)
    assert answer.status_code == 200, answer.text
    assert [r["status"] for r in answer.json()["results"]] == ["applied", "rejected"]
    again = push(client, first, second).json()["results"]
    assert [(r["status"], r["original_status"]) for r in again] == [
        ("duplicate", "applied"),
        ("duplicate", "rejected"),
    ]


def test_a_number_issued_twice_in_a_day_is_kept_and_flagged(
    client: TestClient, signed_as: Callable[[str, str], TestClient], clock: MovableClock
) -> None:
    """Two copies of a store, offline, may hand out one number (issue 9, fault 12: their letters are
    drawn at random): both citizens hold a slip, so both tickets stay, and the second is flagged for
    the supervisor; another number, or the same number another day, is not."""
    first = push(client, operation(1, "ticket.issue", issue_args(clock, "copy-a-t1", "S1K-01"), clock))
    assert not first.json()["results"][0]["flagged"]
    with signed_as(OFFICE, "ws-copy") as copy:
        twin = push(
            copy,
            operation(1, "ticket.issue", issue_args(clock, "copy-b-t1", "S1K-01"), clock, op_id="b-1"),
            operation(2, "ticket.issue", issue_args(clock, "copy-b-t2", "S1K-02"), clock, op_id="b-2"),
            workstation="ws-copy",
        ).json()["results"]
    assert [(r["status"], r["flagged"]) for r in twin] == [("applied", True), ("applied", False)]
    assert "S1K-01 issued twice" in twin[0]["reason"]
    clock.advance(days=1)
    next_day = push(client, operation(2, "ticket.issue", issue_args(clock, "copy-a-t9", "S1K-01"), clock))
    assert not next_day.json()["results"][0]["flagged"]


def test_a_workstation_cannot_push_for_another_office(client: TestClient, clock: MovableClock) -> None:
    push(client, operation(1, "ticket.issue", issue_args(clock), clock))
    response = client.post(
        PUSH, json={"workstation_id": WORKSTATION, "office_id": "zl-sued", "operations": []}
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "not allowed for another office"


def test_a_workstation_cannot_push_as_another_workstation(client: TestClient, clock: MovableClock) -> None:
    """Junk pushed under another desk's id would mark that desk's offline work rejected (issue 8)."""
    response = push(client, operation(1, "ticket.issue", issue_args(clock), clock), workstation="ws-other")
    assert response.status_code == 403
    assert response.json()["detail"] == "not allowed as another workstation"


def capture_args(clock: MovableClock, ticket_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "case_id": "case-c1",
        "reference": "terminal:ABC123",
        "sha256": "ab" * 32,
        "items": ["photo", "signature"],
        "source": "terminal",
        "at": clock.now.isoformat(),
    } | changes


def test_an_attached_capture_is_recorded_by_reference_and_hash_only(
    client: TestClient, central_app: FastAPI, clock: MovableClock
) -> None:
    first = push(
        client,
        operation(1, "ticket.issue", issue_args(clock), clock),
        operation(2, "capture.attach", capture_args(clock, "desk-t1"), clock),
        operation(3, "capture.attach", capture_args(clock, "desk-t1", sha256="cd" * 32), clock),
    ).json()
    assert [r["status"] for r in first["results"]] == ["applied", "applied", "applied"]
    with central_app.state.store.read() as session:
        records = session.scalars(select(store.TicketCapture)).all()
    assert [(r.ticket_id, r.reference, r.sha256, r.items) for r in records] == [
        ("desk-t1", "terminal:ABC123", "cd" * 32, ["photo", "signature"])  # the re-attach replaced it
    ]


def test_a_capture_for_an_unknown_ticket_or_with_a_bad_hash_is_rejected(
    client: TestClient, central_app: FastAPI, clock: MovableClock
) -> None:
    answer = push(
        client,
        operation(1, "capture.attach", capture_args(clock, "no-such-ticket"), clock),
        operation(2, "ticket.issue", issue_args(clock), clock),
        operation(3, "capture.attach", capture_args(clock, "desk-t1", sha256="not-a-hash"), clock),
        operation(4, "capture.attach", capture_args(clock, "desk-t1", items=["iris"]), clock),
    ).json()
    assert [r["status"] for r in answer["results"]] == ["rejected", "applied", "rejected", "rejected"]
    assert "unknown ticket" in answer["results"][0]["reason"]
    assert "sha256" in answer["results"][2]["reason"]
    with central_app.state.store.read() as session:
        assert session.scalars(select(store.TicketCapture)).all() == []


def test_a_refused_operation_stamps_the_tickets_it_names_so_the_desks_long_poll_wakes(
    client: TestClient, clock: MovableClock
) -> None:
    push(client, operation(1, "ticket.issue", issue_args(clock), clock))
    feed = {"office_id": OFFICE, "limit": 5000}
    cursor = client.get("/api/v1/sync/changes", params=feed).json()["cursor"]
    refused = push(
        client, operation(2, "ticket.no_show", {"ticket_id": "desk-t1", "at": clock.now.isoformat()}, clock)
    ).json()
    assert refused["results"][0]["status"] == "rejected"  # never called: no no-show
    page = client.get("/api/v1/sync/changes", params=feed | {"cursor": cursor}).json()
    assert [(t["id"], t["state"]) for t in page["tickets"]] == [
        ("desk-t1", "waiting")
    ]  # unchanged, sent again
