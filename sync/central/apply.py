"""Applying pushed operations (DESIGN §4): in sequence, idempotent, never wedging the queue.

Per workstation the central service keeps the last sequence number it processed and each operation's
stored answer, written in the same transaction as the effect. Re-sent operations get their stored
answer; a business rejection rolls its effect back (savepoint) but still advances the sequence; a
finished case is never rejected: it is applied as far as possible and flagged for review. Which state
changes are allowed is `sync.states`, the table the workstation's commands check too.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError
from sqlalchemy import func, select

from sync.central import leases, store
from sync.central.errors import (
    CentralRefusal,
    NotFound,
    OperationRejected,
    SequenceGapError,
    TooManyRejections,
)
from sync.clock import office_day, office_day_bounds
from sync.protocol import (
    OPERATION_ARGS,
    CaptureAttachArgs,
    CaseFinishArgs,
    Operation,
    OperationKind,
    OperationResult,
    PushRequest,
    PushResponse,
    TicketCallArgs,
    TicketIssueArgs,
    TicketNoShowArgs,
    TicketParkArgs,
    TicketResumeArgs,
    TicketServeArgs,
    TicketTransferArgs,
)
from sync.states import INITIAL_STATE, TicketAction, TicketState, TransitionRefused, next_state

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


class _Effect:
    """What one operation changed: rows to stamp, the answer, and whether a supervisor must look."""

    def __init__(self, now: datetime) -> None:
        self.now = now  # the central service's time of the push (leases are checked against it)
        self.touched: list[store.Versioned] = []
        self.result: dict[str, Any] = {}
        self.flag_reason: str | None = None


def push(session: Session, request: PushRequest, now: datetime) -> PushResponse:
    """One batch, one transaction: the caller commits (or rolls back on a gap).

    Most batches apply whole, so they are tried first in one savepoint for the batch; only a batch
    with a refused operation is applied again with a savepoint per operation, so that the refusal
    undoes that operation alone (a savepoint each costs two flushes per operation: the push of a long
    outbox after an outage took three times as long)."""
    office = session.get(store.Office, request.office_id)
    if office is None:
        raise NotFound(f"unknown office {request.office_id!r}")
    workstation = _lock_workstation(session, request.workstation_id, request.office_id)
    operations = sorted(request.operations, key=lambda op: op.seq)
    _check_order(workstation.last_seq, operations)
    # The batch's tickets at once, in id order (the store's lock order): one by one, in the batch's
    # order, two batches naming two tickets in opposite orders would wait for each other.
    store.lock_tickets(session, _named_ticket_ids(session, operations, workstation.last_seq))
    whole = session.begin_nested()
    try:
        response = _apply_batch(session, office, workstation, operations, now, isolated=False)
    except OperationRejected:
        whole.rollback()  # also expires the workstation row: its sequence is read again
    else:
        whole.commit()
        return response
    response = _apply_batch(session, office, workstation, operations, now, isolated=True)
    _refuse_a_flood_of_rejections(session, workstation.id, now)
    return response


def _named_ticket_ids(session: Session, operations: list[Operation], last_seq: int) -> set[str]:
    """The tickets the batch's new operations name (a new ticket's id names none yet: no row), and
    those of the calls a local call replaces (`_settle_lost_call` may put one back in the queue)."""
    new = [op for op in operations if op.seq > last_seq]
    named = {op.args.get("ticket_id") for op in new}
    lost_calls = {op.args.get("lost_call_id") for op in new} - {None}
    if lost_calls:
        named |= set(
            session.scalars(
                select(store.Call.ticket_id).where(
                    store.Call.id.in_([c for c in lost_calls if isinstance(c, str)])
                )
            )
        )
    return {ticket_id for ticket_id in named if isinstance(ticket_id, str)}


# Refused operations nobody reviewed, per workstation and day, beyond which its pushes wait (429): a
# broken or hostile desk cannot fill the database with refusals (each is a stored row), and the
# supervisor's list stays readable. A busy desk's honest conflicts are a handful a day.
MAX_UNREVIEWED_REJECTIONS = 1000
REJECTION_WINDOW = timedelta(hours=24)


def _refuse_a_flood_of_rejections(session: Session, workstation_id: str, now: datetime) -> None:
    """Counted only after a batch with a refusal (rare), within the push's transaction, so the batch
    that crosses the limit is rolled back whole and stays in the workstation's outbox."""
    applied, resolved = store.AppliedOperation, store.ConflictResolution
    unreviewed = session.scalar(
        select(func.count())
        .select_from(applied)
        .outerjoin(
            resolved, (resolved.workstation_id == applied.workstation_id) & (resolved.seq == applied.seq)
        )
        .where(
            applied.workstation_id == workstation_id,
            applied.status == "rejected",
            applied.received_at >= now - REJECTION_WINDOW,
            resolved.seq.is_(None),
        )
    )
    if (unreviewed or 0) > MAX_UNREVIEWED_REJECTIONS:
        raise TooManyRejections(
            f"workstation {workstation_id!r} has {unreviewed} refused operations nobody reviewed in"
            f" {REJECTION_WINDOW}; pushes wait until a supervisor deals with them"
        )


