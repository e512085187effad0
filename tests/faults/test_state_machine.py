"""Issue 9, fault test 13: a Hypothesis state machine. Two desks of one office do random clerk work
(F2, serve and finish, walk-ins) while their links are cut and restored at random, faults below HTTP
come and go on them (answers lost after the central service answered, answers cut after n bytes,
delays) and they sync at random; after every step nothing a clerk did is lost, no walk-in number is
issued twice and no ticket has two accepted calls; after healing (links up, proxies healthy, a few
sync rounds) everything has converged: nothing pending, every refusal counted where the clerk sees
it.

The central service is the real one (embedded uvicorn on a fresh copy of a seeded SQLite day per
run); each desk reaches it through its own TCP proxy (`tests.faults.proxy`) and, above that, its own
switchable transport. Bounded and derandomized."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import delete, func, select

from sync.central import store as central_models
from sync.central.embedded import start_embedded
from sync.central.seed import generate_day
from tests.faults.proxy import FaultProxy
from tests.sync.desks import Desk, accepted_calls
from tests.sync.support import (
    CLERK,
    DAY,
    DESK,
    OTHER_CLERK,
    OTHER_DESK,
    central_clock,
    central_operations,
    seeded_central_db,
)
from workstation.errors import TresenError
from workstation.models import DeskLease, OperationStatus, OutboxOperation

HEALING_ROUNDS = 3  # sync rounds per desk after healing; convergence must not need more

_template = Path(tempfile.mkdtemp(prefix="tresen-machine-")) / "central.sqlite3"
seeded_central_db(_template, generate_day(DAY, seed=7))
DESK_ROWS = st.integers(min_value=0, max_value=1)
# Where an answer is cut: before its first byte, inside the head, inside a changes page's body.
CUT_AFTER_BYTES = st.sampled_from([0, 300, 3_000])
DELAY_SECONDS = st.sampled_from([0.005, 0.02])  # far below the client's timeout: slow, not down


class Office(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="tresen-run-"))
        shutil.copy(_template, self.dir / "central.sqlite3")
        self.central = start_embedded(f"sqlite:///{self.dir / 'central.sqlite3'}", clock=central_clock)
        port = urlsplit(self.central.url).port
        assert port is not None
        self.proxies = [FaultProxy("127.0.0.1", port) for _ in range(2)]  # one network per desk
        self.desks = [
            Desk(self.dir, self.central, "ws-m1", DESK, CLERK, via=self.proxies[0].url),
            Desk(self.dir, self.central, "ws-m2", OTHER_DESK, OTHER_CLERK, via=self.proxies[1].url),
        ]
        self.outbox_seen = [0, 0]  # the most operations each desk's outbox has held
        for desk in self.desks:
            desk.engine.sync_once()

    # --- what clerks and the network do -------------------------------------------------------------

    @rule(d=DESK_ROWS)
    def press_f2(self, d: int) -> None:
        # A ticket still open at the desk, or nobody waiting: the clerk is told, nothing changes.
        with contextlib.suppress(TresenError):
            self.desks[d].counter.call_next()

    @rule(d=DESK_ROWS)
    def serve_and_finish(self, d: int) -> None:
        counter = self.desks[d].counter
        try:
            current = counter.current_ticket()
            if current is None:
                return
            if current.state == "called":
                counter.citizen_arrived()
                current = counter.current_ticket()
                assert current is not None
            counter.finish({service.id: "completed" for service in current.services})
        except TresenError:
            pass

    @rule(d=DESK_ROWS)
    def issue_walk_in(self, d: int) -> None:
        desk = self.desks[d]
        with desk.store.session() as session:
            from workstation.models import Desk as DeskRow

            services = session.get_one(DeskRow, desk.ctx.desk_id).services
            service_id = services[0].id
        desk.counter.issue_walk_in([service_id], 0)

    @rule(d=DESK_ROWS)
    def leases_run_out(self, d: int) -> None:
        """Its leases expire (a long outage): F2 offline falls back to the local choice."""
        with self.desks[d].store.write() as session:
            session.execute(delete(DeskLease))

    @rule(d=DESK_ROWS)
    def cut_link(self, d: int) -> None:
        self.desks[d].link.cut()

    @rule(d=DESK_ROWS)
    def restore_link(self, d: int) -> None:
        self.desks[d].link.restore()

    @rule(d=DESK_ROWS)
    def lose_answers(self, d: int) -> None:
        """The central service gets and applies the desk's requests; the answers never arrive."""
        self.proxies[d].lose_answers()

    @rule(d=DESK_ROWS, after=CUT_AFTER_BYTES)
    def cut_answers(self, d: int, after: int) -> None:
        self.proxies[d].cut_answers_after(after)

    @rule(d=DESK_ROWS, seconds=DELAY_SECONDS)
    def delay_answers(self, d: int, seconds: float) -> None:
        self.proxies[d].delay(seconds)

    @rule(d=DESK_ROWS)
    def heal_network(self, d: int) -> None:
        self.proxies[d].healthy()

    @rule(d=DESK_ROWS)
    def push_whose_answer_is_lost(self, d: int) -> None:
        """The push after a command, its answer lost once (a lasting fault would mostly take the
        probe an offline desk sends first, not a push)."""
        desk, proxy = self.desks[d], self.proxies[d]
        applied_before = self._applied_centrally(desk)
        proxy.lose_answers()
        try:
            desk.engine.push_pending()
        finally:
            proxy.healthy()
        if self._applied_centrally(desk) > applied_before:
            event("a push applied whose answer never arrived")

    @rule(d=DESK_ROWS, after=CUT_AFTER_BYTES)
    def pull_cut_short(self, d: int, after: int) -> None:
        desk, proxy = self.desks[d], self.proxies[d]
        proxy.cut_answers_after(after)
        try:
            report = desk.engine.pull()
        finally:
            proxy.healthy()
        event(f"a pull with its answer cut after {after} bytes: {'answered' if report.online else 'failed'}")

    @rule(d=DESK_ROWS)
    def sync(self, d: int) -> None:
        desk = self.desks[d]
        applied_before = self._applied_centrally(desk)
        report = desk.engine.sync_once()  # never raises: offline is a report
        # What the faults made of it (`--hypothesis-show-statistics`): the run must reach these.
        event(f"sync through a {self.proxies[d].mode} network: {'answered' if report.online else 'failed'}")
        if not report.online and self._applied_centrally(desk) > applied_before:
            event("a push applied whose answer never arrived")

    def _applied_centrally(self, desk: Desk) -> int:
        with self.central.store.read() as session:
            workstation = session.get(central_models.Workstation, desk.ctx.workstation_id)
            return workstation.last_seq if workstation is not None else 0

    # --- what must hold after every step ------------------------------------------------------------

    @invariant()
    def nothing_a_clerk_did_is_lost(self) -> None:
        for index, desk in enumerate(self.desks):
            with desk.store.session() as session:
                held = session.scalar(select(func.count()).select_from(OutboxOperation)) or 0
            assert held >= self.outbox_seen[index]
            self.outbox_seen[index] = held

    @invariant()
    def no_walk_in_number_is_issued_twice(self) -> None:
        """Centrally, where both desks' walk-ins meet (a transfer's successor keeps the number)."""
        ticket = central_models.Ticket
        with self.central.store.read() as session:
            shared = session.scalars(
                select(ticket.number)
                .where(ticket.transferred_from_id.is_(None))
                .group_by(ticket.office_id, ticket.number)
                .having(func.count() > 1)
            )
            assert list(shared) == []

    @invariant()
    def no_ticket_has_two_accepted_calls(self) -> None:
        assert all(count == 1 for count in accepted_calls(self.central).values())

    def teardown(self) -> None:
        try:
            for desk, proxy in zip(self.desks, self.proxies, strict=True):
                desk.link.restore()
                proxy.healthy()  # in force when it returns: the next connection is forwarded whole
            for _ in range(HEALING_ROUNDS):
                for desk in self.desks:
                    assert desk.engine.sync_once().online
            central_url = self.central.store.db_url
            for desk in self.desks:
                with desk.store.session() as session:
                    statuses = dict(
                        session.execute(select(OutboxOperation.op_id, OutboxOperation.status)).all()
                    )
                assert OperationStatus.PENDING not in statuses.values()  # converged
                # Each once centrally, and the desk holds the outcome it had there (a push whose
                # answer was lost is answered later as a duplicate, with the stored outcome).
                central = {
                    op_id: status
                    for _seq, op_id, status in central_operations(central_url, desk.ctx.workstation_id)
                }
                assert {op_id: str(status) for op_id, status in statuses.items()} == central
                rejected = sum(1 for status in statuses.values() if status == OperationStatus.REJECTED)
                assert desk.engine.status().rejected_operations == rejected  # told
            self.no_ticket_has_two_accepted_calls()
        finally:
            for desk in self.desks:
                desk.close()
            for proxy in self.proxies:
                proxy.close()
            self.central.stop()
            shutil.rmtree(self.dir, ignore_errors=True)


Office.TestCase.settings = settings(
    max_examples=14,
    stateful_step_count=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
TestOfficeThroughOutages = Office.TestCase
