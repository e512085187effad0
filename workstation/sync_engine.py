"""The workstation's side of sync: push the outbox, pull changes, and call-next through the central
service while it is reachable.

Safe to use from Textual thread workers: every unit of work opens its own session, the in-memory
status sits behind a lock, and pushes (and pulls) are serialised by their own locks, so a long poll
never holds up a push or an F2. Nothing here raises into the UI except `call_next`, which raises
`CentralUnavailable` as the `RemoteCaller` protocol asks, so the counter falls back to the local
command.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import uuid6
from sqlalchemy import delete, func, select

from sync.client import MSG_TIMEOUT, MSG_UNREACHABLE, CentralClient, CentralError, SequenceGapError
from sync.protocol import (
    CallNextRequest,
    ChangesPage,
    KassenzeichenRangeRequest,
    LeaseRequest,
    Operation,
    OperationResult,
    PushRequest,
    PushResponse,
)
from workstation import kassenzeichen_ranges, replica, store_instance
from workstation.commands import CallResult, DeskContext, record_call
from workstation.errors import CentralUnavailable, LocalStoreError
from workstation.i18n import _
from workstation.models import DeskLease, OperationStatus, OutboxOperation, SyncState, Ticket, TicketState

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from workstation.db import LocalStore

log = logging.getLogger(__name__)

LEASES_PER_DESK = 2  # k: calls a desk can make from its leases alone (docs/architecture.md)
LEASE_SAFETY = timedelta(seconds=30)  # a lease is used locally only until this long before it ends
LEASE_RENEW_BEFORE = timedelta(minutes=5)  # renewed this long before it ends (leases last 10 minutes)

# While the central service is unreachable the engine asks its health endpoint this often (seconds,
# jittered so that an office's desks do not probe in step): a desk is back within about 2 s of the
# central service answering again, instead of waiting out a backoff of up to a minute.
PROBE_INTERVAL = (0.5, 1.5)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class SyncReport:
    online: bool
    pushed: int = 0  # operations the central service answered for in this round
    rejected: int = 0
    pulled: int = 0  # rows inserted or updated in the replica
    kept_local: int = 0  # pulled rows not applied because local operations are pending
    error_de: str | None = None


@dataclass(frozen=True)
class SyncStatus:
    online: bool
    pending_operations: int
    last_sync_at: datetime | None
    last_error_de: str | None
    rejected_operations: int = 0  # this store's work the central service refused: the clerk is told
    copied_store: bool = False  # a copy that may not sync as this identity (`workstation.store_instance`)
    # Full resyncs for a restored central database (or a new epoch) since start, and the operations
    # they sent again: the clerk is told of each once (the counts only grow).
    central_restores: int = 0
    resent_after_restores: int = 0


@dataclass(frozen=True)
class _PushOutcome:
    answered: int
    rejected: int


class SyncEngine:
    """Push/pull against one central service for one desk context (also the counter's RemoteCaller)."""

    def __init__(
        self,
        store: LocalStore,
        client: CentralClient,
        ctx: DeskContext,
        *,
        batch_size: int = 100,
        page_limit: int = 500,
        clock: Clock = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        call_next_budget: float | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.ctx = ctx
        self.batch_size = batch_size
        self.page_limit = page_limit
        self.clock = clock
        self._monotonic = monotonic  # measures the backoff (tests drive it with their own pauses)
        # An F2 without a lease asks the central service and waits for it at most this long in all
        # (the push before it, the call, its retry): the client's timeout (`[central]
        # timeout_seconds`) once, not once per request. A link gone silent since the last round
        # held the key press for it three times. When it is spent the desk calls from its local
        # queue and names the call it may have lost (`lost_call_id`), which the central settles.
        self.call_next_budget = client.timeout if call_next_budget is None else call_next_budget
        self._push_lock = threading.Lock()
        self._pull_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._online = False
        self._last_sync_at: datetime | None = None
        self._last_error_de: str | None = None
        self._failures = 0  # consecutive failed rounds, for the backoff
        self._unreachable = False  # the last failure was the network (no answer at all)
        self._retired: bool | None = None  # the store is a copy that may not sync as ctx's identity
        self._central_restores = 0
        self._resent_after_restores = 0

    # --- the rounds --------------------------------------------------------------------------

    def sync_once(self, wait: float = 0.0) -> SyncReport:
        """Push everything pending, then pull until the central service has nothing more.

        `wait` > 0 long-polls the first pull for new changes. Never raises: failures come back in
        the report and in `status()`."""
        return self._guarded("sync", lambda: self._push_then_pull(wait))

    def push_pending(self) -> SyncReport:
        """Push only (e.g. right after a clerk action); never waits for a long poll in progress."""

        def push() -> SyncReport:
            pushed = self._push_all()
            pulled = 0
            if pushed.rejected and self._pull_lock.acquire(blocking=False):
                # A refused action left the replica wrong (say, a ticket another desk has): pull now,
                # so the clerk's screen shows the central state before the next key press. A long
                # poll in progress holds the lock; the central service wakes it with that state.
                try:
                    pulled, _kept, _replay = self._pull_pages(0.0)
                finally:
                    self._pull_lock.release()
            return SyncReport(online=True, pushed=pushed.answered, rejected=pushed.rejected, pulled=pulled)

        return self._guarded("push", push)

    def pull(self, wait: float = 0.0) -> SyncReport:
        """Pull only; rows with pending local operations keep their local state."""

        def pull() -> SyncReport:
            pulled, kept_local, _replay = self._pull_all(wait)
            return SyncReport(online=True, pulled=pulled, kept_local=kept_local)

        return self._guarded("pull", pull)

    def _push_then_pull(self, wait: float) -> SyncReport:
        refusal: CentralError | None = None
        try:
            pushed = self._push_all()
        except CentralError as error:
            if error.retryable:
                raise
            # The central service refuses the batch but is there: keep the replica fresh anyway.
            refusal, pushed = error, _PushOutcome(0, 0)
        pulled, kept_local, replay = self._pull_all(wait)
        if replay:  # the central database was restored: send again what it lost
            more = self._push_all()
            pushed = _PushOutcome(pushed.answered + more.answered, pushed.rejected + more.rejected)
        self._refresh_leases()
        self._refresh_kassenzeichen()
        if refusal is not None:
            raise refusal
        return SyncReport(
            online=True,
            pushed=pushed.answered,
            rejected=pushed.rejected,
            pulled=pulled,
            kept_local=kept_local,
        )

    def _guarded(self, what: str, work: Callable[[], SyncReport]) -> SyncReport:
        """Run one round; every failure becomes a report with a German message, never an exception."""
        try:
            self._refuse_a_retired_identity()
            report = work()
        except store_instance.CopiedStore as error:
            # Nothing is sent: the copy works on offline, and the clerk sees why in the status.
            log.warning("%s: no sync", error)
            return self._failed(error.user_message, online=False)
        except CentralError as error:
            return self._failed(
                error.user_message, online=not error.retryable, unreachable=error.status_code is None
            )
        except LocalStoreError as error:
            log.error("local store failed during %s: %s", what, error)
            return self._failed(error.user_message, online=self.is_online)
        except Exception:  # a background round must never take the app down
            log.exception("unexpected error during %s", what)
            return self._failed(_("Unerwarteter Fehler beim Abgleich mit der Zentrale."), online=False)
        self._succeeded()
        return report

    def run(
        self,
        stop: threading.Event,
        *,
        long_poll: float = 20.0,
        idle: float = 1.0,
        wakeup: threading.Event | None = None,
        on_round: Callable[[SyncReport], None] | None = None,
    ) -> None:
        """Sync until `stop` is set: long-polls while online, backs off while offline.

        `on_round` hears every round's report (the App shows the status from it); setting `wakeup`
        ends a pause early (a fresh local operation wants pushing). Whoever sets `stop` sets
        `wakeup` too."""
        pause = wakeup or stop
        while not stop.is_set():
            report = self.sync_once(wait=long_poll if self.is_online else 0.0)  # never raises
            if on_round is not None:
                on_round(report)
            if report.online:
                pause.wait(idle)
            else:
                self._wait_while_offline(pause)
            if wakeup is not None:
                wakeup.clear()

    def _wait_while_offline(self, pause: threading.Event) -> None:
        """Wait out the backoff, but end it as soon as an unreachable central service answers a probe.

        The backoff still spaces out rounds against a central service that answers but fails (5xx):
        probing its health would only say "up" at once. `pause` being set ends the wait too."""
        retry_at = self._monotonic() + max(1.0, self.retry_delay())
        while not pause.wait(random.uniform(*PROBE_INTERVAL)):
            if self._monotonic() >= retry_at:
                return
            with self._state_lock:
                unreachable = self._unreachable
            if unreachable and self._answers_probe():
                log.info("central service answers again; syncing")
                return

    def _answers_probe(self) -> bool:
        try:
            self.client.health()
        except CentralError:
            return False
        return True

    def close(self) -> None:
        """Close the connection to the central service."""
        self.client.close()

    def retry_delay(self) -> float:
        """Exponential backoff with jitter: 1 s, 2 s, 4 s … up to 60 s after consecutive failures."""
        with self._state_lock:
            failures = self._failures
        if failures == 0:
            return 0.0
        base: float = min(60.0, 2.0 ** (failures - 1))
        return base * random.uniform(0.8, 1.2)

    # --- status --------------------------------------------------------------------------------

    @property
    def is_online(self) -> bool:
        with self._state_lock:
            return self._online

    def status(self) -> SyncStatus:
        try:
            with self.store.session() as session:
                rows = session.execute(
                    select(OutboxOperation.status, func.count())
                    .where(OutboxOperation.status.in_([OperationStatus.PENDING, OperationStatus.REJECTED]))
                    .group_by(OutboxOperation.status)
                )
                counts: dict[str, int] = {str(status): int(count) for status, count in rows}
        except LocalStoreError as error:
            with self._state_lock:
                return SyncStatus(self._online, 0, self._last_sync_at, error.user_message)
        pending, rejected = counts.get(OperationStatus.PENDING, 0), counts.get(OperationStatus.REJECTED, 0)
        with self._state_lock:
            return SyncStatus(
                self._online,
                pending,
                self._last_sync_at,
                self._last_error_de,
                rejected,
                self._retired is True,
                self._central_restores,
                self._resent_after_restores,
            )

    # --- RemoteCaller --------------------------------------------------------------------------

    def call_next(self, ctx: DeskContext) -> CallResult | None:
        """Let the central service arbitrate the next ticket for this desk and record the call here.

        Pushes pending operations first, so the central service knows what this desk just finished.
        Raises `CentralUnavailable` when the central service cannot answer."""
        try:
            self._refuse_a_retired_identity()
        except store_instance.CopiedStore as error:
            raise CentralUnavailable(error.user_message) from error
        with self._state_lock:
            unreachable = not self._online and self._unreachable
        if unreachable:
            # The last round got no answer at all: asking now would make the clerk wait for a
            # timeout. The sync loop's probe finds the central service again within about 2 s.
            raise CentralUnavailable(MSG_UNREACHABLE)
        call_id = str(uuid6.uuid7())
        request = CallNextRequest(workstation_id=ctx.workstation_id, clerk_id=ctx.clerk_id, call_id=call_id)
        budget = _Budget(self._monotonic, self.call_next_budget)
        sent = False
        try:
            self._push_all(budget)
            sent = True
            try:
                answer = self.client.call_next(ctx.desk_id, request, timeout=budget.left())
            except CentralError as error:
                if not error.retryable:
                    raise
                # The same call_id returns the same ticket, so asking again after a lost answer is safe.
                answer = self.client.call_next(ctx.desk_id, request, timeout=budget.left())
        except _BudgetSpent:
            if sent:  # the call went out and got no answer in time: the link looks silent
                self._failed(MSG_TIMEOUT, online=False, unreachable=True)
            # Else a push took the time (the sync loop's, or a long outbox): no call was made.
            raise CentralUnavailable(MSG_TIMEOUT, lost_call_id=call_id if sent else None) from None
        except CentralError as error:
            self._failed(
                error.user_message, online=not error.retryable, unreachable=error.status_code is None
            )
            lost = call_id if sent and error.retryable else None  # a refusal (4xx) made no call
            raise CentralUnavailable(error.user_message, lost_call_id=lost) from error
        self._mark_online()
        if answer.ticket is None:
            return None
        if not self._replica_knows(answer.ticket.appointment_id, answer.ticket.service_ids):
            # e.g. an appointment booked minutes ago: fetch it before recording. A long poll in
            # progress returns promptly, because this very call changed the office.
            try:
                self._pull_all(0.0)
            except CentralError as error:
                log.warning("could not fetch what the called ticket refers to: %s", error.log_message)
        with self.store.write() as session:
            result = record_call(session, ctx, answer.ticket, answer.call_id, answer.explanation)
        return result

    def _refuse_a_retired_identity(self) -> None:
        if self._identity_retired():
            raise store_instance.copied_store_error(self.ctx.workstation_id)

    def _identity_retired(self) -> bool:
        """Asked once per engine (the store's instance was checked when it was opened); a copy
        enrolled anew takes its outbox along to its new identity here."""
        if self._retired is None:
            retired = store_instance.retired_identities(self.store)
            self._retired = self.ctx.workstation_id in retired
            if retired and not self._retired:
                with self.store.write() as session:
                    store_instance.adopt_identity(session, retired, self.ctx.workstation_id)
        return self._retired

    # --- leases --------------------------------------------------------------------------------

    def _refresh_leases(self) -> None:
        """Renew and top up this desk's leases (`sync.central.leases`); kept with a validity on this
        workstation's own clock, so a clock that is off does not stretch or cut them.

        Asked only when needed, not every round (each answer is a write at the central service): when
        the desk holds fewer than k leases on tickets still waiting here (one was called, here or by
        another desk), or the first of them runs out within `LEASE_RENEW_BEFORE`."""
        if not self.ctx.desk_id or not self._leases_wanted():
            return
        request = LeaseRequest(workstation_id=self.ctx.workstation_id, want=LEASES_PER_DESK)
        try:
            answer = self.client.leases(self.ctx.desk_id, request)
        except CentralError as error:
            # Leases only spare F2 a round trip: without them the desk calls through the central
            # service. The push and pull of this round went through, so it still counts as online.
            log.warning("no leases for this desk this round: %s", error.log_message)
            return
        valid_until = self.clock() + timedelta(seconds=answer.valid_seconds) - LEASE_SAFETY
        with self.store.write() as session:
            session.execute(delete(DeskLease).where(DeskLease.desk_id == self.ctx.desk_id))
            session.add_all(
                DeskLease(
                    ticket_id=lease.ticket_id,
                    desk_id=self.ctx.desk_id,
                    token=lease.token,
                    valid_until=valid_until,
                )
                for lease in answer.leases
            )

    def _leases_wanted(self) -> bool:
        now = self.clock()
        with self.store.session() as session:
            held = session.execute(
                select(func.count(), func.min(DeskLease.valid_until))
                .join(Ticket, Ticket.id == DeskLease.ticket_id)
                .where(
                    DeskLease.desk_id == self.ctx.desk_id,
                    DeskLease.valid_until > now,
                    Ticket.state == TicketState.WAITING,
                )
            ).one()
        count, first_end = held
        return count < LEASES_PER_DESK or first_end - now < LEASE_RENEW_BEFORE  # min() is set when count > 0

    def release_leases(self) -> None:
        """The desk closes (logout): its leases go back at once instead of blocking k tickets for the
        lease time. Best effort: offline they simply expire."""
        if not self.ctx.desk_id:
            return
        with self.store.write() as session:
            session.execute(delete(DeskLease).where(DeskLease.desk_id == self.ctx.desk_id))
        if self._identity_retired():
            return  # the leases are the original's to give back
        try:
            self.client.leases(self.ctx.desk_id, LeaseRequest(workstation_id=self.ctx.workstation_id, want=0))
        except CentralError as error:
            log.info("leases not given back (%s); they expire by themselves", error.log_message)

    # --- Kassenzeichen ranges ------------------------------------------------------------------

    def _refresh_kassenzeichen(self) -> None:
        """Fetch this desk's next Kassenzeichen range when it holds none or its range runs low
        (`sync.kassenzeichen.REFILL_SHARE`), so an outage finds a whole range in hand. Asked only
        then, not every round; offline the desk issues from what it holds."""
        if not self.ctx.desk_id:
            return
        with self.store.session() as session:
            wanted = kassenzeichen_ranges.range_wanted(session, self.ctx.desk_id)
        if wanted is None:
            return
        request = KassenzeichenRangeRequest(
            workstation_id=self.ctx.workstation_id,
            newest_prefix=wanted.newest_prefix,
            newest_first=wanted.newest_first,
        )
        try:
            grant = self.client.kassenzeichen_range(self.ctx.desk_id, request)
        except CentralError as error:
            # The push and pull went through; the desk issues from its range and asks next round.
            log.warning("no Kassenzeichen range for this desk this round: %s", error.log_message)
            return
        with self.store.write() as session:
            kassenzeichen_ranges.take_range(session, self.ctx.desk_id, grant)

    # --- push ----------------------------------------------------------------------------------

    def _push_all(self, budget: _Budget | None = None) -> _PushOutcome:
        """Everything pending, in batches; within `budget` when a key press waits for it."""
        if budget is None:
            self._push_lock.acquire()
        elif not self._push_lock.acquire(timeout=budget.left()):
            raise _BudgetSpent  # the sync loop's push holds it, on a link that does not answer
        try:
            return self._push_batches(budget)
        finally:
            self._push_lock.release()

    def _push_batches(self, budget: _Budget | None) -> _PushOutcome:
        answered = rejected = 0
        gap_retries = 0
        while True:
            batch = self._next_batch()
            if not batch:
                return _PushOutcome(answered, rejected)
            try:
                response = self.client.push(
                    PushRequest(
                        workstation_id=self.ctx.workstation_id,
                        office_id=self.ctx.office_id,
                        operations=batch,
                    ),
                    timeout=budget.left() if budget is not None else None,
                )
            except SequenceGapError as gap:
                gap_retries += 1
                if gap_retries > 1 or not self._resend_from(gap.expected_seq):
                    raise
                continue
            except CentralError as error:
                self._note_attempt(batch, error.log_message)
                raise
            outcome = self._store_results(response)
            answered += outcome.answered
            rejected += outcome.rejected

    def _next_batch(self) -> list[Operation]:
        with self.store.session() as session:
            rows = session.scalars(
                select(OutboxOperation)
                .where(OutboxOperation.status == OperationStatus.PENDING)
                .order_by(OutboxOperation.seq)
                .limit(self.batch_size)
            ).all()
            return [operation_of(row) for row in rows]

    def _store_results(self, response: PushResponse) -> _PushOutcome:
        rejected = 0
        now = self.clock()
        with self.store.write() as session:
            by_seq = {
                row.seq: row
                for row in session.scalars(
                    select(OutboxOperation).where(OutboxOperation.seq.in_([r.seq for r in response.results]))
                )
            }
            for result in response.results:
                row = by_seq.get(result.seq)
                if row is None or row.op_id != result.op_id:
                    log.error("push answer names seq %d which this outbox does not hold", result.seq)
                    continue
                row.attempts += 1
                row.result = result.result
                was_rejected = result.status == "rejected" or (
                    result.status == "duplicate" and _duplicate_was_rejected(result)
                )
                if was_rejected:
                    rejected += 1
                    row.status = OperationStatus.REJECTED
                    row.last_error = result.reason
                    log.warning("operation seq %d (%s) rejected: %s", row.seq, row.kind, result.reason)
                    replica.let_central_win(session, row.args, workstation_id=self.ctx.workstation_id)
                else:  # applied now, or applied before and answered from the stored result
                    row.status = OperationStatus.APPLIED
                    row.last_error = None
            state = replica.sync_state(session, self.ctx.workstation_id, self.ctx.office_id)
            state.acked_seq = max(state.acked_seq, response.acked_seq)
            state.last_push_at = now
            applied = [row.kind for row in by_seq.values() if row.status == OperationStatus.APPLIED]
            if "case.finish" in applied:
                # A finished case is synced: its biometric captures are no longer needed here.
                from workstation.retention import purge_synced_captures

                purge_synced_captures(session, now)
        return _PushOutcome(len(response.results), rejected)

    def _note_attempt(self, batch: list[Operation], error: str) -> None:
        with self.store.write() as session:
            for row in session.scalars(
                select(OutboxOperation).where(OutboxOperation.seq.in_([op.seq for op in batch]))
            ):
                row.attempts += 1
                row.last_error = error

    def _resend_from(self, expected_seq: int) -> bool:
        """The central service expects `expected_seq` next: operations from there on it has not seen
        become pending again (they are kept in the outbox); when it expects a number beyond what this
        store holds (the store was restored from a backup), the pending operations are renumbered
        from there — their ids stay, so what the central service applied already is answered as a
        duplicate. False when the outbox cannot help."""
        with self.store.write() as session:
            state = session.get(SyncState, self.ctx.workstation_id)
            if state is None or expected_seq > state.acked_seq:
                return self._resend_kept_from(session, expected_seq)
            log.warning(
                "central expects seq %d, not past what it acknowledged (restored from a backup): full resync",
                expected_seq,
            )
            resent = self._restart_for_restored_central(session, state.epoch, expected_seq - 1)
        self._note_restore(resent)
        return resent > 0

    def _resend_kept_from(self, session: Session, expected_seq: int) -> bool:
        """`_resend_from` for a central service that holds all this store had acknowledged."""
        first_pending = session.scalar(
            select(func.min(OutboxOperation.seq)).where(OutboxOperation.status == OperationStatus.PENDING)
        )
        if first_pending is not None and expected_seq > first_pending:
            return replica.renumber_pending(session, self.ctx.workstation_id, expected_seq)
        if first_pending is not None and expected_seq == first_pending:
            log.error("central expects seq %d, which is pending already", expected_seq)
            return False
        count = replica.resend_from(session, expected_seq)
        log.warning("central expects seq %d: %d operations are sent again", expected_seq, count)
        return count > 0

    def _restart_for_restored_central(
        self, session: Session, epoch: str | None, central_acked_seq: int
    ) -> int:
        """The full resync, for a new epoch and for a central database put back from an older backup
        (which brings back its epoch too): it no longer holds operations it acknowledged, or this
        desk's cursor lies past its head. Its
        versions count from an older point again, so the desk would take changes numbered between
        the two (a ticket taken at the kiosk since) for seen: pull everything again and send again
        what it lost, as for a new epoch. Returns how many operations are sent again. The caller
        logs why and, once this commits, calls `_note_restore`."""
        return replica.restart_for_new_epoch(
            session,
            workstation_id=self.ctx.workstation_id,
            office_id=self.ctx.office_id,
            epoch=epoch,
            central_acked_seq=central_acked_seq,
        )

    def _note_restore(self, resent: int) -> None:
        """A full resync for a restored central database committed: the status tells the clerk."""
        with self._state_lock:
            self._central_restores += 1
            self._resent_after_restores += resent

    # --- pull ----------------------------------------------------------------------------------

    def _pull_all(self, wait: float) -> tuple[int, int, bool]:
        """Returns (rows applied, rows kept local, whether operations must be sent again)."""
        with self._pull_lock:
            return self._pull_pages(wait)

    def _pull_pages(self, wait: float) -> tuple[int, int, bool]:
        """`_pull_all` for a caller holding the pull lock."""
        applied = kept = 0
        replay = False
        while True:
            with self.store.session() as session:
                state = session.get(SyncState, self.ctx.workstation_id)
                cursor, epoch, acked = (state.cursor, state.epoch, state.acked_seq) if state else (0, None, 0)
            page = self.client.changes(
                self.ctx.office_id, self.ctx.workstation_id, cursor, limit=self.page_limit, wait=wait
            )
            wait = 0.0  # only the first request waits for news
            with self.store.write() as session:
                resent = self._restart_if_restored(session, page, cursor=cursor, epoch=epoch, acked=acked)
                report = None
                if resent is None:
                    report = replica.apply_changes(
                        session,
                        page,
                        workstation_id=self.ctx.workstation_id,
                        office_id=self.ctx.office_id,
                        now=self.clock(),
                    )
            if resent is not None:  # committed: pull everything again
                self._note_restore(resent)
                replay = resent > 0 or replay
                continue
            assert report is not None
            applied += report.applied
            kept += report.kept_local
            if not page.has_more:
                return applied, kept, replay

    def _restart_if_restored(
        self, session: Session, page: ChangesPage, *, cursor: int, epoch: str | None, acked: int
    ) -> int | None:
        """A full resync when `page` shows a new epoch or a restored central database: how many
        operations are sent again; None when the page is to be applied."""
        if epoch is not None and page.epoch != epoch:
            pass  # a new epoch: `restart_for_new_epoch` logs it
        elif epoch is not None and page.acked_seq < acked:
            # `acked` was read before the request, and the central service's count only grows.
            log.warning(
                "central acknowledges up to seq %d, fewer than %d before (restored from a backup): "
                "full resync",
                page.acked_seq,
                acked,
            )
        elif page.cursor_ahead:
            # Nothing of this desk was lost, but the central service counts versions from an older
            # point again: what it numbers up to the old cursor would be taken for seen.
            log.warning(
                "pull cursor %d lies past the central's head %d (restored from a backup): full resync",
                cursor,
                page.cursor,
            )
        else:
            return None
        return self._restart_for_restored_central(session, page.epoch, page.acked_seq)

    def _replica_knows(self, appointment_id: str | None, service_ids: list[str]) -> bool:
        with self.store.session() as session:
            return replica.knows(session, appointment_id, service_ids)

    # --- status bookkeeping --------------------------------------------------------------------

    def _succeeded(self) -> None:
        with self._state_lock:
            self._online = True
            self._failures = 0
            self._last_sync_at = self.clock()
            self._last_error_de = None

    def _mark_online(self) -> None:
        with self._state_lock:
            self._online = True

    def _failed(self, user_message: str, *, online: bool, unreachable: bool = False) -> SyncReport:
        message = _(user_message)  # the library's German source strings are catalogue ids
        with self._state_lock:
            self._online = online
            self._unreachable = unreachable
            self._failures += 1
            self._last_error_de = message
        return SyncReport(online=online, error_de=message)


def operation_of(row: OutboxOperation) -> Operation:
    """The protocol's form of an outbox row, as it is pushed."""
    return Operation(
        op_id=row.op_id,
        seq=row.seq,
        kind=row.kind,
        args=row.args,
        base_version=row.base_version,
        schema_version=row.schema_version,
        created_at=row.created_at,
    )


def _duplicate_was_rejected(result: OperationResult) -> bool:
    """A duplicate is answered from the stored result; servers that predate `original_status`
    are read by their shape: only rejections carry a reason without being flagged."""
    if result.original_status is not None:
        return result.original_status == "rejected"
    return result.reason is not None and not result.flagged


class _BudgetSpent(Exception):
    """The time a key press may wait for the central service is over."""


class _Budget:
    """What is left of the time a clerk's key press may wait for the central service."""

    def __init__(self, monotonic: Callable[[], float], seconds: float) -> None:
        self._monotonic = monotonic
        self._ends_at = monotonic() + seconds

    def left(self) -> float:
        """Seconds left for the next request; `_BudgetSpent` when none are."""
        left = self._ends_at - self._monotonic()
        if left <= 0:
            raise _BudgetSpent
        return left