def _apply_batch(
    session: Session,
    office: store.Office,
    workstation: store.Workstation,
    operations: list[Operation],
    now: datetime,
    *,
    isolated: bool,
) -> PushResponse:
    """With `isolated` False a refusal propagates (the caller starts again isolated)."""
    results: list[OperationResult] = []
    touched: list[store.Versioned] = []
    records: list[store.AppliedOperation] = []
    used_op_ids = _used_op_ids(session, [op.op_id for op in operations if op.seq > workstation.last_seq])
    session.info[_TAKEN_TICKET_IDS] = _taken_ticket_ids(session, operations)
    session.info[_ISSUED_NUMBERS] = _issued_numbers(session, office.id, operations)
    for operation in operations:
        if operation.seq <= workstation.last_seq:
            results.append(_stored_answer(session, workstation, operation))
            continue
        if operation.op_id in used_op_ids:
            earlier = _stored_by_op_id(session, workstation, operation.op_id)
            if earlier is not None:
                # Sent again under a new number (the store was behind and renumbered what it held) or
                # under a new identity (a copied store, enrolled anew): the operation id is the
                # idempotency key, so it gets its stored answer, once.
                results.append(_duplicate(earlier, operation))
                workstation.last_seq = operation.seq
                continue
        answer, effect_rows, record = _apply_one(
            session, office, workstation, operation, now, used_op_ids, isolated=isolated
        )
        used_op_ids.add(operation.op_id)
        results.append(answer)
        records.append(record)
        touched += effect_rows
        workstation.last_seq = operation.seq
    session.info.pop(_TAKEN_TICKET_IDS, None)
    session.info.pop(_ISSUED_NUMBERS, None)
    workstation.last_push_at = now
    session.add_all(records)  # at the end: inserted together, not one flush each
    session.flush()
    store.stamp(session, office.id, touched)
    return PushResponse(results=results, acked_seq=workstation.last_seq)


_TAKEN_TICKET_IDS = "tresen.taken_ticket_ids"
_ISSUED_NUMBERS = "tresen.issued_numbers"  # (number, office day) -> ticket id, for the batch's issues
_OFFICE_SERVICES = "tresen.office_services"


def _taken_ticket_ids(session: Session, operations: list[Operation]) -> set[str]:
    """Which ids the batch's new tickets name exist already: one query for the batch. Asked per
    ticket, `session.get` of an id not yet stored flushes the session first (autoflush), one flush
    per walk-in of a long outbox."""
    wanted = [
        op.args["ticket_id"]
        for op in operations
        if op.kind == OperationKind.TICKET_ISSUE and isinstance(op.args.get("ticket_id"), str)
    ]
    if not wanted:
        return set()
    return set(session.scalars(select(store.Ticket.id).where(store.Ticket.id.in_(wanted))))


