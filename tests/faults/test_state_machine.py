"""Issue 9, fault test 13: a Hypothesis state machine. Two desks of one office do random clerk work
(F2, serve and finish, walk-ins) while their links are cut and restored at random and they sync at
random; after every step nothing a clerk did is lost and no ticket has two accepted calls; after
healing (links up, a few sync rounds) everything has converged: nothing pending, every refusal
counted where the clerk sees it.

The central service is the real one (embedded uvicorn on a fresh copy of a seeded SQLite day per
run); the links are the desks' own switchable transports. Bounded and derandomized."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import delete, func, select

from sync.central.embedded import start_embedded
from sync.central.seed import generate_day
from tests.sync.desks import Desk, accepted_calls
from tests.sync.support import CLERK, DAY, DESK, OTHER_CLERK, OTHER_DESK, central_clock, seeded_central_db
from workstation.errors import TresenError
from workstation.models import DeskLease, OperationStatus, OutboxOperation

HEALING_ROUNDS = 3  # sync rounds per desk after healing; convergence must not need more

_template = Path(tempfile.mkdtemp(prefix="tresen-machine-")) / "central.sqlite3"
seeded_central_db(_template, generate_day(DAY, seed=7))
DESK_ROWS = st.integers(min_value=0, max_value=1)


class Office(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="tresen-run-"))
        shutil.copy(_template, self.dir / "central.sqlite3")
        self.central = start_embedded(f"sqlite:///{self.dir / 'central.sqlite3'}", clock=central_clock)
        self.desks = [
            Desk(self.dir, self.central, "ws-m1", DESK, CLERK),
            Desk(self.dir, self.central, "ws-m2", OTHER_DESK, OTHER_CLERK),
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
    def sync(self, d: int) -> None:
        self.desks[d].engine.sync_once()  # never raises: offline is a report

    # --- what must hold after every step ------------------------------------------------------------

    @invariant()
    def nothing_a_clerk_did_is_lost(self) -> None:
        for index, desk in enumerate(self.desks):
            with desk.store.session() as session:
                held = session.scalar(select(func.count()).select_from(OutboxOperation)) or 0
            assert held >= self.outbox_seen[index]
            self.outbox_seen[index] = held

    @invariant()
    def no_ticket_has_two_accepted_calls(self) -> None:
        assert all(count == 1 for count in accepted_calls(self.central).values())

    def teardown(self) -> None:
        try:
            for desk in self.desks:
                desk.link.restore()
            for _ in range(HEALING_ROUNDS):
                for desk in self.desks:
                    assert desk.engine.sync_once().online
            for desk in self.desks:
                with desk.store.session() as session:
                    statuses = list(session.scalars(select(OutboxOperation.status)))
                assert OperationStatus.PENDING not in statuses  # converged
                rejected = sum(1 for status in statuses if status == OperationStatus.REJECTED)
                assert desk.engine.status().rejected_operations == rejected  # told
            self.no_ticket_has_two_accepted_calls()
        finally:
            for desk in self.desks:
                desk.close()
            self.central.stop()
            shutil.rmtree(self.dir, ignore_errors=True)


Office.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=30,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
TestOfficeThroughOutages = Office.TestCase
