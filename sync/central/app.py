"""The central reference service: a FastAPI app over the central store (SQLite or PostgreSQL).

Endpoints live under `/api/v1` (see `sync.protocol`); `/openapi.json` documents them. Database work
runs in plain `def` endpoints (FastAPI's thread pool); only the long-poll is `async`, so a waiting
workstation holds no thread. Every refusal is a 4xx with a reason; only infrastructure failures are 5xx.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, TypeVar

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from sync.central import apply, arbitration, conflicts, credentials, issuing, leases, presence, store
from sync.central.auth import WORKSTATION, Authenticator, Caller
from sync.central.cash_ranges import cash_ranges_router
from sync.central.changes import (
    ChangeNotifier,
    PageRequest,
    RecentPages,
    read_changes,
    read_changes_in_loop,
)
from sync.central.credentials import TokenKind
from sync.central.display import StreamHub, display_router
from sync.central.errors import CentralRefusal, Forbidden, SequenceGapError
from sync.central.responses import COMMON_REFUSALS, MAX_BODY_BYTES, Refusal
from sync.central.statistics_api import statistics_router
from sync.central.waiting_room_api import waiting_room_router
from sync.clock import OFFICE_ZONE, Clock, utc_now
from sync.kassenzeichen import DEFAULT_PREFIX
from sync.protocol import (
    API_PREFIX,
    MAX_CHANGES_LIMIT,
    MAX_SAFE_INT,
    MAX_WAIT_SECONDS,
    AppointmentCreate,
    AppointmentSnapshot,
    CallNextRequest,
    CallNextResponse,
    CallSnapshot,
    ChangesPage,
    CheckInRequest,
    ClerkSession,
    ClerkSnapshot,
    ConflictEntry,
    ConflictResolutionRequest,
    DeskSnapshot,
    Enrollment,
    EnrollmentRequest,
    Health,
    IssuedTicket,
    KeyRotationRequest,
    Lease,
    LeaseRequest,
    LeaseSet,
    OfficeDate,
    OfficeDetail,
    OfficeSnapshot,
    OfflineSessionRequest,
    PushRequest,
    PushResponse,
    SequenceGap,
    ServiceSnapshot,
    SessionRequest,
    TicketCreate,
    TicketSnapshot,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sync.central.auth import Principal

log = logging.getLogger(__name__)

IdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
IdQuery = Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
DeskQuery = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
# The reference data an office detail lists.
_OfficeRow = TypeVar("_OfficeRow", store.Service, store.Desk, store.Clerk)


WORKER_THREADS = 4


def create_app(db_url: str, *, clock: Clock = utc_now, kassenzeichen_prefix: str = DEFAULT_PREFIX) -> FastAPI:
    central = store.CentralStore(db_url)
    epoch = central.create_schema()
    notifier = ChangeNotifier()
    display_streams = StreamHub(notifier)  # close() ends the waiting-room streams (shutdown)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Few worker threads: the endpoints and the signature checks are short and hold the GIL
        # between their database round trips, so AnyIO's 40 threads mostly waited for each other
        # (bench/central_load.py, 500 desks on two processes: 96 requests/s at p50 8.8 s with 40,
        # 142/s at 2–3 s with 8, the cores then busy). 4 since the hot statements run in the loop
        # (stop 22): fewer requests need a thread, and fewer threads took the GIL from the loop.
        anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
        listener = checks = None
        if not central.is_sqlite:  # other processes may write too: hear their commits
            from sync.central.loop_checks import LoopChecks
            from sync.central.pg_notify import ChangeListener

            listener = app.state.change_listener = ChangeListener(db_url, notifier).start()
            # The hot single statements in this loop, on connections of its own (no thread hop).
            checks = auth.loop_checks = LoopChecks(db_url)
        yield
        if checks is not None:
            auth.loop_checks = None
            await checks.close()
        if listener is not None:
            listener.stop()
        display_streams.close()
        central.dispose()

    app = FastAPI(
        title="Tresen central service",
        version="1",
        summary="Offices, appointments, the queue, and sync for Tresen workstations",
        lifespan=lifespan,
        responses=COMMON_REFUSALS,
        max_body_size=MAX_BODY_BYTES,  # 413 by Content-Length, or while a chunked body arrives
    )
    app.state.store = central
    app.state.notifier = notifier
    app.state.epoch = epoch
    app.state.display_streams = display_streams
    app.state.auth = auth = Authenticator(central)
    _install_error_handlers(app, postgres=not central.is_sqlite)
    app.include_router(_routes(central, notifier, epoch, clock, auth), prefix=API_PREFIX)
    app.include_router(statistics_router(central, clock), prefix=API_PREFIX)
    app.include_router(waiting_room_router(central, notifier, clock), prefix=API_PREFIX)
    app.include_router(cash_ranges_router(central, clock, kassenzeichen_prefix), prefix=API_PREFIX)
    app.include_router(display_router(central, notifier, clock, display_streams, auth))
    return app


def _routes(
    central: store.CentralStore, notifier: ChangeNotifier, epoch: str, clock: Clock, auth: Authenticator
) -> APIRouter:
    router = APIRouter()
    recent_pages = RecentPages()  # the office's page, shared by the long polls one write woke
    # Who may do what (docs/architecture.md): a workstation works in its own office; the kiosk issues
    # tickets, the booking system books; an administrator reads every office but never acts as a desk.

    @router.get("/health", response_model=Health, tags=["service"])
    def health() -> Health:
        with central.read() as session:
            session.scalar(select(store.ServerMeta.key).limit(1))  # the database answers
        return Health(status="ok", epoch=epoch)

    @router.post(
        "/enrollments",
        response_model=Enrollment,
        status_code=status.HTTP_201_CREATED,
        tags=["access"],
        responses={401: {"description": "enrollment code unknown, used or expired"}},
    )
    def enroll(request: EnrollmentRequest) -> Enrollment:
        """A new workstation's one-time code and public key; needs no other credential."""
        with central.write() as session:
            key = credentials.enroll(session, request.code, request.public_key_pem, request.label, utc_now())
            answer = Enrollment(
                workstation_id=key.workstation_id, office_id=key.office_id, desk_id=key.desk_id
            )
        log.info("workstation %s enrolled for office %s", answer.workstation_id, answer.office_id)
        return answer

    @router.post(
        "/sessions",
        response_model=ClerkSession,
        status_code=status.HTTP_201_CREATED,
        tags=["access"],
        responses={423: {"model": Refusal, "description": "clerk locked after repeated wrong PINs"}},
    )
    def open_session(request: SessionRequest, caller: Caller, desk: DeskQuery = None) -> ClerkSession:
        """A clerk logs in at a workstation with id and PIN (signed by the workstation), at the desk
        the workstation is enrolled for or the one `desk` names: the login is recorded for the desks'
        idle time until the logout or the session's end."""
        caller.allow(WORKSTATION)
        now = clock()
        with central.write() as session:
            workstation, desk_id = _login_place(session, caller, desk)
            # Credentials (expiry, lockout) run in real time, as the Authenticator checks them; the
            # login's place in the office's day (the desk's presence) on the office's clock.
            outcome = credentials.open_clerk_session(
                session,
                workstation,
                request.clerk_id,
                request.pin,
                utc_now(),
                offline_key_pem=request.offline_key_pem,
            )
            if isinstance(outcome, CentralRefusal):
                refusal = outcome  # committed with its failure count, then answered
            else:
                return _opened(session, workstation, desk_id, outcome, now)
        raise refusal

    @router.post(
        "/sessions/offline",
        response_model=ClerkSession,
        status_code=status.HTTP_201_CREATED,
        tags=["access"],
        responses={
            401: {"model": Refusal, "description": "signature refused, or no offline login to resume"},
            423: {"model": Refusal, "description": "clerk locked after repeated wrong PINs"},
        },
    )
    def resume_offline_session(
        request: OfflineSessionRequest, caller: Caller, desk: DeskQuery = None
    ) -> ClerkSession:
        """A session for a clerk who logged in at this workstation while the central service was away
        (signed by the workstation, with the proof of the key it keeps sealed under the clerk's PIN);
        no PIN is sent. Recorded at the desk as a login is."""
        caller.allow(WORKSTATION)
        now = clock()
        with central.write() as session:
            workstation, desk_id = _login_place(session, caller, desk)
            opened = credentials.resume_offline_session(
                session, workstation, request.clerk_id, request.signed_at, request.proof, utc_now()
            )
            log.info("clerk session resumed after an offline login at %s", workstation.workstation_id)
            return _opened(session, workstation, desk_id, opened, now)

    @router.delete("/sessions/current", status_code=status.HTTP_204_NO_CONTENT, tags=["access"])
    def close_session(request: Request, caller: Caller) -> Response:
        """Log the clerk out: the session header of this (signed) request ends."""
        caller.allow(WORKSTATION)
        secret = request.headers.get("tresen-clerk-session")
        if secret:
            with central.write() as session:
                presence.end_presence(session, credentials.digest_of(secret), clock())
                credentials.end_clerk_session(session, secret)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.put(
        "/workstations/current/key",
        response_model=Enrollment,
        tags=["access"],
        responses={401: {"model": Refusal, "description": "signature refused, or the new key's proof"}},
    )
    def rotate_key(request: KeyRotationRequest, caller: Caller) -> Enrollment:
        """The signing workstation's new public key (the request is signed with its current key) with
        the new key's signature over it (`proof`): from this answer on only the new key is accepted.
        Sending the key it has already changes nothing (a workstation that missed the answer asks
        again, signed with the new key)."""
        caller.allow(WORKSTATION)
        assert caller.workstation_id is not None  # a workstation principal names its workstation
        with central.write() as session:
            key = credentials.rotate_workstation_key(
                session, caller.workstation_id, request.public_key_pem, request.proof, utc_now()
            )
            return Enrollment(workstation_id=key.workstation_id, office_id=key.office_id, desk_id=key.desk_id)

    @router.get("/offices", response_model=list[OfficeSnapshot], tags=["reference data"])
    def list_offices(caller: Caller) -> list[OfficeSnapshot]:
        """Every office for an administrator; the caller's own office for anyone else."""
        with central.read() as session:
            query = select(store.Office).order_by(store.Office.id)
            if caller.office_id is not None:
                query = query.where(store.Office.id == caller.office_id)
            return [OfficeSnapshot.model_validate(office) for office in session.scalars(query)]

    @router.get("/offices/{office_id}", response_model=OfficeDetail, tags=["reference data"])
    def get_office(office_id: IdPath, caller: Caller) -> OfficeDetail:
        caller.office(office_id)
        with central.read() as session:
            office = issuing.office_or_404(session, office_id)

            def rows(model: type[_OfficeRow]) -> list[_OfficeRow]:
                query = select(model).where(model.office_id == office_id).order_by(model.id)
                return list(session.scalars(query))

            return OfficeDetail(
                office=OfficeSnapshot.model_validate(office),
                services=[ServiceSnapshot.model_validate(r) for r in rows(store.Service)],
                desks=[DeskSnapshot.model_validate(r) for r in rows(store.Desk)],
                clerks=[ClerkSnapshot.model_validate(r) for r in rows(store.Clerk)],
            )

    @router.post(
        "/appointments",
        response_model=AppointmentSnapshot,
        status_code=status.HTTP_201_CREATED,
        tags=["booking"],
    )
    def create_appointment(request: AppointmentCreate, caller: Caller) -> AppointmentSnapshot:
        caller.allow(TokenKind.BOOKING, WORKSTATION, TokenKind.ADMIN).office(request.office_id)
        with central.write() as session:
            appointment = issuing.create_appointment(session, request)
            answer = AppointmentSnapshot.model_validate(appointment)
        notifier.notify(request.office_id)
        return answer

    @router.get("/appointments", response_model=list[AppointmentSnapshot], tags=["booking"])
    def list_appointments(
        office_id: IdQuery, day: Annotated[OfficeDate, Query(alias="date")], caller: Caller
    ) -> list[AppointmentSnapshot]:
        caller.allow(TokenKind.BOOKING, WORKSTATION, TokenKind.ADMIN).office(office_id)
        start = datetime.combine(day, datetime.min.time(), OFFICE_ZONE).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), OFFICE_ZONE).astimezone(UTC)
        with central.read() as session:
            issuing.office_or_404(session, office_id)
            appointments = session.scalars(
                select(store.Appointment)
                .where(
                    store.Appointment.office_id == office_id,
                    store.Appointment.slot_start >= start,
                    store.Appointment.slot_start < end,
                )
                .order_by(store.Appointment.slot_start, store.Appointment.id)
            )
            return [AppointmentSnapshot.model_validate(a) for a in appointments]

    @router.post(
        "/appointments/{appointment_id}/cancel", response_model=AppointmentSnapshot, tags=["booking"]
    )
    def cancel_appointment(appointment_id: IdPath, caller: Caller) -> AppointmentSnapshot:
        caller.allow(TokenKind.BOOKING, WORKSTATION, TokenKind.ADMIN)
        with central.write() as session:
            existing = session.get(store.Appointment, appointment_id)
            if existing is not None:
                caller.office(existing.office_id)
            appointment = issuing.cancel_appointment(session, appointment_id)
            answer = AppointmentSnapshot.model_validate(appointment)
        notifier.notify(answer.office_id)
        return answer

    @router.post("/check-ins", response_model=IssuedTicket, tags=["kiosk"])
    def check_in(request: CheckInRequest, caller: Caller) -> IssuedTicket:
        caller.allow(TokenKind.KIOSK, WORKSTATION).office(request.office_id)

        def check_in_now(session: Session) -> IssuedTicket:
            ticket = issuing.check_in(session, request.office_id, request.booking_reference, clock())
            return IssuedTicket.model_validate(ticket)

        answer = central.run_write(check_in_now)
        notifier.notify(answer.office_id)
        return answer

    @router.post("/tickets", response_model=IssuedTicket, status_code=status.HTTP_201_CREATED, tags=["kiosk"])
    def issue_ticket(request: TicketCreate, caller: Caller) -> IssuedTicket:
        caller.allow(TokenKind.KIOSK, WORKSTATION).office(request.office_id)

        def issue(session: Session) -> IssuedTicket:
            ticket = issuing.issue_kiosk_ticket(
                session, request.office_id, list(request.service_ids), request.priority, clock()
            )
            return IssuedTicket.model_validate(ticket)

        answer = central.run_write(issue)
        notifier.notify(request.office_id)
        return answer

    @router.post(
        "/sync/push",
        response_model=PushResponse,
        tags=["sync"],
        responses={
            409: {"model": SequenceGap, "description": "operations out of order"},
            429: {"description": "too many refused operations nobody reviewed; the batch waits"},
        },
    )
    def push(request: PushRequest, caller: Caller) -> PushResponse | JSONResponse:
        caller.allow(WORKSTATION).workstation(request.workstation_id).office(request.office_id)
        for operation in request.operations:  # a desk-bound workstation acts at its desk only
            desk = operation.args.get("desk_id")
            if isinstance(desk, str):
                caller.desk(desk)
        try:
            answer = central.run_write(lambda session: apply.push(session, request, clock()))
        except SequenceGapError as gap:
            body = SequenceGap(detail=str(gap), expected_seq=gap.expected_seq)
            return JSONResponse(status_code=status.HTTP_409_CONFLICT, content=body.model_dump())
        notifier.notify(request.office_id)
        return answer

    @router.get("/sync/changes", response_model=ChangesPage, tags=["sync"])
    async def changes(
        office_id: IdQuery,
        caller: Caller,
        workstation_id: Annotated[
            str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
        ] = None,
        cursor: Annotated[int, Query(ge=0, le=MAX_SAFE_INT)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_CHANGES_LIMIT)] = 1000,
        wait: Annotated[float, Query(ge=0, le=MAX_WAIT_SECONDS)] = 0.0,
    ) -> ChangesPage:
        caller.allow(WORKSTATION).office(office_id)
        if workstation_id is not None:
            caller.workstation(workstation_id)  # its own operations' outcomes only

        asked = PageRequest(epoch, office_id, workstation_id, cursor, limit)

        async def read_page() -> ChangesPage:
            checks = auth.loop_checks
            if checks is not None:  # PostgreSQL: in the loop, a thread only for a page to read
                return await read_changes_in_loop(checks, central, asked, recent_pages)
            return await run_in_threadpool(read_changes, central, asked, recent_pages)

        deadline = time.monotonic() + wait
        known = notifier.generation_at(office_id, cursor) if wait > 0 else None
        if known is not None:
            # A desk back for more right after its answer: nothing was committed since a read found
            # this cursor to be the head, so wait first (a thread hop and a statement less per poll).
            await notifier.wait(office_id, known, min(wait, 5.0))
        while True:
            generation = notifier.generation(office_id)
            page = await read_page()
            if not page.has_more:
                notifier.note_head(office_id, generation, page.cursor)
            remaining = deadline - time.monotonic()
            if page.cursor != cursor or page.has_more or remaining <= 0:
                return page
            # Re-read every few seconds even without a wake-up: another process may write too.
            await notifier.wait(office_id, generation, min(remaining, 5.0))

    @router.post("/desks/{desk_id}/call-next", response_model=CallNextResponse, tags=["queue"])
    def call_next(desk_id: IdPath, request: CallNextRequest, caller: Caller) -> CallNextResponse:
        caller.allow(WORKSTATION).workstation(request.workstation_id).desk(desk_id)

        def call(session: Session) -> CallNextResponse:
            desk = session.get(store.Desk, desk_id)
            if desk is not None and desk.office_id != caller.office_id:
                raise Forbidden("not allowed for another office")
            outcome = arbitration.call_next(session, desk_id, request, clock())
            return CallNextResponse(
                ticket=TicketSnapshot.model_validate(outcome.ticket) if outcome.ticket else None,
                call_id=request.call_id,
                call=CallSnapshot.model_validate(outcome.call) if outcome.call else None,
                explanation=outcome.explanation,
            )

        answer = central.run_write(call)
        if answer.ticket is not None:
            notifier.notify(answer.ticket.office_id)
        return answer

    @router.get("/offices/{office_id}/conflicts", response_model=list[ConflictEntry], tags=["conflicts"])
    def office_conflicts(
        office_id: IdPath, caller: Caller, include_resolved: bool = False
    ) -> list[ConflictEntry]:
        """Refused and flagged operations of the office, newest first (supervisors)."""
        caller.supervisor().office(office_id)
        with central.read() as session:
            issuing.office_or_404(session, office_id)
            return conflicts.list_conflicts(session, office_id, include_resolved=include_resolved)

    @router.post(
        "/offices/{office_id}/conflicts/{workstation_id}/{seq}/resolution",
        response_model=ConflictEntry,
        tags=["conflicts"],
    )
    def resolve_conflict(
        office_id: IdPath,
        workstation_id: IdPath,
        seq: Annotated[int, Path(ge=1, le=MAX_SAFE_INT)],
        request: ConflictResolutionRequest,
        caller: Caller,
    ) -> ConflictEntry:
        """Mark a conflict dealt with, with a note (supervisors); marking it again changes nothing."""
        caller.supervisor().office(office_id)
        by = caller.clerk_id or "administrator"
        with central.write() as session:
            return conflicts.resolve(session, office_id, workstation_id, seq, by, request.note, utc_now())

    @router.post("/desks/{desk_id}/leases", response_model=LeaseSet, tags=["queue"])
    def desk_leases(desk_id: IdPath, request: LeaseRequest, caller: Caller) -> LeaseSet:
        """The desk's leases, renewed and topped up to `want` (`sync.central.leases`)."""
        caller.allow(WORKSTATION).workstation(request.workstation_id).desk(desk_id)
        now = clock()

        def grant(session: Session) -> LeaseSet:
            desk = caller.own_desk(session, desk_id)
            granted = leases.grant(session, desk, request.workstation_id, request.want, now)
            return LeaseSet(
                leases=[Lease.model_validate(lease) for lease in granted],
                valid_seconds=leases.LEASE_TIME.total_seconds(),
            )

        return central.run_write(grant)

    return router


