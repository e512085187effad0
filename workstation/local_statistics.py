"""The supervisor's figures from the local store, for when the central service cannot be reached.

The workstation's replica holds the office's tickets and calls (from the changes feed) and this
workstation's own cases: the same `sync.statistics` computes the figures from them, so they are the
central service's figures minus what only the other desks know (their show-ups, service time and
walks) and minus the logins (no idle time). The screen marks them as that, with the time of the
last pull (`LocalFigures.as_of`). Exports are refused for them: the report would be incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

from sqlalchemy import func, select

from sync.central.statistics_api import (
    WARNING_SHARE,
    DayFiguresOut,
    DayReport,
    DeskActivity,
    LiveOffice,
    ServiceWaiting,
    over_target_alerts,
)
from sync.central.statistics_client import StatisticsUnavailable
from sync.clock import office_day, office_day_bounds
from sync.statistics import TicketFacts, day_figures
from workstation.i18n import N_
from workstation.models import Case, Clerk, Desk, Office, Service, SyncState, Ticket, TicketState

if TYPE_CHECKING:
    from datetime import date, datetime

    from sqlalchemy.orm import Session

    from sync.statistics import DayFigures

__all__ = ["LocalFigures", "local_day_report", "local_live_office", "local_stand"]

MSG_NO_LOCAL_DATA = N_("Für den {date} kennt dieser Arbeitsplatz keine Zahlen.")
MSG_NO_LOCAL_OFFICE = N_(
    "Dieser Arbeitsplatz kennt das Amt noch nicht (noch nie mit der Zentrale abgeglichen)."
)

Shown = TypeVar("Shown", DayReport, LiveOffice)


@dataclass(frozen=True)
class LocalFigures(Generic[Shown]):
    """Figures from the local store; `as_of` is the last pull from the central service (None: never)."""

    figures: Shown
    as_of: datetime | None


def local_stand(session: Session, workstation_id: str) -> datetime | None:
    state = session.get(SyncState, workstation_id)
    return state.last_pull_at if state is not None else None


def _office(session: Session, office_id: str) -> Office:
    office = session.get(Office, office_id)
    if office is None:
        raise StatisticsUnavailable(MSG_NO_LOCAL_OFFICE)
    return office


def _day_figures(session: Session, office_id: str, day: date, target_minutes: int) -> DayFigures:
    start, end = office_day_bounds(day)
    tickets = session.scalars(
        select(Ticket).where(Ticket.office_id == office_id, Ticket.issued_at >= start, Ticket.issued_at < end)
    ).all()
    cases = session.execute(
        select(
            Case.ticket_id,
            func.min(Case.opened_at),
            func.sum(Case.served_seconds),
            func.max(Case.finished_at),
        )
        .where(Case.ticket_id.in_([t.id for t in tickets]))
        .group_by(Case.ticket_id)
    ).all()
    by_ticket = {ticket_id: (opened, served, finished) for ticket_id, opened, served, finished in cases}
    facts = []
    for ticket in tickets:
        show_up, served, finished = by_ticket.get(ticket.id, (None, 0.0, None))
        facts.append(
            TicketFacts(
                ticket_id=ticket.id,
                arrival=ticket.issued_at,
                service_ids=tuple(service.id for service in ticket.services),
                booked=ticket.appointment_id is not None,
                slot=ticket.appointment.slot_start if ticket.appointment is not None else None,
                transferred_from=ticket.transferred_from_id,
                state=ticket.state.value,
                first_call=ticket.first_called_at,
                last_call=ticket.last_called_at,
                show_up=show_up,
                service_seconds=float(served or 0.0),
                finished_at=finished,
                desk_id=ticket.desk_id,
                clerk_id=ticket.clerk_id,
            )
        )
    return day_figures(facts, day, target_minutes=target_minutes)


def local_day_report(session: Session, office_id: str, day: date) -> DayReport:
    """The day's figures as far as this workstation knows them, in the central service's shape."""
    office = _office(session, office_id)
    figures = _day_figures(session, office_id, day, office.service_level_minutes)
    if not figures.has_data:
        raise StatisticsUnavailable(MSG_NO_LOCAL_DATA, {"date": day.strftime("%d.%m.%Y")})
    previous = _day_figures(session, office_id, day - timedelta(days=7), office.service_level_minutes)
    names: dict[str, str] = {}
    for model in (Service, Desk, Clerk):
        names.update(session.execute(select(model.id, model.name).where(model.office_id == office_id)).all())
    return DayReport(
        office_id=office.id,
        office_name=office.name,
        names=names,
        day=DayFiguresOut.of(figures),
        same_weekday_last_week=DayFiguresOut.of(previous),
    )


def local_live_office(session: Session, office_id: str, now: datetime) -> LiveOffice:
    """Waiting now per service and what each desk does, from the replica (no estimate: the other
    desks' service times are not known here)."""
    office = _office(session, office_id)
    target_seconds = office.service_level_minutes * 60
    start, _end = office_day_bounds(office_day(now))
    waiting = session.scalars(
        select(Ticket).where(
            Ticket.office_id == office_id, Ticket.state == TicketState.WAITING, Ticket.issued_at >= start
        )
    ).all()
    per_service: dict[str, list[datetime]] = {}
    names: dict[str, str] = {}
    for queued in waiting:
        for service in queued.services:
            per_service.setdefault(service.id, []).append(queued.issued_at)
            names[service.id] = service.name
    services = []
    for service_id, arrivals in per_service.items():
        longest = max(0.0, (now - min(arrivals)).total_seconds())
        level: Literal["ok", "warning", "over_target"] = (
            "over_target"
            if longest > target_seconds
            else "warning"
            if longest >= target_seconds * WARNING_SHARE
            else "ok"
        )
        services.append(
            ServiceWaiting(
                service_id=service_id,
                name=names[service_id],
                waiting=len(arrivals),
                longest_wait_seconds=longest,
                level=level,
            )
        )
    services.sort(key=lambda s: -s.longest_wait_seconds)
    busy = {
        t.desk_id: t
        for t in session.scalars(
            select(Ticket).where(
                Ticket.office_id == office_id,
                Ticket.state.in_([TicketState.CALLED, TicketState.SERVING]),
                Ticket.issued_at >= start,
            )
        )
    }
    desks = []
    for desk in session.scalars(select(Desk).where(Desk.office_id == office_id).order_by(Desk.number)):
        ticket = busy.get(desk.id)
        activity: Literal["calling", "serving", "idle"] = (
            "idle" if ticket is None else "calling" if ticket.state == TicketState.CALLED else "serving"
        )
        desks.append(
            DeskActivity(
                desk_id=desk.id,
                name=desk.name,
                activity=activity,
                since=ticket.last_called_at if ticket is not None and activity == "calling" else None,
                ticket_number=ticket.number if ticket is not None else None,
                clerk_id=ticket.clerk_id if ticket is not None else None,
            )
        )
    alerts = over_target_alerts(services, office.service_level_minutes)
    return LiveOffice(
        office_id=office.id,
        at=now,
        target_minutes=office.service_level_minutes,
        waiting_total=len(waiting),
        services=services,
        desks=desks,
        estimated_walk_in_wait_seconds=None,
        alerts=alerts,
    )
