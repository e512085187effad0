"""Clerk commands against a real local store: transitions, outbox operations, atomicity."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from sync.protocol import OPERATION_ARGS, OperationKind, TicketSnapshot
from tests.core.conftest import CLERK_1, CLERK_2, DESK_1, DESK_2, KFZ, OFFICE, PA, RP, SmallOffice
from workstation import commands
from workstation.errors import CommandRefused, LocalStoreError
from workstation.models import (
    Appointment,
    AppointmentStatus,
    Call,
    Case,
    DeskLease,
    OutboxOperation,
    ServiceOutcome,
    Ticket,
    TicketState,
)


def outbox(office: SmallOffice) -> list[OutboxOperation]:
    with office.store.session() as session:
        return list(session.scalars(select(OutboxOperation).order_by(OutboxOperation.seq)))


def table_count(office: SmallOffice, model: type[Any]) -> int:
    with office.store.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def assert_valid_operation(operation: OutboxOperation, kind: OperationKind) -> dict[str, Any]:
    """The operation is of `kind` and its arguments pass the central service's own validation."""
    assert operation.kind == kind
    assert len(operation.op_id) == 36
    assert operation.op_id[14] == "7"
    OPERATION_ARGS[kind].model_validate(operation.args)
    return operation.args


def test_call_next_calls_records_and_appends_one_operation(office: SmallOffice) -> None:
    office.add_ticket("t1", "A101", 20)
    office.add_ticket("t2", "A102", 10)
    result = office.counter().call_next()

    assert result is not None
    assert (result.ticket_id, result.number, result.call_count) == ("t1", "A101", 1)
    assert result.explanation == "Ohne Termin, wartet seit 20 min"
    ticket = office.ticket("t1")
    assert (ticket.state, ticket.desk_id, ticket.clerk_id, ticket.called_count) == (
        TicketState.CALLED,
        DESK_1,
        CLERK_1,
        1,
    )
    assert ticket.first_called_at == ticket.last_called_at == office.clock.now
    [operation] = outbox(office)
    args = assert_valid_operation(operation, OperationKind.TICKET_CALL)
    assert args["ticket_id"] == "t1"
    assert args["recall"] is False
    assert args["call_id"] == result.call_id
    assert (operation.seq, operation.base_version, operation.workstation_id) == (1, 3, "ws-1")
    assert table_count(office, Call) == 1


def test_call_next_with_nobody_waiting_changes_nothing(office: SmallOffice) -> None:
    office.add_ticket("k", "K1", 20, (KFZ,))  # desk 1 does not serve vehicles
    assert office.counter().call_next() is None
    assert outbox(office) == []
    assert office.ticket("k").state == TicketState.WAITING


def test_a_busy_desk_cannot_call_again(office: SmallOffice) -> None:
    office.add_ticket("t1", "A101", 20)
    office.add_ticket("t2", "A102", 10)
    counter = office.counter()
    counter.call_next()
    with pytest.raises(CommandRefused) as refused:
        counter.call_next()
    assert "A101" in refused.value.user_message
    assert "noch" in refused.value.user_message
    with pytest.raises(CommandRefused):
        counter.call_ticket("t2")
    assert len(outbox(office)) == 1
    assert office.ticket("t2").state == TicketState.WAITING


def test_recall_no_show_only_after_three_calls(office: SmallOffice) -> None:
    office.add_ticket("t1", "A101", 20, slot_in_minutes=-10)
    counter = office.counter()
    counter.call_next()
    for calls in (1, 2):
        with pytest.raises(CommandRefused) as refused:
            counter.no_show()
        assert "erst nach 3 Aufrufen" in refused.value.user_message
        assert office.ticket("t1").called_count == calls
        office.clock.advance(minutes=2)
        recalled = counter.recall()
        assert recalled.call_count == calls + 1
    assert [op.kind for op in outbox(office)] == ["ticket.call"] * 3
    assert [op.args["recall"] for op in outbox(office)] == [False, True, True]

    result = counter.no_show()
    assert result.state == TicketState.NO_SHOW
    operation = outbox(office)[-1]
    assert assert_valid_operation(operation, OperationKind.TICKET_NO_SHOW)["ticket_id"] == "t1"
    with office.store.session() as session:
        assert session.get_one(Appointment, "apt-t1").status == AppointmentStatus.NO_SHOW
        recalls = session.scalars(
            select(Call.is_recall).where(Call.ticket_id == "t1").order_by(Call.called_at)
        )
        assert list(recalls) == [False, True, True]
    assert office.counter().current_ticket() is None