def _login_place(
    session: Session, caller: Principal, desk: str | None
) -> tuple[credentials.WorkstationKey, str | None]:
    """The logging-in workstation's record and the desk the login is at (its own, or `desk`)."""
    workstation = session.get(credentials.WorkstationKey, caller.workstation_id)
    assert workstation is not None  # authenticated by this key
    return workstation, presence.desk_for_login(session, workstation.office_id, workstation.desk_id, desk)


def _opened(
    session: Session,
    workstation: credentials.WorkstationKey,
    desk_id: str | None,
    opened: tuple[str, credentials.ClerkSession],
    now: datetime,
) -> ClerkSession:
    """The answer to a login, with the clerk's presence at the desk recorded (for the desks' idle time)."""
    secret, entry = opened
    if desk_id is not None:
        presence.start_presence(
            session,
            session_digest=entry.digest,
            office_id=workstation.office_id,
            desk_id=desk_id,
            clerk_id=entry.clerk_id,
            workstation_id=workstation.workstation_id,
            now=now,
            expires_at=now + credentials.CLERK_SESSION_LIFETIME,
        )
    return ClerkSession(session=secret, clerk_id=entry.clerk_id, role=entry.role, expires_at=entry.expires_at)


def _install_error_handlers(app: FastAPI, *, postgres: bool) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        # Where and why, never the value: a hostile or personal input must not come back or reach a
        # log (FastAPI's default answer repeats each offending input).
        errors = [{"loc": list(e["loc"]), "type": e["type"], "msg": e["msg"]} for e in error.errors()]
        return JSONResponse(status_code=422, content={"detail": errors})

    @app.exception_handler(CentralRefusal)
    async def refused(_request: Request, error: CentralRefusal) -> JSONResponse:
        return JSONResponse(status_code=error.status_code, content={"detail": error.reason})

    @app.exception_handler(IntegrityError)
    async def conflict(_request: Request, error: IntegrityError) -> JSONResponse:
        log.info("integrity conflict: %s", type(error.orig).__name__)
        return JSONResponse(status_code=409, content={"detail": "conflicting concurrent change; retry"})

    @app.exception_handler(DataError)
    async def bad_data(_request: Request, error: DataError) -> JSONResponse:
        log.info("database refused a value: %s", type(error.orig).__name__)
        return JSONResponse(
            status_code=422, content={"detail": "a value cannot be stored (e.g. NUL character)"}
        )

    @app.exception_handler(OperationalError)
    async def unavailable(_request: Request, error: OperationalError) -> JSONResponse:
        # The class and SQLSTATE say which: a lost connection, or a deadlock that outlasted the
        # store's retries (`CentralStore.run_write`); never the statement (it may hold values).
        sqlstate = getattr(error.orig, "sqlstate", None)
        log.error("database unavailable: %s (SQLSTATE %s)", type(error.orig).__name__, sqlstate)
        return JSONResponse(status_code=503, content={"detail": "database unavailable; retry later"})

    if postgres:
        import psycopg

        @app.exception_handler(psycopg.OperationalError)
        async def unavailable_in_loop(_request: Request, error: psycopg.OperationalError) -> JSONResponse:
            # The statements run in the event loop (`sync.central.loop_checks`) raise psycopg's own
            # errors: a lost connection, as above. Any other psycopg error is a defect of ours and
            # stays a 500 with its traceback in the log, as on the thread path.
            log.error("database unavailable: %s (SQLSTATE %s)", type(error).__name__, error.sqlstate)
            return JSONResponse(status_code=503, content={"detail": "database unavailable; retry later"})
