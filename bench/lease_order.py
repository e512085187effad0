"""How much leases cost the office's first-come-first-served order: a simulated office day (issue 9).

A pure, deterministic discrete-event simulation: no database, no HTTP. The office day comes from
`sync.central.seed.generate_day` (offices, their rules, desks with their services, service durations
and the 150 booked appointments); this script adds what that generator does not make for a whole day:
- appointments: 8 % never come, the rest check in from 15 minutes before to 5 after their slot
  (not before opening);
- walk-ins: a Poisson stream from 08:00 to 15:30 (Bürgeramt 14, Zulassungsstelle 7 an hour; ×1.3
  until 10:00, ×0.7 after 13:00), each with the visit of a random appointment of that office (the
  generator's mix of services), 4 % urgent (priority 1);
- at the desk: the sum of the services' durations × a log-normal factor (σ 0.5, median 0.88, cut
  to 0.3–2.5, so a 15-minute passport takes 4.5 to 37.5 minutes), then
  10–60 s of wrap-up before the clerk's next F2; an idle clerk presses F2 3–20 s after a new ticket
  appears; every desk takes a 30-minute break from 11:00 on (staggered), logging out after its
  current citizen (logging out stops the sync rounds and does not release the desk's leases).
Every setting sees the same citizens (same arrivals, services and times), so settings compare
ticket by ticket.

The desks follow the shipped logic (`sync/central/leases.py`, `workstation/sync_engine.py`,
`workstation/commands.call_from_lease`), with `sync.ordering.choose_next` making every choice:
- each desk refreshes its leases every R seconds (its sync round, desks' rounds spread evenly over R)
  and right after each of its calls: valid leases are kept, then topped up to k by the rule among
  waiting tickets that no other desk holds (a lease holds until its expiry plus 30 s);
- F2 calls the best of the desk's own leased tickets; with none, the central service picks by the
  rule among tickets not leased to another desk (k = 0: always, so perfect rule order — the
  reference);
- a desk that stops refreshing (break, outage) keeps its leases until the last refresh plus the
  lease time L; the central service hands them to others 30 s after that (`LEASE_MARGIN`), the
  desk uses them until 30 s before it (`LEASE_SAFETY`).
The outage runs cut every desk off the central service for 10 minutes, starting at a random moment
between 09:00 and 10:30 of each day: desks call from their leases while valid, then fall back to the
local choice by the rule over the queue they last saw (`commands.call_next`), which knows nothing of
other desks' leases or calls. A local call of a ticket another desk holds is refused centrally
afterwards, and a call of a ticket another desk already called finds nobody (2 minutes lost);
both count as clashes. New tickets issued during the outage are seen only after it.

Per setting, over all calls of both offices and all days:
- "out of order": the called ticket was not the rule's choice for that desk among all waiting
  tickets at that moment; "displacement": how many better-ranked tickets eligible at that desk
  were waiting then (mean and max);
- "Δ wait": mean waiting time (arrival to call) minus that with k = 0; "urgent Δ": per urgent
  ticket, its wait minus its wait with k = 0 (mean, max);
- "lease F2": share of calls made from the desk's own lease (no round trip);
- "stranded": desk-minutes per day a logged-in desk stood idle although a ticket it serves was
  waiting (leased to another desk, so its F2 found nobody);
- "stuck": tickets per day held by a desk that logged out for its break, and for how long;
- outage: calls made while cut off (including calls that found nobody), from a lease or the local
  choice, clashes, desks that fell back to the local choice and when (median minutes in).

Table 3 is a what-if, not the shipped logic: "logout frees" releases a desk's leases when its clerk
logs out; "idle desk takes" lets a desk without a lease of its own take the rule's choice among all
waiting tickets, revoking another desk's lease on it (a new grant raises the token, so the holder's
stale use is refused; the few seconds until the holder learns of it are not modelled); "both" is
the two together; "central first" sends every online F2 to the central service that way and keeps
the leases for an outage only.

    uv run python bench/lease_order.py [--seed 1] [--days 10] [--load 1.0]
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.central.leases import LEASE_TIME
from sync.central.seed import generate_day
from sync.central.store import LEASE_MARGIN
from sync.clock import OFFICE_ZONE
from sync.ordering import OrderingRules, QueueEntry, choose_next, is_eligible, order_key
from workstation.sync_engine import LEASE_SAFETY, LEASES_PER_DESK

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from sync.central.seed import SeedDay
    from sync.ordering import Choice

FIRST_DAY = date(2026, 3, 2)
HOUR = 3600.0
MINUTE = 60.0
NO_SHOW_SHARE = 0.08
WALK_INS_PER_HOUR = {"ba-mitte": 14.0, "zl-sued": 7.0}
WALK_IN_PROFILE = ((0.0, 2 * HOUR, 1.3), (2 * HOUR, 5 * HOUR, 1.0), (5 * HOUR, 7.5 * HOUR, 0.7))
URGENT_SHARE = 0.04
SERVICE_SIGMA = 0.5
SERVICE_FACTOR_RANGE = (0.3, 2.5)
BREAKS_FROM = 3 * HOUR  # 11:00
BREAK_LENGTH = 30 * MINUTE
BREAK_SPREAD = 2 * HOUR  # the office's breaks start within this span
OUTAGE_EARLIEST, OUTAGE_LATEST = 1 * HOUR, 2.5 * HOUR  # 09:00 … 10:30
OUTAGE_LENGTH = 10 * MINUTE
NOBODY_CAME = 2 * MINUTE  # a call of a ticket another desk already called
RELEASE_NOTICED = 10.0  # an idle clerk sees a released ticket in the queue after this long
MARGIN = LEASE_MARGIN.total_seconds()
SAFETY = LEASE_SAFETY.total_seconds()

KS = (0, 1, 2, 3, 5)
REFRESHES = (1.0, 3.0, 30.0)
LEASE_TIMES = (2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 20 * MINUTE)
SHIPPED_REFRESH = 3.0  # a sync round: long poll of at most 3 s, answered at once on a change, 1 s pause


# --- the day ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """One citizen of the day, the same in every setting."""

    entry: QueueEntry
    arrival: float  # seconds after opening
    service: float  # seconds at the desk
    wrap_up: float  # seconds after the service before the clerk's next F2
    notice: float  # seconds an idle clerk takes to see a new ticket


@dataclass(frozen=True)
class DeskSpec:
    desk_id: str
    service_ids: frozenset[str]
    break_start: float


@dataclass(frozen=True)
class OfficeDay:
    office_id: str
    opening: datetime
    rules: OrderingRules
    desks: tuple[DeskSpec, ...]
    visits: tuple[Visit, ...]
    outage_start: float


def office_days(seed: int, day_index: int, load: float = 1.0) -> list[OfficeDay]:
    """Both offices of one generated day, with the citizens that come (see the module's docstring)."""
    day = FIRST_DAY + timedelta(days=day_index)
    generated: SeedDay = generate_day(day, seed, waiting=0)
    rng = random.Random(seed * 1_000_003 + day.toordinal())
    opening = datetime.combine(day, clock_time(8, 0), OFFICE_ZONE).astimezone(UTC)
    durations = {service.id: service.duration_minutes * MINUTE for service in generated.services}
    prefixes = {service.id: service.ticket_prefix for service in generated.services}
    outage_start = rng.uniform(OUTAGE_EARLIEST, OUTAGE_LATEST)
    days = []
    for office in generated.offices:
        rules = OrderingRules(
            recall_block_minutes=office.recall_block_minutes,
            early_window_minutes=office.early_window_minutes,
        )
        desk_rows = [desk for desk in generated.desks if desk.office_id == office.id]
        spread = BREAK_SPREAD / len(desk_rows)
        desks = tuple(
            DeskSpec(desk.id, frozenset(desk.service_ids), BREAKS_FROM + index * spread)
            for index, desk in enumerate(sorted(desk_rows, key=lambda row: row.number))
        )
        appointments = [apt for apt in generated.appointments if apt.office_id == office.id]
        raw: list[tuple[float, tuple[str, ...], datetime | None, int]] = []
        for apt in appointments:
            if rng.random() < NO_SHOW_SHARE:
                continue
            slot = (apt.slot_start - opening).total_seconds()
            arrival = max(0.0, slot + rng.uniform(-15 * MINUTE, 5 * MINUTE))
            raw.append((arrival, tuple(apt.service_ids), apt.slot_start, 0))
        rate = load * WALK_INS_PER_HOUR[office.id] / HOUR
        for start, end, factor in WALK_IN_PROFILE:
            moment = start + rng.expovariate(rate * factor)
            while moment < end:
                services = tuple(rng.choice(appointments).service_ids)
                priority = 1 if rng.random() < URGENT_SHARE else 0
                raw.append((moment, services, None, priority))
                moment += rng.expovariate(rate * factor)
        raw.sort(key=lambda item: item[0])
        numbers: Counter[str] = Counter()
        visits = []
        for index, (arrival, services, slot_start, priority) in enumerate(raw):
            prefix = prefixes[services[0]]
            numbers[prefix] += 1
            entry = QueueEntry(
                ticket_id=f"{office.id}-{day:%m%d}-{index:04d}",
                number=f"{prefix}{100 + numbers[prefix]}",
                issued_at=opening + timedelta(seconds=arrival),
                service_ids=frozenset(services),
                priority=priority,
                slot_start=slot_start,
            )
            nominal = sum(durations[service] for service in services)
            factor = rng.lognormvariate(-(SERVICE_SIGMA**2) / 2, SERVICE_SIGMA)
            factor = min(max(factor, SERVICE_FACTOR_RANGE[0]), SERVICE_FACTOR_RANGE[1])
            visits.append(Visit(entry, arrival, nominal * factor, rng.uniform(10, 60), rng.uniform(3, 20)))
        days.append(OfficeDay(office.id, opening, rules, desks, tuple(visits), outage_start))
    return days


# --- the simulation -----------------------------------------------------------------------------


SHIPPED = "shipped"
LOGOUT_FREES = "logout frees"  # what-if: logging out releases the desk's leases at once
IDLE_TAKES = "idle desk takes"  # what-if: a desk without a lease may take another desk's leased ticket
BOTH = "both"  # what-if: the two above
CENTRAL_FIRST = "central first"  # what-if: online F2 always asks the central service
POLICIES = (SHIPPED, LOGOUT_FREES, IDLE_TAKES, BOTH, CENTRAL_FIRST)
REVOKING = (IDLE_TAKES, BOTH, CENTRAL_FIRST)


@dataclass(frozen=True)
class Setting:
    k: int
    refresh: float  # R: seconds between a desk's sync rounds
    lease_time: float  # L: seconds
    outage: bool = False
    policy: str = SHIPPED  # what online F2 does (the what-if table; see `OfficeSim.press_f2`)


@dataclass
class Desk:
    spec: DeskSpec
    phase: float  # its sync rounds run at phase + n·R
    leases: list[str] = field(default_factory=list)
    expiry: float | None = None  # None: renewed every round; else the central service's expiry
    last_refresh: float = 0.0
    busy: bool = False
    logged_in: bool = True
    break_due: bool = False
    tick_pending: bool = False
    away_token: int = 0
    logged_out_at: float = 0.0
    replica: set[str] = field(default_factory=set)  # in an outage: the tickets it last saw waiting
    fell_back_at: float | None = None
    stranded_since: float | None = None  # idle while a ticket it serves waits (leased elsewhere)


@dataclass(frozen=True)
class CallRecord:
    ticket_id: str
    at: float
    source: str  # "lease", "central" or "local"
    displacement: int


@dataclass
class OfficeResult:
    calls: list[CallRecord] = field(default_factory=list)
    waits: dict[str, float] = field(default_factory=dict)
    urgent: set[str] = field(default_factory=set)
    stranded: float = 0.0  # desk-seconds
    revoked: int = 0
    stuck: list[float] = field(default_factory=list)
    outage_calls: Counter[str] = field(default_factory=Counter)
    clashes: int = 0
    desks: int = 0
    desks_fell_back: int = 0
    fallback_after: list[float] = field(default_factory=list)  # seconds into the outage


ARRIVE, FREE, WAKE, TICK, BREAK, RETURN, RELEASE, OUTAGE_START, OUTAGE_END = range(9)


class OfficeSim:
    def __init__(self, day: OfficeDay, setting: Setting) -> None:
        self.day, self.setting = day, setting
        self.rules = day.rules
        self.visits = {visit.entry.ticket_id: visit for visit in day.visits}
        self.waiting: dict[str, Visit] = {}  # the central truth, in order of arrival
        self.called: set[str] = set()
        self.holder: dict[str, Desk] = {}
        count = len(day.desks)
        self.desks = [Desk(spec, setting.refresh * (i + 0.5) / count) for i, spec in enumerate(day.desks)]
        self.offline = False
        self.events: list[tuple[float, int, int, int, int]] = []
        self.seq = 0
        self.result = OfficeResult(desks=count)
        self.outage = (day.outage_start, day.outage_start + OUTAGE_LENGTH) if setting.outage else None

    def schedule(self, at: float, kind: int, a: int = 0, b: int = 0) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, kind, a, b))

    def now(self, t: float) -> datetime:
        return self.day.opening + timedelta(seconds=t)

    def run(self) -> OfficeResult:
        for index, visit in enumerate(self.day.visits):
            self.schedule(visit.arrival, ARRIVE, index)
            if visit.entry.priority > 0:
                self.result.urgent.add(visit.entry.ticket_id)
        for index, desk in enumerate(self.desks):
            self.schedule(desk.spec.break_start, BREAK, index)
        if self.outage is not None:
            self.schedule(self.outage[0], OUTAGE_START)
            self.schedule(self.outage[1], OUTAGE_END)
        handlers = {
            ARRIVE: self.on_arrive,
            FREE: self.on_free,
            WAKE: self.on_wake,
            TICK: self.on_tick,
            BREAK: self.on_break,
            RETURN: self.on_return,
            RELEASE: self.on_release,
            OUTAGE_START: self.on_outage_start,
            OUTAGE_END: self.on_outage_end,
        }
        while self.events:
            t, _seq, kind, a, b = heapq.heappop(self.events)
            handlers[kind](t, a, b)
        assert not self.waiting, "every citizen is served by the end of the day"
        return self.result

    # --- leases (sync.central.leases.grant) -------------------------------------------------------

    def held_elsewhere(self, ticket_id: str, desk: Desk, t: float) -> bool:
        holder = self.holder.get(ticket_id)
        if holder is None or holder is desk:
            return False
        return holder.expiry is None or t < holder.expiry + MARGIN

    def grant(self, desk: Desk, t: float) -> None:
        desk.last_refresh = t
        desk.leases = [tid for tid in desk.leases if tid in self.waiting and self.holder.get(tid) is desk]
        if len(desk.leases) >= self.setting.k:
            return
        now = self.now(t)
        while len(desk.leases) < self.setting.k:
            candidates = [
                visit.entry
                for tid, visit in self.waiting.items()
                if tid not in desk.leases and not self.held_elsewhere(tid, desk, t)
            ]
            choice = self.choose(candidates, desk, now)
            if choice is None:
                break
            previous = self.holder.get(choice.ticket_id)
            if previous is not None and choice.ticket_id in previous.leases:
                previous.leases.remove(choice.ticket_id)  # expired there: the grant moves it
            self.holder[choice.ticket_id] = desk
            desk.leases.append(choice.ticket_id)

    def choose(self, candidates: Sequence[QueueEntry], desk: Desk, now: datetime) -> Choice | None:
        return choose_next(candidates, desk.spec.service_ids, now, self.rules, desk_id=desk.spec.desk_id)

    def last_tick(self, desk: Desk, t: float) -> float:
        refresh = self.setting.refresh
        return desk.phase + math.floor((t - desk.phase) / refresh) * refresh

    def want_tick(self, t: float) -> None:
        """Something became leasable: desks with a free lease slot take it at their next round."""
        if self.offline or self.setting.k == 0:
            return
        refresh = self.setting.refresh
        for index, desk in enumerate(self.desks):
            if desk.logged_in and not desk.tick_pending and len(desk.leases) < self.setting.k:
                desk.tick_pending = True
                self.schedule(desk.phase + math.ceil((t - desk.phase) / refresh) * refresh, TICK, index)

    def go_away(self, desk: Desk, t: float) -> None:
        """The desk stops its sync rounds: its leases run out from its last refresh."""
        desk.last_refresh = max(desk.last_refresh, self.last_tick(desk, t))
        desk.expiry = desk.last_refresh + self.setting.lease_time

    def drop_leases(self, desk: Desk) -> None:
        for tid in desk.leases:
            if self.holder.get(tid) is desk:
                del self.holder[tid]
        desk.leases = []

    # --- calls ----------------------------------------------------------------------------------

    def press_f2(self, index: int, t: float) -> None:
        """F2 online. Shipped: the best own lease, else the central service's choice among tickets
        not leased to another desk. What-ifs (not shipped): "idle desk takes" — without an own lease
        the central service chooses among all waiting tickets and revokes another desk's lease on
        the chosen one; "central first" — always so, leases only serve an outage."""
        desk = self.desks[index]
        if desk.busy or not desk.logged_in:
            return
        if self.offline:
            self.press_f2_offline(index, t)
            return
        now = self.now(t)
        policy = self.setting.policy
        choice = None
        source = "lease"
        if policy != CENTRAL_FIRST:
            own = [self.waiting[tid].entry for tid in desk.leases if tid in self.waiting]
            choice = self.choose(own, desk, now) if own else None
        if choice is None:
            source = "central"
            candidates = [
                visit.entry
                for tid, visit in self.waiting.items()
                if policy in REVOKING or not self.held_elsewhere(tid, desk, t)
            ]
            choice = self.choose(candidates, desk, now)
        if choice is None:
            if desk.stranded_since is None and self.serves_a_waiting_ticket(desk, now):
                desk.stranded_since = t
            return
        holder = self.holder.get(choice.ticket_id)
        if holder is not None and holder is not desk:
            assert policy in REVOKING or not self.held_elsewhere(choice.ticket_id, desk, t)
            holder.leases.remove(choice.ticket_id)  # revoked: a new grant raises the token
            del self.holder[choice.ticket_id]
            self.result.revoked += 1
            self.want_tick(t)
        self.call(index, choice.ticket_id, t, source)
        self.grant(desk, t)

    def serves_a_waiting_ticket(self, desk: Desk, now: datetime) -> bool:
        served, desk_id = desk.spec.service_ids, desk.spec.desk_id
        return any(
            is_eligible(visit.entry, served, now, self.rules, desk_id) for visit in self.waiting.values()
        )

    def end_stranded(self, desk: Desk, t: float) -> None:
        if desk.stranded_since is not None:
            self.result.stranded += t - desk.stranded_since
            desk.stranded_since = None

    def press_f2_offline(self, index: int, t: float) -> None:
        desk = self.desks[index]
        now = self.now(t)
        usable = t < desk.last_refresh + self.setting.lease_time - SAFETY
        own = [self.visits[tid].entry for tid in desk.leases if tid in desk.replica] if usable else []
        choice = self.choose(own, desk, now) if own else None
        source = "lease"
        if choice is None:
            choice = self.choose([self.visits[tid].entry for tid in desk.replica], desk, now)
            source = "local"
        if choice is None:
            return  # nothing it knows of: idle until the link is back
        tid = choice.ticket_id
        assert self.outage is not None
        self.result.outage_calls[source] += 1
        if source == "local" and desk.fell_back_at is None:
            desk.fell_back_at = t - self.outage[0]
        desk.replica.discard(tid)
        if tid in desk.leases:
            desk.leases.remove(tid)
            if self.holder.get(tid) is desk:
                del self.holder[tid]
        refused = source == "local" and self.held_elsewhere(tid, desk, t)
        if tid in self.called:  # another desk called this citizen already: nobody comes
            self.result.clashes += 1
            desk.busy = True
            self.schedule(t + NOBODY_CAME, FREE, index)
            return
        if refused:
            self.result.clashes += 1
        self.call(index, tid, t, source)

    def call(self, index: int, ticket_id: str, t: float, source: str) -> None:
        desk = self.desks[index]
        now = self.now(t)
        visit = self.waiting[ticket_id]
        served, desk_id = desk.spec.service_ids, desk.spec.desk_id
        key = order_key(visit.entry, now, self.rules)
        displacement = sum(
            1
            for other in self.waiting.values()
            if other is not visit
            and is_eligible(other.entry, served, now, self.rules, desk_id)
            and order_key(other.entry, now, self.rules) < key
        )
        del self.waiting[ticket_id]
        self.called.add(ticket_id)
        if self.holder.get(ticket_id) is desk:
            del self.holder[ticket_id]
            desk.leases.remove(ticket_id)
        self.result.calls.append(CallRecord(ticket_id, t, source, displacement))
        self.result.waits[ticket_id] = t - visit.arrival
        desk.busy = True
        self.schedule(t + visit.service + visit.wrap_up, FREE, index)
        self.end_stranded(desk, t)
        for other in self.desks:  # a stranded desk is no longer so once nothing it serves waits
            if other.stranded_since is not None and not self.serves_a_waiting_ticket(other, now):
                self.end_stranded(other, t)

    # --- events ---------------------------------------------------------------------------------

    def on_arrive(self, t: float, index: int, _b: int) -> None:
        visit = self.day.visits[index]
        self.waiting[visit.entry.ticket_id] = visit
        if not self.offline:
            self.want_tick(t)
            self.schedule(t + visit.notice, WAKE)

    def on_wake(self, t: float, _a: int, _b: int) -> None:
        for index in range(len(self.desks)):
            self.press_f2(index, t)

    def on_tick(self, t: float, index: int, _b: int) -> None:
        desk = self.desks[index]
        desk.tick_pending = False
        if desk.logged_in and not self.offline:
            self.grant(desk, t)

    def on_free(self, t: float, index: int, _b: int) -> None:
        desk = self.desks[index]
        desk.busy = False
        if desk.break_due:
            self.log_out(index, t)
        else:
            self.press_f2(index, t)

    def on_break(self, t: float, index: int, _b: int) -> None:
        desk = self.desks[index]
        desk.break_due = True
        if not desk.busy:
            self.log_out(index, t)

    def log_out(self, index: int, t: float) -> None:
        desk = self.desks[index]
        desk.break_due, desk.logged_in, desk.logged_out_at = False, False, t
        assert not self.offline, "the outage ends before the first break"
        self.end_stranded(desk, t)
        if desk.leases and self.setting.policy in (LOGOUT_FREES, BOTH):
            self.drop_leases(desk)
            self.want_tick(t)
            self.schedule(t + RELEASE_NOTICED, WAKE)
        self.go_away(desk, t)
        assert desk.expiry is not None
        desk.away_token += 1
        if desk.leases:
            self.schedule(desk.expiry + MARGIN, RELEASE, index, desk.away_token)
        self.schedule(t + BREAK_LENGTH, RETURN, index)

    def on_release(self, t: float, index: int, token: int) -> None:
        desk = self.desks[index]
        if desk.logged_in or desk.away_token != token:
            return
        self.result.stuck.extend(
            t - desk.logged_out_at for tid in desk.leases if self.holder.get(tid) is desk
        )
        self.drop_leases(desk)
        self.want_tick(t)
        self.schedule(t + RELEASE_NOTICED, WAKE)

    def on_return(self, t: float, index: int, _b: int) -> None:
        desk = self.desks[index]
        desk.logged_in = True
        assert desk.expiry is not None
        held = [tid for tid in desk.leases if self.holder.get(tid) is desk]
        self.result.stuck.extend(t - desk.logged_out_at for _ in held)
        if t >= desk.expiry:
            self.drop_leases(desk)
        desk.expiry = None
        self.grant(desk, t)
        self.press_f2(index, t)

    def on_outage_start(self, t: float, _a: int, _b: int) -> None:
        self.offline = True
        seen = set(self.waiting)
        for desk in self.desks:
            assert desk.logged_in, "the outage ends before the first break"
            self.end_stranded(desk, t)
            self.go_away(desk, t)
            desk.replica = set(seen)

    def on_outage_end(self, t: float, _a: int, _b: int) -> None:
        self.offline = False
        for desk in self.desks:
            assert desk.expiry is not None
            if t >= desk.expiry:
                self.drop_leases(desk)
            desk.leases = [tid for tid in desk.leases if tid in self.waiting and self.holder.get(tid) is desk]
            desk.expiry, desk.replica = None, set()
            desk.tick_pending = False
            if desk.fell_back_at is not None:
                self.result.desks_fell_back += 1
                self.result.fallback_after.append(desk.fell_back_at)
        self.want_tick(t)
        self.schedule(t, WAKE)


