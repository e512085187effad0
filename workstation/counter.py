"""The counter: the domain facade the screens call for one logged-in desk.

Every method is one short transaction on the local store and returns a read model or a command
result; failures the clerk can act on arrive as `CommandRefused` or `LocalStoreError` (German
`user_message`). Nothing here waits on the network except `call_next` with a `remote` caller, which
falls back to the local ordering the moment the central service is unavailable.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol, TypeVar

from sync.clock import Clock, office_day, utc_now
from sync.states import TicketAction
from workstation import audit, commands, queries, store_instance
from workstation.errors import CentralUnavailable, CommandRefused
from workstation.i18n import _
from workstation.models import CaseService, ServiceOutcome

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime

    from sqlalchemy.orm import Session

    from workstation.commands import (
        CallResult,
        CaseResult,
        DeskContext,
        FinishResult,
        IssueResult,
        TicketResult,
        TransferResult,
    )
    from workstation.db import LocalStore
    from workstation.number_witness import NumberWitness

log = logging.getLogger(__name__)

Result = TypeVar("Result")


class RemoteCaller(Protocol):
    """Call-next through the central service (the sync engine implements it).

    Returns the call it recorded locally, None when nobody waits, and raises `CentralUnavailable`
    when the central service cannot answer."""

    def call_next(self, ctx: DeskContext) -> CallResult | None: ...


class Counter:
    def __init__(
        self,
        store: LocalStore,
        ctx: DeskContext,
        remote: RemoteCaller | None = None,
        *,
        clock: Clock = utc_now,
        numbers: NumberWitness | None = None,
    ) -> None:
        self.store = store
        self.ctx = ctx
        self.remote = remote
        self.clock = clock
        self.numbers = numbers  # the desk's numbers outside the store, for a store restored from a backup

    def _command(self, command: Callable[[Session, datetime], Result]) -> Result:
        with self.store.write() as session:
            return command(session, self.clock())

    # --- clerk actions ---------------------------------------------------------------------------

    def call_next(self) -> CallResult | None:
        lost: str | None = None  # a central call-next whose answer never came, if any
        if self.remote is not None:
            # A ticket leased to this desk is called at once, online and offline alike: the call is
            # an outbox operation with the lease's token, and the key press never waits for the network.
            leased = self._command(lambda session, now: commands.call_from_lease(session, self.ctx, now))
            if leased is not None:
                return leased
            with self.store.session() as session:
                commands.require_free_desk(session, self.ctx)
            try:
                return self.remote.call_next(self.ctx)
            except CentralUnavailable as error:
                log.info("central call-next unavailable, using the local queue: %s", error)
                lost = error.lost_call_id
        return self._command(
            lambda session, now: commands.call_next(session, self.ctx, now, lost_call_id=lost)
        )

    def call_ticket(self, ticket_id: str) -> CallResult:
        return self._command(lambda session, now: commands.call_ticket(session, self.ctx, ticket_id, now))

    def recall(self) -> CallResult:
        return self._command(lambda session, now: commands.recall(session, self.ctx, now))

    def citizen_arrived(self, ticket_id: str | None = None) -> CaseResult:
        return self._command(
            lambda session, now: commands.citizen_arrived(session, self.ctx, now, ticket_id=ticket_id)
        )

    def no_show(self) -> TicketResult:
        return self._command(lambda session, now: commands.no_show(session, self.ctx, now))

    def check_no_show(self) -> str:
        """The number of the called ticket if "nicht erschienen" is allowed now, else `CommandRefused`."""
        with self.store.session() as session:
            commands.precheck(session, self.ctx, TicketAction.NO_SHOW)
            ticket = queries.current_ticket_row(session, self.ctx.office_id, self.ctx.desk_id)
            assert ticket is not None  # precheck found it
            return ticket.number

    def park(self) -> TicketResult:
        return self._command(lambda session, now: commands.park(session, self.ctx, now))

    def resume(self, ticket_id: str) -> CaseResult:
        return self._command(lambda session, now: commands.resume(session, self.ctx, ticket_id, now))

    def transfer(
        self, service_ids: Sequence[str], target_desk_id: str | None, ticket_id: str | None = None
    ) -> TransferResult:
        return self._command(
            lambda session, now: commands.transfer(
                session, self.ctx, service_ids, target_desk_id, now, ticket_id=ticket_id
            )
        )

    def finish(self, outcomes: Mapping[str, ServiceOutcome | str], notes: str = "") -> FinishResult:
        return self._command(lambda session, now: commands.finish(session, self.ctx, outcomes, notes, now))

    def issue_walk_in(
        self, service_ids: Sequence[str], priority: int = 0, appointment_id: str | None = None
    ) -> IssueResult:
        now = self.clock()
        with self.store.write() as session:
            issued = commands.issue_walk_in(
                session,
                self.ctx,
                service_ids,
                priority,
                now,
                appointment_id=appointment_id,
                issued_elsewhere=self.numbers,
                number_mark=store_instance.number_mark(self.store),
            )
        if self.numbers is not None:  # after the commit: a number rolled back was never issued
            self.numbers.record(self.ctx.office_id, issued.number, office_day(now))
        return issued

    def serve_appointment(self, appointment_id: str) -> CaseResult:
        """The booked citizen stands at this desk: check the appointment in here (unless it has a
        waiting ticket already) and serve that ticket at once, opening the case. Each step is its
        own command with its outbox operation, in this order."""
        with self.store.session() as session:
            ticket_id = queries.waiting_ticket_of_appointment(session, appointment_id)
        if ticket_id is None:
            ticket_id = self.issue_walk_in([], appointment_id=appointment_id).ticket_id
        return self.citizen_arrived(ticket_id)

    def check_documents(self, case_id: str, service_id: str, documents: Sequence[str]) -> None:
        """Store which required documents the clerk has seen (local only: not a business event)."""
        with self.store.write() as session:
            case_service = session.get(CaseService, (case_id, service_id))
            if case_service is None:
                raise CommandRefused(_("Diese Dienstleistung gehört nicht zum Vorgang."))
            case_service.documents_checked = list(documents)

    # --- read models -----------------------------------------------------------------------------

    def view(self, now: datetime | None = None) -> queries.CounterView:
        with self.store.session() as session:
            return queries.counter_view(session, self.ctx.office_id, self.ctx.desk_id, now or self.clock())

    def queue_rows(self, now: datetime | None = None) -> list[queries.QueueRow]:
        with self.store.session() as session:
            return queries.queue_rows(session, self.ctx.office_id, self.ctx.desk_id, now or self.clock())

    def current_ticket(self, now: datetime | None = None) -> queries.CurrentTicket | None:
        with self.store.session() as session:
            return queries.current_ticket(session, self.ctx.office_id, self.ctx.desk_id, now or self.clock())

    def appointments(self, now: datetime | None = None) -> list[queries.AppointmentRow]:
        with self.store.session() as session:
            return queries.appointments_of_day(session, self.ctx.office_id, now or self.clock())

    def search(self, text: str) -> list[queries.SearchHit]:
        """Search citizens and tickets; the search itself is audited (it reveals names)."""
        now = self.clock()
        with self.store.write() as session:
            hits = queries.search(session, self.ctx.office_id, text, now)
            audit.record(
                session,
                self.ctx.clerk_id,
                None,
                "search",
                {"query": text.strip(), "hits": len(hits), "desk_id": self.ctx.desk_id},
                at=now,
            )
            return hits

    def case(self, case_id: str) -> queries.CaseView:
        """The case with the citizen's data; every read is an audit event."""
        now = self.clock()
        with self.store.write() as session:
            view = queries.case_view(session, case_id)
            if view is None:
                raise CommandRefused(_("Dieser Vorgang ist unbekannt."))
            audit.record(
                session,
                self.ctx.clerk_id,
                case_id,
                "case.read",
                {"desk_id": self.ctx.desk_id, "purpose": "serving"},
                at=now,
            )
            return view

    def finish_concerns(self, outcomes: Mapping[str, str]) -> list[str]:
        """What speaks against finishing the desk's open case with `outcomes` (asked once)."""
        with self.store.session() as session:
            ticket = queries.current_ticket_row(session, self.ctx.office_id, self.ctx.desk_id)
            if ticket is None:
                return []
            case = commands.open_case_of(session, ticket)
            return queries.finish_concerns(session, case.id, outcomes)

    def transfer_targets(self) -> queries.TransferTargets:
        with self.store.session() as session:
            return queries.transfer_targets(session, self.ctx.office_id, self.ctx.desk_id)
