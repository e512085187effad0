"""The supervisor's figures over HTTP: the live office and any day's figures (DESIGN §7, issue 12).

`statistics_router(central, clock)` is included by `sync.central.app`. `require_supervisor` is where
the caller's role and office are checked (403 for a clerk, 404 for an office the caller may not see,
so its existence is not revealed). The desks' idle time comes from the logins `sync.central.presence`
records; a day's logins still open count up to the clock's now.

Refusals carry `detail = {"reason": English for logs, "message": German msgid (N_), "params": {...}}`;
the UI translates `message` and formats it with `params`.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from sync.central import store
from sync.central.auth import WORKSTATION, Caller, Principal
from sync.central.credentials import Role
from sync.central.statistics_sql import day_bounds, day_figures_sql, has_tickets_on
from sync.clock import office_day
from sync.protocol import OfficeDate  # noqa: TC001 - FastAPI reads the annotation at runtime
from sync.statistics import DayFigures, GroupFigures, Tally

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session

    from sync.clock import Clock

__all__ = [
    "SUPERVISOR_ROLES",
    "DayFiguresOut",
    "DayReport",
    "LiveOffice",
    "require_supervisor",
    "statistics_router",
]

log = logging.getLogger(__name__)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    return message


MSG_UNKNOWN_OFFICE = N_("Dieses Amt ist nicht bekannt oder für Sie nicht sichtbar.")
MSG_NOT_SUPERVISOR = N_("Die Statistik ist der Teamleitung vorbehalten.")
MSG_NO_DATA = N_("Für den {date} liegen keine Zahlen vor.")
MSG_SERVICE_OVER_TARGET = N_("{service}: wartet seit {minutes} min, Ziel {target} min")
MSG_DESK_IDLE = N_("{desk} ist frei, während {waiting} warten")

SUPERVISOR_ROLES = frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR})
WARNING_SHARE = 2 / 3  # a service's longest wait turns amber at two thirds of the target

IdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


# --- who is looking ------------------------------------------------------------------------------


def require_supervisor(caller: Principal, office_id: str) -> None:
    """Supervisors of the office (logged in at one of its workstations) and administrators."""
    if not (caller.is_admin or (caller.kind == WORKSTATION and caller.role in SUPERVISOR_ROLES)):
        log.info("statistics refused: caller %s with role %s is no supervisor", caller.kind, caller.role)
        _refuse(403, "statistics need a supervisor's login", MSG_NOT_SUPERVISOR)
    if caller.office_id is not None and caller.office_id != office_id:
        log.info("statistics refused: office not visible to the caller")
        _refuse(404, "unknown office", MSG_UNKNOWN_OFFICE)


def _refuse(status: int, reason: str, message: str, **params: str) -> None:
    raise HTTPException(status_code=status, detail={"reason": reason, "message": message, "params": params})


# --- schemas ----------------------------------------------------------------------------------------


class TallyOut(BaseModel):
    count: int
    total_seconds: float
    max_seconds: float
    mean_seconds: float | None

    @classmethod
    def of(cls, tally: Tally) -> TallyOut:
        return cls(
            count=tally.count, total_seconds=tally.total, max_seconds=tally.maximum, mean_seconds=tally.mean
        )

    def tally(self) -> Tally:
        return Tally(self.count, self.total_seconds, self.max_seconds)


class GroupOut(BaseModel):
    """`sync.statistics.GroupFigures` with its derived figures spelled out for API readers."""

    tickets: int
    visits: int
    called: int
    served: int
    no_shows: int
    waiting: TallyOut
    within_target: int
    appointments_called: int
    punctual: int
    walk: TallyOut
    service: TallyOut
    logged_in_seconds: float | None
    no_show_rate: float | None
    service_level: float | None
    punctuality: float | None
    idle_seconds: float | None

    @classmethod
    def of(cls, g: GroupFigures) -> GroupOut:
        return cls(
            tickets=g.tickets,
            visits=g.visits,
            called=g.called,
            served=g.served,
            no_shows=g.no_shows,
            waiting=TallyOut.of(g.waiting),
            within_target=g.within_target,
            appointments_called=g.appointments_called,
            punctual=g.punctual,
            walk=TallyOut.of(g.walk),
            service=TallyOut.of(g.service),
            logged_in_seconds=g.logged_in_seconds,
            no_show_rate=g.no_show_rate,
            service_level=g.service_level,
            punctuality=g.punctuality,
            idle_seconds=g.idle_seconds,
        )

    def figures(self) -> GroupFigures:
        return GroupFigures(
            tickets=self.tickets,
            visits=self.visits,
            called=self.called,
            served=self.served,
            no_shows=self.no_shows,
            waiting=self.waiting.tally(),
            within_target=self.within_target,
            appointments_called=self.appointments_called,
            punctual=self.punctual,
            walk=self.walk.tally(),
            service=self.service.tally(),
            logged_in_seconds=self.logged_in_seconds,
        )


class DayFiguresOut(BaseModel):
    date: date
    target_minutes: int
    has_data: bool
    total: GroupOut
    booked: GroupOut
    walk_in: GroupOut
    hours: dict[int, GroupOut]
    desks: dict[str, GroupOut]
    services: dict[str, GroupOut]
    clerks: dict[str, GroupOut]

    @classmethod
    def of(cls, d: DayFigures) -> DayFiguresOut:
        def groups(m: Any) -> dict[Any, GroupOut]:
            return {key: GroupOut.of(g) for key, g in m.items()}

        return cls(
            date=d.day,
            target_minutes=d.target_minutes,
            has_data=d.has_data,
            total=GroupOut.of(d.total),
            booked=GroupOut.of(d.booked),
            walk_in=GroupOut.of(d.walk_in),
            hours=groups(d.hours),
            desks=groups(d.desks),
            services=groups(d.services),
            clerks=groups(d.clerks),
        )

    def figures(self) -> DayFigures:
        """Back to the one implementation, for exports and screens on the client side."""

        def groups(m: dict[Any, GroupOut]) -> dict[Any, GroupFigures]:
            return {key: g.figures() for key, g in m.items()}

        return DayFigures(
            day=self.date,
            target_minutes=self.target_minutes,
            total=self.total.figures(),
            booked=self.booked.figures(),
            walk_in=self.walk_in.figures(),
            hours=groups(self.hours),
            desks=groups(self.desks),
            services=groups(self.services),
            clerks=groups(self.clerks),
        )


class DayReport(BaseModel):
    office_id: str
    office_name: str
    names: dict[str, str]  # desk, service and clerk ids → their names, for tables and exports
    day: DayFiguresOut
    same_weekday_last_week: DayFiguresOut


class ServiceWaiting(BaseModel):
    service_id: str
    name: str
    waiting: int
    longest_wait_seconds: float
    level: Literal["ok", "warning", "over_target"]


class DeskActivity(BaseModel):
    desk_id: str
    name: str
    activity: Literal["calling", "serving", "idle"]
    since: datetime | None  # called at / serving since / idle since the last finish (None: not yet today)
    ticket_number: str | None
    clerk_id: str | None
    logged_in_since: datetime | None = None  # the open login at the desk (None: nobody, as recorded)


class Alert(BaseModel):
    kind: Literal["service_over_target", "desk_idle_while_waiting"]
    subject_id: str
    message: str  # German msgid (N_), formatted with `params` after translation
    params: dict[str, str]


class LiveOffice(BaseModel):
    model_config = ConfigDict(frozen=True)

    office_id: str
    at: datetime
    target_minutes: int
    waiting_total: int
    services: list[ServiceWaiting]
    desks: list[DeskActivity]
    estimated_walk_in_wait_seconds: float | None
    alerts: list[Alert]


# --- the routes -------------------------------------------------------------------------------------


def statistics_router(central: store.CentralStore, clock: Clock) -> APIRouter:
    router = APIRouter(prefix="/statistics", tags=["statistics"])

    @router.get("/offices/{office_id}/live", response_model=LiveOffice)
    def live(office_id: IdPath, viewer: Caller) -> LiveOffice:
        require_supervisor(viewer, office_id)
        with central.read() as session:
            office = _office(session, office_id)
            return live_office(session, office, clock())

    @router.get("/offices/{office_id}/days/{day}", response_model=DayReport)
    def day_report(office_id: IdPath, day: OfficeDate, viewer: Caller) -> DayReport:
        require_supervisor(viewer, office_id)
        with central.read() as session:
            office = _office(session, office_id)
            if not has_tickets_on(session, office_id, day):
                log.info("statistics: no tickets on %s", day.isoformat())
                _refuse(404, f"no tickets on {day.isoformat()}", MSG_NO_DATA, date=day.strftime("%d.%m.%Y"))
            target, now = office.service_level_minutes, clock()
            return DayReport(
                office_id=office.id,
                office_name=office.name,
                names=_names(session, office_id),
                day=DayFiguresOut.of(day_figures_sql(session, office_id, day, target, now=now)),
                same_weekday_last_week=DayFiguresOut.of(
                    day_figures_sql(session, office_id, day - timedelta(days=7), target, now=now)
                ),
            )

    return router


def _office(session: Session, office_id: str) -> store.Office:
    office = session.get(store.Office, office_id)
    if office is None:
        _refuse(404, "unknown office", MSG_UNKNOWN_OFFICE)
    assert office is not None
    return office


def _names(session: Session, office_id: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for model in (store.Service, store.Desk, store.Clerk):
        names.update(session.execute(select(model.id, model.name).where(model.office_id == office_id)).all())
    return names


def live_office(session: Session, office: store.Office, now: datetime) -> LiveOffice:
    """What the office does now: few rows (desks, the services' waiting aggregates), so one pass each."""
    Ticket, TicketService = store.Ticket, store.TicketService  # noqa: N806  (model aliases)
    target_seconds = office.service_level_minutes * 60
    today_start, _end = _today(now)  # yesterday's forgotten tickets are not today's queue
    # The queue: one row per waiting ticket of today and service it asks for (tens of rows), with the
    # service's name; counted here, so the waiting and their total take one round trip.
    queue = session.execute(
        select(Ticket.id, TicketService.service_id, store.Service.name, Ticket.issued_at)
        .outerjoin(TicketService, TicketService.ticket_id == Ticket.id)
        .outerjoin(store.Service, store.Service.id == TicketService.service_id)
        .where(Ticket.office_id == office.id, Ticket.state == "waiting", Ticket.issued_at >= today_start)
    ).all()
    per_service: dict[str, tuple[str, int, datetime]] = {}
    for row in queue:
        service_id: str | None = row[1]  # None: a ticket without a service (outer join)
        name: str | None = row[2]
        issued_at = row[3]
        if service_id is None:
            continue
        _name, how_many, oldest = per_service.get(service_id, (name or service_id, 0, issued_at))
        per_service[service_id] = (name or service_id, how_many + 1, min(oldest, issued_at))
    waiting = []
    for service_id, (service_name, how_many, oldest) in per_service.items():
        longest = max(0.0, (now - oldest).total_seconds())
        level: Literal["ok", "warning", "over_target"] = (
            "over_target"
            if longest > target_seconds
            else "warning"
            if longest >= target_seconds * WARNING_SHARE
            else "ok"
        )
        waiting.append(
            ServiceWaiting(
                service_id=service_id,
                name=service_name,
                waiting=how_many,
                longest_wait_seconds=longest,
                level=level,
            )
        )
    waiting.sort(key=lambda s: (-s.longest_wait_seconds, s.service_id))
    waiting_total = len({row[0] for row in queue})

    Presence = store.DeskPresence  # noqa: N806  (model alias)
    open_login = (  # the desk's open login, in the same query as the desks
        select(func.min(Presence.started_at))
        .where(
            Presence.desk_id == store.Desk.id,
            Presence.ended_at.is_(None),
            Presence.expires_at > now,
            Presence.started_at <= now,
        )
        .correlate(store.Desk)
        .scalar_subquery()
    )
    desk_rows = session.execute(
        select(store.Desk, open_login).where(store.Desk.office_id == office.id).order_by(store.Desk.number)
    ).all()
    desks = [row[0] for row in desk_rows]
    logged_in: dict[str, datetime] = {}
    for desk_row in desk_rows:
        login: datetime | None = desk_row[1]  # None: nobody logged in there (scalar subquery)
        if login is not None:
            logged_in[desk_row[0].id] = login
    busy = {
        t.desk_id: t
        for t in session.scalars(
            select(Ticket).where(Ticket.office_id == office.id, Ticket.state.in_(["called", "serving"]))
        )
    }
    serving_since = dict(
        session.execute(
            select(store.Case.ticket_id, store.Case.serving_since)
            .join(Ticket, Ticket.id == store.Case.ticket_id)
            .where(Ticket.office_id == office.id, Ticket.state == "serving")
        ).all()
    )
    finished_today = session.execute(  # per desk: the last finish, and the served seconds for the estimate
        select(
            store.Case.desk_id,
            func.max(store.Case.finished_at),
            func.sum(store.Case.served_seconds),
            func.count(),
        )
        .where(_todays_cases(office.id, today_start), store.Case.finished_at.is_not(None))
        .group_by(store.Case.desk_id)
    ).all()
    last_finish = {desk_id: finished for desk_id, finished, _served, _count in finished_today}
    served_total = sum(float(served or 0.0) for _desk, _finished, served, _count in finished_today)
    finished_count = sum(int(count) for _desk, _finished, _served, count in finished_today)
    mean_service = served_total / finished_count if finished_count else None
    activities = []
    for desk in desks:
        ticket = busy.get(desk.id)
        login = logged_in.get(desk.id)
        if ticket is None:
            idle_since = last_finish.get(desk.id)
            if idle_since is not None and office_day(idle_since) != office_day(now):
                idle_since = None
            if login is not None:  # free since the last finish, or since the login if that is later
                idle_since = max(idle_since, login) if idle_since is not None else login
            activities.append(
                DeskActivity(
                    desk_id=desk.id,
                    name=desk.name,
                    activity="idle",
                    since=idle_since,
                    ticket_number=None,
                    clerk_id=None,
                    logged_in_since=login,
                )
            )
        elif ticket.state == "called":
            activities.append(
                DeskActivity(
                    desk_id=desk.id,
                    name=desk.name,
                    activity="calling",
                    since=ticket.last_called_at,
                    ticket_number=ticket.number,
                    clerk_id=ticket.clerk_id,
                    logged_in_since=login,
                )
            )
        else:
            activities.append(
                DeskActivity(
                    desk_id=desk.id,
                    name=desk.name,
                    activity="serving",
                    since=serving_since.get(ticket.id),
                    ticket_number=ticket.number,
                    clerk_id=ticket.clerk_id,
                    logged_in_since=login,
                )
            )

    alerts = over_target_alerts(waiting, office.service_level_minutes)
    # A ticket for two of a desk's services waits once: count tickets, not (ticket, service) pairs.
    waiting_services = [
        set(ids)
        for ids in session.scalars(
            select(Ticket.service_ids).where(Ticket.office_id == office.id, Ticket.state == "waiting")
        )
    ]
    for desk, activity in zip(desks, activities, strict=True):
        offered = set(desk.service_ids)
        queued = sum(1 for ids in waiting_services if ids & offered)
        if activity.activity == "idle" and activity.since is not None and queued:
            alerts.append(
                Alert(
                    kind="desk_idle_while_waiting",
                    subject_id=desk.id,
                    message=MSG_DESK_IDLE,
                    params={"desk": desk.name, "waiting": str(queued)},
                )
            )
    return LiveOffice(
        office_id=office.id,
        at=now,
        target_minutes=office.service_level_minutes,
        waiting_total=waiting_total,
        services=waiting,
        desks=activities,
        estimated_walk_in_wait_seconds=_estimate(mean_service, waiting_total, activities),
        alerts=alerts,
    )


def _estimate(mean_service: float | None, waiting: int, desks: list[DeskActivity]) -> float | None:
    """A new walk-in waits about: everyone ahead × the mean service time of today's finished tickets ÷
    the desks at work today (busy now, logged in, or finished someone today). None before anyone was
    served."""
    working = sum(1 for d in desks if d.activity != "idle" or d.since is not None)
    if not working or mean_service is None:
        return None
    return waiting * mean_service / working


def _todays_cases(office_id: str, start: datetime) -> ColumnElement[bool]:
    """Cases of the tickets issued since `start`: found through the tickets' (office, issued) index."""
    todays = select(store.Ticket.id).where(
        store.Ticket.office_id == office_id, store.Ticket.issued_at >= start
    )
    return store.Case.ticket_id.in_(todays)


def _today(now: datetime) -> tuple[datetime, datetime]:
    return day_bounds(office_day(now))


def over_target_alerts(services: Sequence[ServiceWaiting], target_minutes: int) -> list[Alert]:
    """One alert per service whose longest wait is over the office's target (the live view, central
    and offline alike)."""
    return [
        Alert(
            kind="service_over_target",
            subject_id=s.service_id,
            message=MSG_SERVICE_OVER_TARGET,
            params={
                "service": s.name,
                "minutes": str(int(s.longest_wait_seconds // 60)),
                "target": str(target_minutes),
            },
        )
        for s in services
        if s.level == "over_target"
    ]
