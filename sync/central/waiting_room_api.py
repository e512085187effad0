"""The waiting room's two small APIs under `/api/v1` (`waiting_room_router`, included by
`sync.central.app`):

- `POST /offices/{office}/captures` — the office's capture terminal (a `capture` token) reports that it
  took a capture for a ticket number of today: the citizen's status page stops saying "bitte zur
  Fotostation". Only the terminal's reference and what was taken are kept, never an image.
- `GET|PUT /offices/{office}/display` — the office's stored call-display settings
  (`sync.central.display_config`): administrators set them; the office's workstations and displays may
  read them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from sync.central import display_config, store
from sync.central.auth import WORKSTATION, Caller
from sync.central.credentials import TokenKind
from sync.central.display_config import DisplaySettings
from sync.central.errors import NotFound
from sync.clock import office_day, office_day_bounds
from sync.protocol import CaptureItem, PlainText, TicketNumber
from sync.states import TicketState

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sync.central.changes import ChangeNotifier
    from sync.clock import Clock

__all__ = ["CaptureReport", "CaptureReported", "record_terminal_capture", "waiting_room_router"]

OfficePath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class CaptureReport(BaseModel):
    """What the capture terminal says: a capture was taken for the ticket with this number today."""

    model_config = ConfigDict(extra="forbid")

    ticket_number: TicketNumber
    reference: Annotated[PlainText, Field(min_length=1, max_length=128)]  # the terminal's retrieval code
    items: list[CaptureItem] = Field(min_length=1, max_length=3)


class CaptureReported(BaseModel):
    ticket_number: str
    reported_at: datetime


def record_terminal_capture(
    session: Session, office_id: str, report: CaptureReport, now: datetime
) -> store.TerminalCapture:
    """Record the report against today's ticket of that number (the live one, when a transfer made a
    successor with the same number); the same reference again replaces the earlier report."""
    start, end = office_day_bounds(office_day(now))
    candidates = session.execute(
        select(store.Ticket.id, store.Ticket.state)
        .where(
            store.Ticket.office_id == office_id,
            store.Ticket.number == report.ticket_number,
            store.Ticket.issued_at >= start,
            store.Ticket.issued_at < end,
        )
        .order_by(store.Ticket.issued_at.desc(), store.Ticket.id.desc())
    ).all()
    if not candidates:
        raise NotFound("no ticket of that number today")
    live = [ticket_id for ticket_id, state in candidates if state != TicketState.TRANSFERRED]
    ticket_id = (live or [candidates[0][0]])[0]
    record = session.get(store.TerminalCapture, (ticket_id, report.reference))
    if record is None:
        record = store.TerminalCapture(ticket_id=ticket_id, reference=report.reference, office_id=office_id)
        session.add(record)
    record.items = list(dict.fromkeys(report.items))
    record.reported_at = now
    if session.get_bind().dialect.name == "postgresql":
        from sync.central.pg_notify import announce

        announce(session, office_id)  # the other central processes' waiting rooms re-read
    return record


def waiting_room_router(central: store.CentralStore, notifier: ChangeNotifier, clock: Clock) -> APIRouter:
    router = APIRouter()

    @router.post(
        "/offices/{office_id}/captures",
        response_model=CaptureReported,
        status_code=status.HTTP_201_CREATED,
        tags=["waiting room"],
    )
    def report_capture(office_id: OfficePath, report: CaptureReport, caller: Caller) -> CaptureReported:
        """The office's capture terminal took a capture for a ticket of today (by its number)."""
        caller.allow(TokenKind.CAPTURE).office(office_id)
        now = clock()
        with central.write() as session:
            record_terminal_capture(session, office_id, report, now)
        notifier.notify(office_id)
        return CaptureReported(ticket_number=report.ticket_number, reported_at=now)

    @router.get("/offices/{office_id}/display", response_model=DisplaySettings, tags=["waiting room"])
    def get_display_settings(office_id: OfficePath, caller: Caller) -> DisplaySettings:
        caller.allow(TokenKind.ADMIN, TokenKind.DISPLAY, WORKSTATION).office(office_id)
        with central.read() as session:
            if session.get(store.Office, office_id) is None:
                raise NotFound("unknown office")
            return display_config.read_settings(session, office_id)

    @router.put("/offices/{office_id}/display", response_model=DisplaySettings, tags=["waiting room"])
    def put_display_settings(
        office_id: OfficePath, settings: DisplaySettings, caller: Caller
    ) -> DisplaySettings:
        """An administrator sets how the office's call displays look (open screens follow within the
        lifetime of their stream, 5 minutes; a screen's URL query still overrides)."""
        caller.allow(TokenKind.ADMIN)
        with central.write() as session:
            stored = display_config.write_settings(session, office_id, settings, clock())
        return stored

    return router