def _issued_numbers(
    session: Session, office_id: str, operations: list[Operation]
) -> dict[tuple[str, date], str]:
    """Which of the numbers the batch's new tickets carry the office has issued already on their
    day: one query for the batch (the office and arrival index, then the numbers)."""
    wanted: dict[str, list[date]] = {}
    for op in operations:
        if op.kind != OperationKind.TICKET_ISSUE:
            continue
        number, at = op.args.get("number"), op.args.get("at")
        if isinstance(number, str) and isinstance(at, str):
            try:
                wanted.setdefault(number, []).append(office_day(datetime.fromisoformat(at)))
            except ValueError:
                continue  # the operation's own validation refuses it
    if not wanted:
        return {}
    days = [day for days in wanted.values() for day in days]
    start, _ = office_day_bounds(min(days))
    _, end = office_day_bounds(max(days))
    rows = session.execute(
        select(store.Ticket.number, store.Ticket.issued_at, store.Ticket.id).where(
            store.Ticket.office_id == office_id,
            store.Ticket.issued_at >= start,
            store.Ticket.issued_at < end,
            store.Ticket.number.in_(list(wanted)),
        )
    )
    return {(number, office_day(issued_at)): ticket_id for number, issued_at, ticket_id in rows}


def _rejected_args_record(args: dict[str, Any]) -> dict[str, Any]:
    """What a rejected operation leaves behind instead of its arguments: their names and size, and
    the ids that say where it happened (desk, clerk, ticket) when they are well-formed ids — for the
    supervisor's conflict list. The other values may be junk or hostile, and nothing is applied."""
    record: dict[str, Any] = {
        "rejected_argument_names": sorted(args)[:20],
        "size_bytes": len(json.dumps(args, default=str)),
    }
    for key in ("desk_id", "clerk_id", "ticket_id"):
        value = args.get(key)
        if isinstance(value, str) and _ID.fullmatch(value):
            record[key] = value
    return record


_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def _used_op_ids(session: Session, op_ids: list[str]) -> set[str]:
    """Which of a batch's new operation ids the central service has stored already (any workstation):
    one query per batch instead of one per operation."""
    if not op_ids:
        return set()
    query = select(store.AppliedOperation.op_id).where(store.AppliedOperation.op_id.in_(op_ids))
    return set(session.scalars(query))


def _lock_workstation(session: Session, workstation_id: str, office_id: str) -> store.Workstation:
    workstation = session.get(store.Workstation, workstation_id, with_for_update=True)
    if workstation is None:
        workstation = store.Workstation(id=workstation_id, office_id=office_id, last_seq=0)
        session.add(workstation)
        session.flush()  # a concurrent first push of the same workstation fails here with a 5xx retry
    elif workstation.office_id != office_id:
        raise CentralRefusal(f"workstation {workstation_id!r} belongs to office {workstation.office_id!r}")
    return workstation


def _check_order(last_seq: int, operations: list[Operation]) -> None:
    """New operations must continue the sequence without holes; old ones may be re-sent with them."""
    seen: set[int] = set()
    expected = last_seq + 1
    for operation in operations:
        if operation.seq in seen:
            raise CentralRefusal(f"sequence number {operation.seq} appears twice in the batch")
        seen.add(operation.seq)
        if operation.seq <= last_seq:
            continue
        if operation.seq != expected:
            raise SequenceGapError(expected_seq=expected, got_seq=operation.seq)
        expected += 1


def _stored_answer(session: Session, workstation: store.Workstation, operation: Operation) -> OperationResult:
    stored = session.get(store.AppliedOperation, (workstation.id, operation.seq))
    if stored is not None and _pushed_op_id(stored) == operation.op_id:
        return _duplicate(stored, operation)
    earlier = _stored_by_op_id(session, workstation, operation.op_id)
    if earlier is not None:  # known under another number: the operation id decides
        return _duplicate(earlier, operation)
    if stored is not None:
        # A new operation under a number the central service used already: the store is behind its
        # record (restored from a backup). Nothing is applied; it renumbers from here and resends.
        raise SequenceGapError(expected_seq=workstation.last_seq + 1, got_seq=operation.seq)
    # Processed before answers were stored: cannot happen with this schema.
    return OperationResult(
        op_id=operation.op_id, seq=operation.seq, status="rejected", reason="no stored result"
    )


REUSED_OP_ID = "reused_op_id"  # in a refused reuse's stored args: the id it was pushed with


