"""The day's figures aggregated in the central database (SQLite and PostgreSQL), equal to `sync.statistics`.

One subquery states `sync.statistics.ticket_figures` per ticket in SQL (waiting, walk and service
seconds, the flags); each grouping (booked/walk-in, hour, desk, clerk, service) is one GROUP BY over it
that returns the same counts, sums and maxima as the pure functions. `tests/central/test_statistics_sql`
checks both agree on generated days. The averages and rates come from `GroupFigures` itself.

The hour of arrival is computed from seconds since the office day's start, corrected by the day's
UTC offset change (SQLite has no time zones): exact except in the hour a DST switch happens (02:00–03:00
on a Sunday night, when no office is open).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Float, Integer, and_, case, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from sync.central import store
from sync.clock import OFFICE_ZONE
from sync.sqltypes import UtcDateTime
from sync.statistics import (
    FINISHED,
    NO_SHOW,
    PUNCTUALITY_MINUTES,
    TRANSFERRED,
    DayFigures,
    GroupFigures,
    Tally,
    day_start,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    from sqlalchemy.sql.compiler import SQLCompiler
    from sqlalchemy.sql.selectable import Subquery

__all__ = ["day_figures_sql", "has_tickets_on", "logged_in_seconds_sql"]


class _SecondsBetween(FunctionElement[float]):
    """`later − earlier` in seconds, as a float (None if either is NULL)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(_SecondsBetween, "sqlite")
