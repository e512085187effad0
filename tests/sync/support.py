"""Helpers shared by the sync tests: the local store, fixed times, a whole office as one page."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import select

from sync.central.seed import BUERGERAMT_ID, SeedDay, seed_central
from sync.central.store import AppliedOperation, CentralStore, Ticket
from sync.protocol import ChangesPage

if TYPE_CHECKING:
    from pathlib import Path

    from workstation.counter import Counter

DAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def serve_and_finish(counter: Counter) -> str:
    """The citizen of the called ticket arrives, and every service is finished as done; the ticket's id."""
    counter.citizen_arrived()
    current = counter.current_ticket()
    assert current is not None
    counter.finish({service.id: "completed" for service in current.services})
    return current.ticket_id


def page_of(day: SeedDay, office_id: str = BUERGERAMT_ID, **overrides: object) -> ChangesPage:
    """The whole office as one changes page, like the first pull of a fresh workstation."""
    fields: dict[str, object] = {
        "epoch": "epoch-1",
        "cursor": 1000,
        "has_more": False,
        "acked_seq": 0,
        "offices": [o for o in day.offices if o.id == office_id],
        "services": [s for s in day.services if s.office_id == office_id],
        "desks": [d for d in day.desks if d.office_id == office_id],
        "clerks": [c for c in day.clerks if c.office_id == office_id],
        "appointments": [a for a in day.appointments if a.office_id == office_id],
        "tickets": [t for t in day.tickets if t.office_id == office_id],
    }
    fields.update(overrides)
    return ChangesPage.model_validate(fields)


DESK = f"{BUERGERAMT_ID}-d1"
CLERK = f"{BUERGERAMT_ID}-c2"
OTHER_DESK = f"{BUERGERAMT_ID}-d2"  # a second desk of the seeded office, and a clerk who works there
OTHER_CLERK = f"{BUERGERAMT_ID}-c3"


def central_clock() -> datetime:
    return NOW


def seeded_central_db(path: Path, day: SeedDay) -> str:
    """A central SQLite database holding the generated day; returns its URL."""
    return seeded_central(f"sqlite:///{path}", day)


def seeded_central(url: str, day: SeedDay) -> str:
    """The (empty) central database at `url` with its schema and the generated day; returns `url`."""
    central = CentralStore(url)
    central.create_schema()
    with central.write() as session:
        seed_central(session, day)
    central.dispose()
    return url


def central_operations(central_url: str, workstation_id: str) -> list[tuple[int, str, str]]:
    """What the central service recorded for a workstation: (seq, op_id, status) in seq order."""
    central = CentralStore(central_url)
    try:
        with central.read() as session:
            rows = session.scalars(
                select(AppliedOperation)
                .where(AppliedOperation.workstation_id == workstation_id)
                .order_by(AppliedOperation.seq)
            )
            return [(row.seq, row.op_id, row.status) for row in rows]
    finally:
        central.dispose()


def central_ticket(central_url: str, ticket_id: str) -> tuple[str, str | None]:
    """A ticket's state and desk as the central service holds them."""
    central = CentralStore(central_url)
    try:
        with central.read() as session:
            ticket = session.get_one(Ticket, ticket_id)
            return ticket.state, ticket.desk_id
    finally:
        central.dispose()


class FakeMonotonic:
    """A monotonic clock that moves only when told (`advance`)."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FaultyNetwork(httpx.BaseTransport):
    """The real network to the central service, with faults switched on by the test.

    `fault` applies to requests whose path contains `only` (all requests when empty):
    "lose-answer" lets the central service process the request and then drops its answer once;
    "html" / "500" / "garbage" replace the answer the way proxies and broken services do;
    "refuse" fails the connection as a host that is down does;
    "silent" answers nothing, as a link that went down without a word: each request waits for its
    own read timeout, noted in `waited` and passed on to `clock` (a test's monotonic clock) instead
    of being slept."""

    def __init__(self) -> None:
        self._real = httpx.HTTPTransport()
        self.fault: str | None = None
        self.only = ""
        self.lost: list[str] = []
        self.asked: list[str] = []  # every request's path, answered or not
        self.answers_to_lose = 1  # "lose-answer" drops this many answers, then the network heals
        self.server_errors: list[str] = []  # "503 /api/v1/sync/push": the real service's 5xx answers
        self.waited: list[tuple[str, float]] = []  # "silent": each request's path and read timeout
        self.clock: FakeMonotonic | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request.url.path)
        fault = self.fault if self.only in request.url.path else None
        if fault is None:
            response = self._real.handle_request(request)
            if response.status_code >= 500:
                self.server_errors.append(f"{response.status_code} {request.url.path}")
            return response
        if fault == "refuse":
            raise httpx.ConnectError("connection refused", request=request)
        if fault == "silent":
            read_timeout = float(request.extensions["timeout"]["read"])
            self.waited.append((request.url.path, read_timeout))
            if self.clock is not None:
                self.clock.advance(read_timeout)
            raise httpx.ReadTimeout("no answer", request=request)
        if fault == "lose-answer":
            response = self._real.handle_request(request)
            response.read()
            response.close()
            self.lost.append(request.url.path)
            self.answers_to_lose -= 1
            if self.answers_to_lose <= 0:
                self.fault = None
            raise httpx.ReadTimeout("answer lost on the way back", request=request)
        bodies = {
            "html": (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
            "500": (500, b'{"detail": "Internal Server Error"}', "application/json"),
            "garbage": (200, b'{"cursor": "soon"', "application/json"),
        }
        status, body, content_type = bodies[fault]
        return httpx.Response(status, content=body, headers={"content-type": content_type})

    def close(self) -> None:
        self._real.close()