def _pushed_op_id(stored: store.AppliedOperation) -> str:
    """The id the operation was pushed with: a refused reuse is stored under an id of its own (the
    column is unique: the pushed one belongs to another operation, maybe another office's)."""
    reused = stored.args.get(REUSED_OP_ID) if stored.status == "rejected" else None
    return reused if isinstance(reused, str) else stored.op_id


def _stored_by_op_id(
    session: Session, workstation: store.Workstation, op_id: str
) -> store.AppliedOperation | None:
    """The stored operation of that id pushed by any workstation of the same office: a copied store
    sends what it holds again under its own identity. The answer tells nothing the office's
    workstations could not read in its changes; another office's id stays a refused reuse."""
    stored = session.scalar(select(store.AppliedOperation).where(store.AppliedOperation.op_id == op_id))
    return stored if stored is not None and stored.office_id == workstation.office_id else None


def _duplicate(stored: store.AppliedOperation, operation: Operation) -> OperationResult:
    return OperationResult(
        op_id=operation.op_id,
        seq=operation.seq,
        status="duplicate",
        reason=stored.reason,
        result=stored.result,
        flagged=stored.flagged,
        original_status=_first_outcome(stored.status),
    )


FirstOutcome = Literal["applied", "rejected"]


def _first_outcome(stored_status: str) -> FirstOutcome:
    """The stored status as the protocol's literal: only these two are ever stored (see `_apply_one`)."""
    if stored_status == "applied":
        return "applied"
    if stored_status == "rejected":
        return "rejected"
    raise ValueError(f"stored operation status {stored_status!r} is neither applied nor rejected")


def _apply_one(
    session: Session,
    office: store.Office,
    workstation: store.Workstation,
    operation: Operation,
    now: datetime,
    used_op_ids: set[str],
    *,
    isolated: bool,
) -> tuple[OperationResult, list[store.Versioned], store.AppliedOperation]:
    effect = _Effect(now)
    status: FirstOutcome = "applied"
    reason: str | None = None
    stored_op_id, args_record = operation.op_id, None
    if operation.op_id in used_op_ids:
        status, reason = "rejected", f"operation id {operation.op_id} was already used"
        if not isolated:
            raise OperationRejected(reason)
        # Stored under an id of its own, else its insert fails on the unique id and the push answers
        # "retry" for ever (issue 9: the wedged outbox); a re-push finds it by the id it came with.
        stored_op_id = str(uuid.uuid4())
        args_record = {**_rejected_args_record(operation.args), REUSED_OP_ID: operation.op_id}
    elif not isolated:
        _dispatch(session, office, operation, effect)  # a refusal ends the batch's first try
    else:
        savepoint = session.begin_nested()
        try:
            _dispatch(session, office, operation, effect)
            savepoint.commit()  # flushes: a database refusal surfaces here, in this savepoint
        except OperationRejected as rejection:
            savepoint.rollback()
            effect = _Effect(now)
            status, reason = "rejected", rejection.reason
            effect.touched += _tickets_named(session, office, operation.args)
    if effect.flag_reason:
        reason = effect.flag_reason
        log.warning("operation %s seq %s flagged for review: %s", operation.kind, operation.seq, reason)
    elif status == "rejected":
        log.info("operation %s seq %s rejected: %s", operation.kind, operation.seq, reason)
    record = store.AppliedOperation(
        workstation_id=workstation.id,
        seq=operation.seq,
        op_id=stored_op_id,
        office_id=office.id,
        kind=operation.kind,
        args=args_record
        or (operation.args if status == "applied" else _rejected_args_record(operation.args)),
        base_version=operation.base_version,
        status=status,
        reason=reason,
        result=effect.result or None,
        flagged=effect.flag_reason is not None,
        created_at=operation.created_at,
        received_at=now,
    )
    answer = OperationResult(
        op_id=operation.op_id,
        seq=operation.seq,
        status=status,
        reason=reason,
        result=effect.result or None,
        flagged=effect.flag_reason is not None,
    )
    return answer, effect.touched, record