def test_citizen_arrived_opens_the_case_with_the_ticket_services(office: SmallOffice) -> None:
    office.add_ticket("t1", "A101", 20, (PA, RP))
    counter = office.counter()
    counter.call_next()
    opened = counter.citizen_arrived()
    assert office.ticket("t1").state == TicketState.SERVING
    with office.store.session() as session:
        case = session.get_one(Case, opened.case_id)
        assert (case.opened_at, case.serving_since, case.desk_id) == (
            office.clock.now,
            office.clock.now,
            DESK_1,
        )
        assert sorted(s.service_id for s in case.services) == [PA, RP]
    args = assert_valid_operation(outbox(office)[-1], OperationKind.TICKET_SERVE)
    assert args["case_id"] == opened.case_id
    assert sorted(args["service_ids"]) == [PA, RP]
    with pytest.raises(CommandRefused):
        counter.recall()  # the citizen is here: no more calls


def test_park_and_resume_sum_service_time_over_segments(office: SmallOffice) -> None:
    office.add_ticket("t1", "A101", 20)
    counter = office.counter()
    counter.call_next()
    office.clock.advance(minutes=1)
    opened = counter.citizen_arrived()
    office.clock.advance(minutes=4)
    assert counter.park().state == TicketState.PARKED
    assert counter.current_ticket() is None  # the desk is free for the next citizen
    office.add_ticket("t2", "A102", 5)
    counter.call_next()
    counter.citizen_arrived()
    counter.finish({PA: ServiceOutcome.COMPLETED}, "")

    office.clock.advance(minutes=10)  # parked time does not count
    resumed = counter.resume("t1")
    assert resumed.case_id == opened.case_id
    office.clock.advance(minutes=3)
    finished = counter.finish({PA: "completed"}, "Lichtbild nachgereicht")
    assert finished.served_seconds == 7 * 60
    kinds = [op.kind for op in outbox(office)]
    assert kinds == [
        "ticket.call",
        "ticket.serve",
        "ticket.park",
        "ticket.call",
        "ticket.serve",
        "case.finish",
        "ticket.resume",
        "case.finish",
    ]
    for operation in outbox(office):
        assert_valid_operation(operation, OperationKind(operation.kind))
    assert [op.seq for op in outbox(office)] == list(range(1, 9))


def test_resume_only_a_parked_ticket_and_only_at_a_free_desk(office: SmallOffice) -> None:
    office.add_ticket("t1", "A101", 20)
    office.add_ticket("t2", "A102", 10)
    counter = office.counter()
    with pytest.raises(CommandRefused):
        counter.resume("t1")
    counter.call_next()
    counter.citizen_arrived()
    counter.park()
    counter.call_next()
    with pytest.raises(CommandRefused):
        counter.resume("t1")  # t2 is called here
    # Another desk may take the parked case up.
    assert office.counter(DESK_2, CLERK_2, "ws-2").resume("t1").ticket_id == "t1"
    assert office.ticket("t1").desk_id == DESK_2


def test_transfer_keeps_number_and_arrival_and_goes_to_the_target_desk(office: SmallOffice) -> None:
    office.add_ticket("t1", "A101", 25)
    counter = office.counter()
    counter.call_next()
    counter.citizen_arrived()
    office.clock.advance(minutes=6)
    moved = counter.transfer([KFZ], DESK_2)

    old, new = office.ticket("t1"), office.ticket(moved.new_ticket_id)
    assert old.state == TicketState.TRANSFERRED
    assert (new.state, new.number, new.issued_at, new.target_desk_id, new.transferred_from_id) == (
        TicketState.WAITING,
        "A101",
        old.issued_at,
        DESK_2,
        "t1",
    )
    assert [s.id for s in new.services] == [KFZ]
    args = assert_valid_operation(outbox(office)[-1], OperationKind.TICKET_TRANSFER)
    assert (args["new_ticket_id"], args["target_desk_id"], args["service_ids"]) == (
        moved.new_ticket_id,
        DESK_2,
        [KFZ],
    )
    with office.store.session() as session:
        case = session.scalar(select(Case).where(Case.ticket_id == "t1"))
        assert case is not None
        assert case.served_seconds == 6 * 60
        assert case.serving_since is None

    called = office.counter(DESK_2, CLERK_2, "ws-2").call_next()
    assert called is not None
    assert called.ticket_id == moved.new_ticket_id
    # Waiting time counts from the first arrival: 25 min before the original call + 6 min served.
    assert called.explanation == "Ohne Termin, wartet seit 31 min"