# --- figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    calls: int
    from_lease: float  # share of calls
    out_of_order: float  # share of calls
    displacement_mean: float
    displacement_max: int
    wait_mean: float  # minutes
    wait_delta: float  # minutes, against k = 0
    urgent: int
    urgent_delta_mean: float  # minutes
    urgent_delta_max: float
    stranded_per_day: float  # desk-minutes
    revoked_per_day: float
    stuck_per_day: float
    stuck_minutes: float
    outage_calls: int
    outage_from_lease: int
    outage_local: int
    clashes: int
    desks: int
    desks_fell_back: int
    fallback_after: float  # median minutes into the outage, of the desks that fell back


def figures(results: Sequence[OfficeResult], reference: Sequence[OfficeResult], days: int) -> Figures:
    calls = [call for result in results for call in result.calls]
    waits = {tid: wait for result in results for tid, wait in result.waits.items()}
    base = {tid: wait for result in reference for tid, wait in result.waits.items()}
    urgent = sorted({tid for result in results for tid in result.urgent})
    urgent_delta = [(waits[tid] - base[tid]) / MINUTE for tid in urgent] or [0.0]
    displacement = [call.displacement for call in calls]
    stuck = [seconds for result in results for seconds in result.stuck]
    outage = Counter[str]()
    for result in results:
        outage.update(result.outage_calls)
    fallback = [seconds for result in results for seconds in result.fallback_after]
    return Figures(
        calls=len(calls),
        from_lease=sum(call.source == "lease" for call in calls) / len(calls),
        out_of_order=sum(d > 0 for d in displacement) / len(calls),
        displacement_mean=statistics.fmean(displacement),
        displacement_max=max(displacement),
        wait_mean=statistics.fmean(waits.values()) / MINUTE,
        wait_delta=(statistics.fmean(waits.values()) - statistics.fmean(base.values())) / MINUTE,
        urgent=len(urgent),
        urgent_delta_mean=statistics.fmean(urgent_delta),
        urgent_delta_max=max(urgent_delta),
        stranded_per_day=sum(result.stranded for result in results) / MINUTE / days,
        revoked_per_day=sum(result.revoked for result in results) / days,
        stuck_per_day=len(stuck) / days,
        stuck_minutes=statistics.fmean(stuck) / MINUTE if stuck else 0.0,
        outage_calls=sum(outage.values()),
        outage_from_lease=outage["lease"],
        outage_local=outage["local"],
        clashes=sum(result.clashes for result in results),
        desks=sum(result.desks for result in results),
        desks_fell_back=sum(result.desks_fell_back for result in results),
        fallback_after=statistics.median(fallback) / MINUTE if fallback else 0.0,
    )