def _tickets_named(session: Session, office: store.Office, args: dict[str, Any]) -> list[store.Versioned]:
    """The office's tickets a refused operation names. They are stamped although unchanged: the
    desk's replica holds its refused change to them, and a change wakes its long poll at once with
    the central state (else it would wait for the ticket's next real change, up to the poll's end,
    while its clerk could go on serving a citizen another desk has called)."""
    named = [args.get(key) for key in ("ticket_id", "new_ticket_id")]
    tickets = [session.get(store.Ticket, t) for t in named if isinstance(t, str)]
    return [t for t in tickets if t is not None and t.office_id == office.id]


def _dispatch(session: Session, office: store.Office, operation: Operation, effect: _Effect) -> None:
    try:
        kind = OperationKind(operation.kind)
    except ValueError:
        raise OperationRejected(f"unknown operation kind {operation.kind!r}") from None
    try:
        args = OPERATION_ARGS[kind].model_validate(operation.args)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise OperationRejected(f"invalid arguments for {kind}: {problems}") from None
    _APPLIERS[kind](session, office, args, effect)


# --- one function per operation kind ----------------------------------------------------------------


def _ticket(session: Session, office: store.Office, ticket_id: str) -> store.Ticket:
    ticket = session.get(store.Ticket, ticket_id, with_for_update=True)
    if ticket is None or ticket.office_id != office.id:
        raise OperationRejected(f"unknown ticket {ticket_id!r}")
    return ticket


def _advance(
    ticket: store.Ticket,
    action: TicketAction,
    *,
    desk_id: str | None = None,
    max_calls: int | None = None,
) -> TicketState:
    """The state `action` moves `ticket` to (sync.states), or the rejection with the rule's reason."""
    try:
        return next_state(ticket, action, desk_id=desk_id, max_calls=max_calls)
    except TransitionRefused as refusal:
        raise OperationRejected(str(refusal)) from None


def _ticket_result(ticket: store.Ticket) -> dict[str, Any]:
    return {"ticket_id": ticket.id, "number": ticket.number, "state": str(ticket.state)}


def _settle_lost_call(session: Session, ticket: store.Ticket, args: TicketCallArgs, effect: _Effect) -> bool:
    """The desk's call-next whose answers were lost (`args.lost_call_id`), against its local choice.

    If the central service made that call and it chose the same ticket, the two are one call: True,
    the result is that call. If it chose another ticket that still stands called at this desk by
    that call, the clerk never called that citizen: the ticket goes back to the queue (issue 9: such
    a ticket stayed "called" and blocked the desk), and the local choice is applied as usual."""
    lost = session.get(store.Call, args.lost_call_id)
    if lost is None or lost.desk_id != args.desk_id:
        return False  # the central service never made it (no answer at all, or rolled back)
    if lost.ticket_id == ticket.id:
        if ticket.state == TicketState.CALLED and ticket.desk_id == args.desk_id:
            effect.result = _ticket_result(ticket) | {"call_id": lost.id, "called_count": ticket.called_count}
            return True
        return False
    other = session.get(store.Ticket, lost.ticket_id)
    if other is None or other.state != TicketState.CALLED or other.desk_id != args.desk_id:
        return False
    if other.last_called_at != lost.called_at:
        return False  # called again since: someone acted on it
    previous = session.scalar(
        select(func.max(store.Call.called_at)).where(
            store.Call.ticket_id == other.id, store.Call.id != lost.id
        )
    )
    other.return_to_queue(previous)
    effect.touched.append(other)
    log.info("ticket returned to the queue: its call's answer never reached desk %s", args.desk_id)
    return False