def test_a_transfer_to_a_desk_is_not_called_by_another_desk(office: SmallOffice) -> None:
    office.add_ticket("t1", "A101", 25)
    counter = office.counter(DESK_2, CLERK_2, "ws-2")
    counter.call_next()
    counter.transfer([PA], DESK_2)  # e.g. back to this desk after a document
    assert office.counter().call_next() is None


def test_finish_needs_an_outcome_for_every_service(office: SmallOffice) -> None:
    office.add_ticket("t1", "A101", 20, (PA, RP), slot_in_minutes=-3)
    counter = office.counter()
    counter.call_next()
    with pytest.raises(CommandRefused) as not_open:
        counter.finish({PA: "completed", RP: "completed"}, "")
    assert "F5" in not_open.value.user_message
    counter.citizen_arrived()
    with pytest.raises(CommandRefused) as missing:
        counter.finish({PA: "completed"}, "")
    assert "Reisepass" in missing.value.user_message
    with pytest.raises(CommandRefused):
        counter.finish({PA: "completed", RP: "completed", KFZ: "completed"}, "")
    with pytest.raises(CommandRefused):
        counter.finish({PA: "completed", RP: "vielleicht"}, "")
    operations_before = len(outbox(office))

    done = counter.finish({PA: "completed", RP: ServiceOutcome.DOCUMENTS_MISSING}, "Lichtbild fehlt")
    assert len(outbox(office)) == operations_before + 1
    args = assert_valid_operation(outbox(office)[-1], OperationKind.CASE_FINISH)
    assert args["outcomes"] == {PA: "completed", RP: "documents_missing"}
    assert args["notes"] == "Lichtbild fehlt"
    with office.store.session() as session:
        case = session.get_one(Case, done.case_id)
        assert {s.service_id: s.outcome for s in case.services} == {PA: "completed", RP: "documents_missing"}
        assert case.finished_at == office.clock.now
        assert session.get_one(Appointment, "apt-t1").status == AppointmentStatus.FINISHED
    assert office.ticket("t1").state == TicketState.FINISHED


def test_walk_in_numbers_come_from_the_desk_range_per_day(office: SmallOffice) -> None:
    desk_1, desk_2 = office.counter(), office.counter(DESK_2, CLERK_2, "ws-2")
    numbers = [desk_1.issue_walk_in([PA]).number, desk_1.issue_walk_in([PA, RP], 1).number]
    numbers.append(desk_2.issue_walk_in([KFZ]).number)
    assert numbers == ["S1-01", "S1-02", "S2-01"]
    office.clock.advance(days=1)
    assert desk_1.issue_walk_in([PA]).number == "S1-01"
    issued = [op for op in outbox(office) if op.kind == "ticket.issue"]
    assert len(issued) == 4
    args = assert_valid_operation(issued[1], OperationKind.TICKET_ISSUE)
    assert (args["number"], args["priority"], args["origin"], args["service_ids"]) == (
        "S1-02",
        1,
        "desk",
        [PA, RP],
    )
    for refused in ([], ["svc-unknown"]):
        with pytest.raises(CommandRefused):
            desk_1.issue_walk_in(refused)
    with pytest.raises(CommandRefused):
        desk_1.issue_walk_in([PA], priority=12)


def test_an_appointment_checked_in_at_the_desk(office: SmallOffice) -> None:
    office.add_ticket("t1", "A101", 20, slot_in_minutes=5)
    with office.store.session() as session:
        session.get_one(Appointment, "apt-t1").status = AppointmentStatus.BOOKED
        session.commit()
    issued = office.counter().issue_walk_in([], appointment_id="apt-t1")
    args = assert_valid_operation(outbox(office)[-1], OperationKind.TICKET_ISSUE)
    assert (args["appointment_id"], args["origin"], args["service_ids"]) == ("apt-t1", "appointment", [PA])
    assert office.ticket(issued.ticket_id).appointment_id == "apt-t1"
    with pytest.raises(CommandRefused):  # checked in now
        office.counter().issue_walk_in([], appointment_id="apt-t1")


def test_sequence_numbers_increase_across_workstation_restarts(office: SmallOffice) -> None:
    office.add_ticket("t1", "A101", 20)
    office.counter().issue_walk_in([PA])
    office.counter().call_ticket("t1")
    seqs = [op.seq for op in outbox(office)]
    op_ids = {op.op_id for op in outbox(office)}
    assert seqs == [1, 2]
    assert len(op_ids) == 2