def _seconds_sqlite(element: _SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    # julianday is a double: round to the millisecond it can represent exactly at today's dates
    return f"round((julianday({later}) - julianday({earlier})) * 86400.0, 3)"


@compiles(_SecondsBetween, "postgresql")
def _seconds_postgresql(element: _SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS DOUBLE PRECISION)"


class _WholeHours(FunctionElement[int]):
    """floor(seconds / 3600) for seconds ≥ 0."""

    type = Integer()
    inherit_cache = True
    name = "whole_hours"


@compiles(_WholeHours, "sqlite")
def _hours_sqlite(element: _WholeHours, compiler: SQLCompiler, **kw: Any) -> str:
    (seconds,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(({seconds}) / 3600 AS INTEGER)"  # truncates, which is floor for seconds ≥ 0


@compiles(_WholeHours, "postgresql")
def _hours_postgresql(element: _WholeHours, compiler: SQLCompiler, **kw: Any) -> str:
    (seconds,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(floor(({seconds}) / 3600) AS INTEGER)"


def _seconds(later: Any, earlier: Any) -> ColumnElement[float]:
    return _SecondsBetween(later, earlier)


def _at_least_zero(seconds: ColumnElement[float]) -> ColumnElement[float]:
    return case((seconds < 0, 0.0), else_=seconds)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = day_start(day)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), OFFICE_ZONE)
    return start.astimezone(UTC), end.astimezone(UTC)


def _ticket_figures(office_id: str, day: date, target_minutes: int) -> Subquery:
    """One row per ticket arrived on `day`: `sync.statistics.ticket_figures` in SQL."""
    start, end = day_bounds(day)
    start_param = literal(start, UtcDateTime())
    Ticket, Case, Appointment = store.Ticket, store.Case, store.Appointment  # noqa: N806  (model aliases)
    day_tickets = select(Ticket.id).where(
        Ticket.office_id == office_id, Ticket.issued_at >= start, Ticket.issued_at < end
    )
    cases = (
        select(
            Case.ticket_id.label("ticket_id"),
            func.min(Case.opened_at).label("show_up"),
            func.sum(Case.served_seconds).label("served"),
            func.max(Case.finished_at).label("finished_at"),
        )
        .where(Case.office_id == office_id, Case.ticket_id.in_(day_tickets))
        .group_by(Case.ticket_id)
        .subquery("case_totals")
    )
    called_at = func.coalesce(Ticket.first_called_at, cases.c.show_up)
    is_visit = Ticket.transferred_from_id.is_(None)
    waits = and_(is_visit, called_at.is_not(None))
    wait = _at_least_zero(_seconds(called_at, Ticket.issued_at))
    appointment_called = and_(waits, Appointment.slot_start.is_not(None))
    walked = and_(Ticket.last_called_at.is_not(None), cases.c.show_up.is_not(None))
    served = and_(cases.c.show_up.is_not(None), Ticket.state.in_([FINISHED, TRANSFERRED]))
    dst_shift = _offset_seconds(day, 12) - _offset_seconds(day, 0)
    return (
        select(
            Ticket.id.label("ticket_id"),
            _flag(Ticket.appointment_id.is_not(None)).label("booked"),
            _WholeHours(_seconds(Ticket.issued_at, start_param) + dst_shift).label("hour"),
            Ticket.desk_id.label("desk_id"),
            Ticket.clerk_id.label("clerk_id"),
            _flag(is_visit).label("visit"),
            _flag(Ticket.first_called_at.is_not(None)).label("called"),
            _flag(Ticket.state == FINISHED).label("served"),
            _flag(Ticket.state == NO_SHOW).label("no_show"),
            case((waits, wait)).label("wait"),
            _flag(and_(waits, wait <= target_minutes * 60)).label("within"),
            _flag(appointment_called).label("appointment_called"),
            _flag(
                and_(
                    appointment_called,
                    _seconds(called_at, Appointment.slot_start) <= PUNCTUALITY_MINUTES * 60,
                )
            ).label("punctual"),
            case((walked, _at_least_zero(_seconds(cases.c.show_up, Ticket.last_called_at)))).label("walk"),
            case((served, cases.c.served)).label("service"),
        )
        .select_from(Ticket)
        .outerjoin(cases, cases.c.ticket_id == Ticket.id)
        .outerjoin(Appointment, Appointment.id == Ticket.appointment_id)
        .where(Ticket.office_id == office_id, Ticket.issued_at >= start, Ticket.issued_at < end)
        .subquery("ticket_figures")
    )


def _offset_seconds(day: date, hour: int) -> int:
    offset = datetime.combine(day, datetime.min.time(), OFFICE_ZONE).replace(hour=hour).utcoffset()
    return int(offset.total_seconds()) if offset else 0


def _aggregates(figures: Subquery) -> list[Any]:
    c = figures.c
    total = func.coalesce

    def tally(column: Any, label: str) -> list[Any]:
        return [
            func.count(column).label(f"{label}_count"),
            total(func.sum(column), 0.0).label(f"{label}_total"),
            total(func.max(column), 0.0).label(f"{label}_max"),
        ]

    return [
        func.count().label("tickets"),
        func.sum(c.visit).label("visits"),
        func.sum(c.called).label("called"),
        func.sum(c.served).label("served"),
        func.sum(c.no_show).label("no_shows"),
        *tally(c.wait, "wait"),
        func.sum(c.within).label("within"),
        func.sum(c.appointment_called).label("appointments_called"),
        func.sum(c.punctual).label("punctual"),
        *tally(c.walk, "walk"),
        *tally(c.service, "service"),
    ]


def _group(row: Any) -> GroupFigures:
    def tally(label: str) -> Tally:
        return Tally(
            int(getattr(row, f"{label}_count")),
            float(getattr(row, f"{label}_total")),
            float(getattr(row, f"{label}_max")),
        )

    return GroupFigures(
        tickets=int(row.tickets),
        visits=int(row.visits),
        called=int(row.called),
        served=int(row.served),
        no_shows=int(row.no_shows),
        waiting=tally("wait"),
        within_target=int(row.within),
        appointments_called=int(row.appointments_called),
        punctual=int(row.punctual),
        walk=tally("walk"),
        service=tally("service"),
    )


def _grouped(
    session: Session, figures: Subquery, key: Any, *, join_services: bool = False
) -> dict[Any, GroupFigures]:
    query = select(key.label("key"), *_aggregates(figures)).select_from(figures)
    if join_services:
        query = query.join(store.TicketService, store.TicketService.ticket_id == figures.c.ticket_id)
    query = query.where(key.is_not(None)).group_by(key).order_by(key)
    return {row.key: _group(row) for row in session.execute(query)}


def day_figures_sql(
    session: Session, office_id: str, day: date, target_minutes: int, *, now: datetime | None = None
) -> DayFigures:
    """The office's figures for `day`, every group one aggregate query; logins still open count up to
    `now` (`sync.statistics.day_figures` with the desks' recorded logins)."""
    figures = _ticket_figures(office_id, day, target_minutes)
    by_booking = _grouped(session, figures, figures.c.booked)
    booked, walk_in = by_booking.get(1, GroupFigures()), by_booking.get(0, GroupFigures())
    desks = _grouped(session, figures, figures.c.desk_id)
    for desk_id, seconds in logged_in_seconds_sql(session, office_id, day, now=now).items():
        desks[desk_id] = replace(desks.get(desk_id, GroupFigures()), logged_in_seconds=seconds)
    return DayFigures(
        day=day,
        target_minutes=target_minutes,
        total=booked + walk_in,
        booked=booked,
        walk_in=walk_in,
        hours=_grouped(session, figures, figures.c.hour),
        desks=dict(sorted(desks.items())),
        services=_grouped(session, figures, store.TicketService.service_id, join_services=True),
        clerks=_grouped(session, figures, figures.c.clerk_id),
    )


def logged_in_seconds_sql(
    session: Session, office_id: str, day: date, *, now: datetime | None = None
) -> dict[str, float]:
    """`sync.statistics.logged_in_seconds` over the recorded desk logins (`store.DeskPresence`): each
    login clipped to the day (and to `now`), summed per desk, in one GROUP BY."""
    start, until = day_bounds(day)
    if now is not None:
        until = min(until, now)
    Presence = store.DeskPresence  # noqa: N806  (model alias)
    ended = func.coalesce(Presence.ended_at, Presence.expires_at)
    start_param, until_param = literal(start, UtcDateTime()), literal(until, UtcDateTime())
    clipped = _seconds(
        case((ended < until_param, ended), else_=until_param),
        case((Presence.started_at > start_param, Presence.started_at), else_=start_param),
    )
    query = (
        select(Presence.desk_id, func.sum(clipped))
        .where(Presence.office_id == office_id, Presence.started_at < until, ended > start)
        .group_by(Presence.desk_id)
        .order_by(Presence.desk_id)
    )
    return {desk_id: float(seconds) for desk_id, seconds in session.execute(query) if seconds and seconds > 0}


def has_tickets_on(session: Session, office_id: str, day: date) -> bool:
    start, end = day_bounds(day)
    query = select(store.Ticket.id).where(
        store.Ticket.office_id == office_id, store.Ticket.issued_at >= start, store.Ticket.issued_at < end
    )
    return session.scalar(query.limit(1)) is not None