def _apply_call(session: Session, office: store.Office, args: Any, effect: _Effect) -> None:
    assert isinstance(args, TicketCallArgs)
    ticket = _ticket(session, office, args.ticket_id)
    existing_call = session.get(store.Call, args.call_id)
    if existing_call is not None:
        # The central call-next already recorded this call: nothing more to do.
        if existing_call.ticket_id != ticket.id:
            raise OperationRejected(f"call id {args.call_id!r} belongs to another ticket")
        effect.result = _ticket_result(ticket) | {"call_id": args.call_id}
        return
    if args.lost_call_id is not None and not args.recall and _settle_lost_call(session, ticket, args, effect):
        return
    action = TicketAction.RECALL if args.recall else TicketAction.CALL
    if args.lease_token is not None and not args.recall:
        # The fencing token first: a desk whose lease moved on is told that, not only that the
        # ticket is called by now (by the desk the lease moved to).
        leases.check_call(session, ticket.id, args.desk_id, args.lease_token, effect.now)
    new_state = _advance(ticket, action, desk_id=args.desk_id)
    _check_desk_and_clerk(session, office, args.desk_id, args.clerk_id)
    if args.lease_token is None and not args.recall:
        leases.check_call(session, ticket.id, args.desk_id, None, effect.now)
    call = ticket.record_call(args.call_id, args.desk_id, args.clerk_id, args.called_at, recall=args.recall)
    ticket.state = new_state  # what record_call set too; the table decides
    session.add(call)
    effect.touched += [ticket, call]
    effect.result = _ticket_result(ticket) | {"call_id": call.id, "called_count": ticket.called_count}


def _apply_serve(session: Session, office: store.Office, args: Any, effect: _Effect) -> None:
    assert isinstance(args, TicketServeArgs)
    ticket = _ticket(session, office, args.ticket_id)
    new_state = _advance(ticket, TicketAction.SERVE, desk_id=args.desk_id)
    _check_desk_and_clerk(session, office, args.desk_id, args.clerk_id)
    if session.get(store.Case, args.case_id) is not None:
        raise OperationRejected(f"case {args.case_id!r} exists already")
    ticket.state = new_state
    ticket.desk_id, ticket.clerk_id = args.desk_id, args.clerk_id
    session.add(
        store.Case(
            id=args.case_id,
            office_id=office.id,
            ticket_id=ticket.id,
            desk_id=args.desk_id,
            clerk_id=args.clerk_id,
            opened_at=args.at,
            serving_since=args.at,
            service_ids=list(args.service_ids or ticket.service_ids),
        )
    )
    effect.touched.append(ticket)
    effect.result = _ticket_result(ticket) | {"case_id": args.case_id}


def _apply_no_show(session: Session, office: store.Office, args: Any, effect: _Effect) -> None:
    assert isinstance(args, TicketNoShowArgs)
    ticket = _ticket(session, office, args.ticket_id)
    ticket.state = _advance(ticket, TicketAction.NO_SHOW, max_calls=office.max_calls)
    effect.touched.append(ticket)
    if ticket.appointment_id:
        appointment = session.get(store.Appointment, ticket.appointment_id)
        if appointment is not None:
            appointment.status = "no_show"
            effect.touched.append(appointment)
    effect.result = _ticket_result(ticket)


def _apply_park(session: Session, office: store.Office, args: Any, effect: _Effect) -> None:
    assert isinstance(args, TicketParkArgs)
    ticket = _ticket(session, office, args.ticket_id)
    new_state = _advance(ticket, TicketAction.PARK)
    case = _case_of(session, ticket, args.case_id)
    _close_segment(case, args.at)
    ticket.state = new_state
    effect.touched.append(ticket)
    effect.result = _ticket_result(ticket)


def _apply_resume(session: Session, office: store.Office, args: Any, effect: _Effect) -> None:
    assert isinstance(args, TicketResumeArgs)
    ticket = _ticket(session, office, args.ticket_id)
    new_state = _advance(ticket, TicketAction.RESUME, desk_id=args.desk_id)
    _check_desk_and_clerk(session, office, args.desk_id, args.clerk_id)
    case = _case_of(session, ticket, args.case_id)
    case.serving_since = args.at
    case.desk_id, case.clerk_id = args.desk_id, args.clerk_id
    ticket.state = new_state
    ticket.desk_id, ticket.clerk_id = args.desk_id, args.clerk_id
    effect.touched.append(ticket)
    effect.result = _ticket_result(ticket)