class Runner:
    def __init__(self, days: Sequence[OfficeDay], day_count: int) -> None:
        self.days, self.day_count = days, day_count
        self.cache: dict[Setting, list[OfficeResult]] = {}

    def results(self, setting: Setting) -> list[OfficeResult]:
        if setting.k == 0:  # no leases: R, L and the policy change nothing
            setting = Setting(0, SHIPPED_REFRESH, LEASE_TIME.total_seconds(), setting.outage)
        if setting not in self.cache:
            self.cache[setting] = [OfficeSim(day, setting).run() for day in self.days]
        return self.cache[setting]

    def figures(self, setting: Setting) -> Figures:
        reference = self.results(Setting(0, setting.refresh, setting.lease_time))
        return figures(self.results(setting), reference, self.day_count)


SHIPPED_LEASE_TIME = LEASE_TIME.total_seconds()


def aligned(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Iterable[str]:
    """A plain-text table: the first two columns left-aligned, the others right-aligned."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    for row in (headers, *rows):
        cells = [
            cell.ljust(width) if index < 2 else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        yield "  ".join(cells).rstrip()


def _mark(setting: Setting) -> str:
    shipped = (LEASES_PER_DESK, SHIPPED_REFRESH, SHIPPED_LEASE_TIME, SHIPPED)
    return "*" if (setting.k, setting.refresh, setting.lease_time, setting.policy) == shipped else ""


ORDER_HEADERS = ("lease F2", "out of order", "displ. mean", "max", "wait", "Δ wait", "urgent Δ", "max")


def _order_cells(f: Figures) -> list[str]:
    return [
        f"{f.from_lease:.0%}",
        f"{f.out_of_order:.1%}",
        f"{f.displacement_mean:.2f}",
        f"{f.displacement_max}",
        f"{f.wait_mean:.1f}",
        f"{f.wait_delta:+.1f}",
        f"{f.urgent_delta_mean:+.1f}",
        f"{f.urgent_delta_max:+.1f}",
    ]


def order_table(runner: Runner) -> Iterable[str]:
    yield f"1. A normal day, by k and R (L = {SHIPPED_LEASE_TIME / MINUTE:.0f} min)"
    rows = []
    for k in KS:
        for refresh in REFRESHES if k else (SHIPPED_REFRESH,):
            setting = Setting(k, refresh, SHIPPED_LEASE_TIME)
            f = runner.figures(setting)
            r = "any" if k == 0 else f"{refresh:.0f} s"
            rows.append([str(k), r, *_order_cells(f), f"{f.stranded_per_day:.0f}", _mark(setting)])
    yield from aligned(["k", "R", *ORDER_HEADERS, "stranded", ""], rows)


def lease_time_table(runner: Runner) -> Iterable[str]:
    yield (
        f"2. By k and L (R = {SHIPPED_REFRESH:.0f} s): the breaks of a normal day, and a"
        f" {OUTAGE_LENGTH / MINUTE:.0f}-minute outage on each day"
    )
    rows = []
    for k in KS:
        for lease_time in LEASE_TIMES if k else (SHIPPED_LEASE_TIME,):
            setting = Setting(k, SHIPPED_REFRESH, lease_time)
            f = runner.figures(setting)
            o = runner.figures(Setting(k, SHIPPED_REFRESH, lease_time, outage=True))
            rows.append(
                [
                    str(k),
                    "any" if k == 0 else f"{lease_time / MINUTE:.0f} min",
                    f"{f.wait_delta:+.1f}",
                    f"{f.stuck_per_day:.1f}",
                    f"{f.stuck_minutes:.1f}",
                    str(o.outage_calls),
                    f"{o.outage_from_lease} = {o.outage_from_lease / o.outage_calls:.0%}",
                    str(o.outage_local),
                    str(o.clashes),
                    f"{o.desks_fell_back}/{o.desks}",
                    f"{o.fallback_after:.1f}",
                    _mark(setting),
                ]
            )
    headers = ["k", "L", "Δ wait", "stuck", "for", "outage calls", "from lease", "local", "clashes"]
    yield from aligned([*headers, "fell back", "after", ""], rows)


def policy_table(runner: Runner) -> Iterable[str]:
    yield (
        f"3. What if (not shipped): other F2 policies (R = {SHIPPED_REFRESH:.0f} s,"
        f" L = {SHIPPED_LEASE_TIME / MINUTE:.0f} min)"
    )
    rows = []
    for k in (1, 2, 3):
        for policy in POLICIES:
            setting = Setting(k, SHIPPED_REFRESH, SHIPPED_LEASE_TIME, policy=policy)
            f = runner.figures(setting)
            o = runner.figures(Setting(k, SHIPPED_REFRESH, SHIPPED_LEASE_TIME, outage=True, policy=policy))
            rows.append(
                [
                    str(k),
                    policy,
                    *_order_cells(f),
                    f"{f.stranded_per_day:.0f}",
                    f"{f.revoked_per_day:.0f}",
                    f"{o.outage_from_lease}/{o.outage_calls}",
                    str(o.clashes),
                    _mark(setting),
                ]
            )
    headers = ["k", "policy", *ORDER_HEADERS, "stranded", "revoked", "outage: lease", "clashes"]
    yield from aligned([*headers, ""], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--load", type=float, default=1.0, help="factor on the walk-in rates")
    args = parser.parse_args()
    started = time.perf_counter()
    days = [office for index in range(args.days) for office in office_days(args.seed, index, args.load)]
    visits = [visit for day in days for visit in day.visits]
    runner = Runner(days, args.days)
    reference = runner.figures(Setting(0, SHIPPED_REFRESH, SHIPPED_LEASE_TIME))
    print(
        f"seed {args.seed}, load {args.load:g}, {args.days} day(s) of both offices"
        f" ({len(days[0].desks)} + {len(days[1].desks)} desks):"
        f" {len(visits)} citizens, {sum(visit.entry.priority > 0 for visit in visits)} of them urgent;"
        f" k = 0 waits {reference.wait_mean:.1f} min on average"
    )
    for table in (order_table, lease_time_table, policy_table):
        print()
        for line in table(runner):
            print(line)
    print(
        f"\n* shipped: k = {LEASES_PER_DESK}, L = {SHIPPED_LEASE_TIME / MINUTE:.0f} min, a sync round"
        f" ≈ {SHIPPED_REFRESH:.0f} s. Times in minutes; Δ: against k = 0, the same citizens;"
        " stranded: desk-minutes a day; stuck: tickets a day, for minutes; revoked: a day."
        f" Whole run {time.perf_counter() - started:.1f} s."
    )


if __name__ == "__main__":
    main()