def test_record_call_stores_the_central_call_without_an_operation(office: SmallOffice) -> None:
    office.add_ticket("t1", "A101", 20)
    called_at = office.clock.now
    snapshot = TicketSnapshot(
        id="t1",
        office_id=OFFICE,
        number="A101",
        issued_at=called_at - timedelta(minutes=20),
        priority=0,
        state="called",
        called_count=1,
        first_called_at=called_at,
        last_called_at=called_at,
        desk_id=DESK_1,
        clerk_id=CLERK_1,
        origin="kiosk",
        service_ids=[PA],
        version=9,
    )
    with office.store.write() as session:
        result = commands.record_call(session, office.ctx(), snapshot, "call-central-1", "Termin 10:20")
    assert (result.ticket_id, result.call_count, result.explanation) == ("t1", 1, "Termin 10:20")
    ticket = office.ticket("t1")
    assert (ticket.state, ticket.version, ticket.desk_id) == (TicketState.CALLED, 9, DESK_1)
    assert outbox(office) == []
    assert table_count(office, Call) == 1
    with office.store.write() as session:  # the same call twice (a retried answer) stays one call
        commands.record_call(session, office.ctx(), snapshot, "call-central-1")
    assert table_count(office, Call) == 1


def test_a_failing_outbox_insert_leaves_no_trace(office: SmallOffice) -> None:
    """State change and outbox operation are one transaction: if the operation cannot be written,
    the ticket is not called either."""
    office.add_ticket("t1", "A101", 20)
    with office.store.session() as session:
        session.execute(
            text(
                "CREATE TRIGGER outbox_broken BEFORE INSERT ON outbox "
                "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
            )
        )
        session.commit()
    with pytest.raises(LocalStoreError) as failed:
        office.counter().call_next()
    assert failed.value.user_message  # German, for the dialog
    ticket = office.ticket("t1")
    assert (ticket.state, ticket.called_count, ticket.desk_id) == (TicketState.WAITING, 0, None)
    assert table_count(office, Call) == 0
    assert outbox(office) == []

    with office.store.session() as session:
        session.execute(text("DROP TRIGGER outbox_broken"))
        session.commit()
    assert office.counter().call_next() is not None
    assert [op.seq for op in outbox(office)] == [1]


def test_a_full_disk_while_committing_is_a_german_error(office: SmallOffice) -> None:
    office.add_ticket("t1", "A101", 20)
    counter = office.counter()
    counter.call_next()
    counter.citizen_arrived()
    with office.store.write_engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar()
    # Every new connection may grow the file by nothing: the disk is "full" from now on.
    from sqlalchemy import event

    @event.listens_for(office.store.write_engine, "connect")
    def _full(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    office.store.write_engine.dispose()
    with pytest.raises(LocalStoreError) as failed:
        counter.finish({PA: "completed"}, "x" * 200_000)
    assert "Datenträger ist voll" in failed.value.user_message
    assert office.ticket("t1").state == TicketState.SERVING
    assert [op.kind for op in outbox(office)] == ["ticket.call", "ticket.serve"]


def test_concurrent_commands_get_distinct_sequence_numbers(office: SmallOffice) -> None:
    import threading

    errors: list[BaseException] = []

    def issue_many(desk: str, clerk: str) -> None:
        try:
            counter = office.counter(desk, clerk)
            for _ in range(15):
                counter.issue_walk_in([PA])
        except BaseException as error:  # noqa: BLE001  (thread boundary: asserted empty below)
            errors.append(error)

    threads = [
        threading.Thread(target=issue_many, args=args) for args in ((DESK_1, CLERK_1), (DESK_2, CLERK_2))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert [op.seq for op in outbox(office)] == list(range(1, 31))
    with office.store.session() as session:
        numbers = list(session.scalars(select(Ticket.number).where(Ticket.origin == "desk")))
    assert len(numbers) == len(set(numbers)) == 30


def test_a_leased_ticket_that_no_longer_waits_does_not_stand_in_f2s_way(office: SmallOffice) -> None:
    office.add_ticket("t1", "A101", 20)
    office.add_ticket("t2", "A102", 10)
    with office.store.write() as session:
        for token, ticket_id in enumerate(("t1", "t2"), start=1):
            until = office.clock.now + timedelta(minutes=60)
            session.add(DeskLease(ticket_id=ticket_id, desk_id=DESK_1, token=token, valid_until=until))
    counter = office.counter()
    counter.call_ticket("t1")  # out of order, by Enter on its row: its lease stays until the next pull
    counter.citizen_arrived()
    counter.finish({PA: ServiceOutcome.COMPLETED})
    office.clock.advance(minutes=30)  # past the recall block, which would hide A101 anyway
    with office.store.write() as session:
        called = commands.call_from_lease(session, office.ctx(), office.clock.now)
    assert called is not None
    assert called.ticket_id == "t2"  # the other lease, not a refusal for A101 ("wartet nicht")