def _apply_transfer(session: Session, office: store.Office, args: Any, effect: _Effect) -> None:
    assert isinstance(args, TicketTransferArgs)
    ticket = _ticket(session, office, args.ticket_id)
    new_state = _advance(ticket, TicketAction.TRANSFER)
    _check_services(session, office, args.service_ids)
    if args.target_desk_id is not None:
        target = session.get(store.Desk, args.target_desk_id)
        if target is None or target.office_id != office.id:
            raise OperationRejected(f"unknown target desk {args.target_desk_id!r}")
    if session.get(store.Ticket, args.new_ticket_id) is not None:
        raise OperationRejected(f"ticket {args.new_ticket_id!r} exists already")
    for case in session.scalars(select(store.Case).where(store.Case.ticket_id == ticket.id)):
        _close_segment(case, args.at)
    ticket.state = new_state
    successor = store.Ticket(
        id=args.new_ticket_id,
        office_id=office.id,
        number=ticket.number,  # the citizen keeps the number and the waiting time
        appointment_id=ticket.appointment_id,
        issued_at=ticket.issued_at,
        priority=ticket.priority,
        state=INITIAL_STATE,
        target_desk_id=args.target_desk_id,
        transferred_from_id=ticket.id,
        origin=ticket.origin,
        service_ids=list(args.service_ids),
    )
    session.add(successor)
    effect.touched += [ticket, successor]
    effect.result = _ticket_result(successor) | {"transferred_from_id": ticket.id}


def _apply_finish(session: Session, office: store.Office, args: Any, effect: _Effect) -> None:
    """Never rejected: what the clerk finished stays finished; oddities are flagged for review."""
    assert isinstance(args, CaseFinishArgs)
    problems: list[str] = []
    ticket = session.get(store.Ticket, args.ticket_id, with_for_update=True)
    if ticket is None or ticket.office_id != office.id:
        effect.flag_reason = f"finish for unknown ticket {args.ticket_id!r}; kept for review"
        effect.result = {"ticket_id": args.ticket_id, "case_id": args.case_id, "kept_for_review": True}
        return
    try:
        next_state(ticket, TicketAction.FINISH)
    except TransitionRefused:  # kept all the same: the citizen has been served
        problems.append(f"ticket was {ticket.state}")
    case = session.get(store.Case, args.case_id, with_for_update=True)
    if case is None:
        problems.append("case was not opened centrally")
        case = store.Case(
            id=args.case_id,
            office_id=office.id,
            ticket_id=ticket.id,
            desk_id=ticket.desk_id or "",
            clerk_id=ticket.clerk_id or "",
            opened_at=args.at,
            serving_since=None,
            service_ids=list(args.outcomes),
        )
        session.add(case)
    elif case.ticket_id != ticket.id:
        problems.append("case belongs to another ticket")
    _close_segment(case, args.at)
    case.finished_at = args.at
    case.outcomes = dict(args.outcomes)
    case.notes = args.notes
    case.needs_review = bool(problems)
    if ticket.state != TicketState.FINISHED:
        ticket.state = TicketState.FINISHED
        effect.touched.append(ticket)
    if ticket.appointment_id:
        appointment = session.get(store.Appointment, ticket.appointment_id)
        if appointment is not None and appointment.status != "finished":
            appointment.status = "finished"
            effect.touched.append(appointment)
    if problems:
        effect.flag_reason = "finish kept for review: " + "; ".join(problems)
    effect.result = _ticket_result(ticket) | {"case_id": case.id}


def _apply_capture_attach(session: Session, office: store.Office, args: Any, effect: _Effect) -> None:
    """Records which capture the desk attached; attaching the same capture again replaces the record
    (a re-fetch after a failed check yields new bytes, hence a new hash)."""
    assert isinstance(args, CaptureAttachArgs)
    ticket = _ticket(session, office, args.ticket_id)
    record = session.get(store.TicketCapture, (ticket.id, args.reference))
    if record is None:
        record = store.TicketCapture(ticket_id=ticket.id, reference=args.reference, office_id=office.id)
        session.add(record)
    record.case_id = args.case_id
    record.sha256 = args.sha256
    record.items = list(args.items)
    record.source = args.source
    record.attached_at = args.at
    effect.touched.append(ticket)  # unchanged, but stamped: the waiting room's readers wake at once
    effect.result = _ticket_result(ticket) | {"capture_reference": args.reference}


def _apply_issue(session: Session, office: store.Office, args: Any, effect: _Effect) -> None:
    assert isinstance(args, TicketIssueArgs)
    taken: set[str] | None = session.info.get(_TAKEN_TICKET_IDS)
    exists = args.ticket_id in taken if taken is not None else session.get(store.Ticket, args.ticket_id)
    if exists:
        raise OperationRejected(f"ticket {args.ticket_id!r} exists already")
    _check_services(session, office, args.service_ids)
    appointment = None
    if args.appointment_id is not None:
        appointment = session.get(store.Appointment, args.appointment_id, with_for_update=True)
        if appointment is None or appointment.office_id != office.id:
            raise OperationRejected(f"unknown appointment {args.appointment_id!r}")
        if appointment.status != "booked":
            raise OperationRejected(f"appointment is {appointment.status}")
        appointment.status = "checked_in"
        effect.touched.append(appointment)
    ticket = store.Ticket(
        id=args.ticket_id,
        office_id=office.id,
        number=args.number,
        appointment_id=args.appointment_id,
        issued_at=args.at,
        priority=args.priority,
        state=INITIAL_STATE,
        origin=args.origin,
        service_ids=list(args.service_ids),
    )
    session.add(ticket)
    if taken is not None:
        taken.add(ticket.id)  # a second issue of it in the same batch is refused as well
    issued: dict[tuple[str, date], str] | None = session.info.get(_ISSUED_NUMBERS)
    if issued is not None:
        key = (args.number, office_day(args.at))
        twin = issued.setdefault(key, ticket.id)
        if twin != ticket.id:
            # Two slips with one number (two copies of a store, both offline): the citizen holds
            # the slip, so the ticket stays, flagged for the supervisor's conflict list.
            effect.flag_reason = f"number {args.number} issued twice today (ticket {twin!r} has it too)"
    effect.touched.append(ticket)
    effect.result = _ticket_result(ticket)


def _check_desk_and_clerk(session: Session, office: store.Office, desk_id: str, clerk_id: str) -> None:
    desk = session.get(store.Desk, desk_id)
    if desk is None or desk.office_id != office.id:
        raise OperationRejected(f"unknown desk {desk_id!r}")
    clerk = session.get(store.Clerk, clerk_id)
    if clerk is None or clerk.office_id != office.id:
        raise OperationRejected(f"unknown clerk {clerk_id!r}")


def _check_services(session: Session, office: store.Office, service_ids: list[str]) -> None:
    known = session.info.get(_OFFICE_SERVICES)
    if known is None:  # once per session: the identity map holds rows only while referenced
        query = select(store.Service.id).where(store.Service.office_id == office.id)
        known = session.info[_OFFICE_SERVICES] = set(session.scalars(query))
    for service_id in service_ids:
        if service_id not in known:
            raise OperationRejected(f"unknown service {service_id!r}")


def _case_of(session: Session, ticket: store.Ticket, case_id: str) -> store.Case:
    case = session.get(store.Case, case_id, with_for_update=True)
    if case is None or case.ticket_id != ticket.id:
        raise OperationRejected(f"unknown case {case_id!r} for this ticket")
    return case


def _close_segment(case: store.Case, at: datetime) -> None:
    if case.serving_since is not None:
        case.served_seconds += max(0.0, (at - case.serving_since).total_seconds())
        case.serving_since = None


_APPLIERS: dict[OperationKind, Callable[[Session, store.Office, Any, _Effect], None]] = {
    OperationKind.TICKET_CALL: _apply_call,
    OperationKind.TICKET_SERVE: _apply_serve,
    OperationKind.TICKET_NO_SHOW: _apply_no_show,
    OperationKind.TICKET_PARK: _apply_park,
    OperationKind.TICKET_RESUME: _apply_resume,
    OperationKind.TICKET_TRANSFER: _apply_transfer,
    OperationKind.CASE_FINISH: _apply_finish,
    OperationKind.TICKET_ISSUE: _apply_issue,
    OperationKind.CAPTURE_ATTACH: _apply_capture_attach,
}
