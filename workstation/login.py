"""Logging a clerk in at a desk: who may choose which desk, and the workplace that opens.

The App asks `DeskLogin` for the choices and opens a `Workplace` (the desk's `Counter` and its sync
engine) in a worker; nothing here knows Textual.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from sync.clock import utc_now
from workstation.commands import DeskContext
from workstation.counter import Counter
from workstation.errors import CommandRefused
from workstation.i18n import _
from workstation.models import Clerk, ClerkRole, Desk, Office, SyncState

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from workstation.clerk_login import ClerkLogins
    from workstation.db import LocalStore
    from workstation.number_witness import NumberWitness
    from workstation.sync_engine import SyncEngine, SyncReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Workplace:
    """A logged-in desk: the domain facade, its sync engine (None: local only), and its label."""

    counter: Counter
    sync_engine: SyncEngine | None
    place_label: str
    supervisor: bool = False  # the clerk has the supervisor role (Teamleitung): the office overview


@dataclass(frozen=True)
class LoginChoices:
    clerks: Sequence[tuple[str, str]]  # (id, name)
    desks: Sequence[tuple[str, str]]
    needs_pin: bool = False
    pin_hint: str | None = None  # the demo names its clerks' PINs


class DeskLogin:
    """Lists clerks and desks of the office from the local store and opens a desk.

    `make_engine` builds the sync engine for a desk context (None: the workstation works local
    only); the composition root decides how it reaches the central service."""

    def __init__(
        self,
        store: LocalStore,
        workstation_id: str,
        office_id: str | None,
        make_engine: Callable[[DeskContext], SyncEngine] | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        logins: ClerkLogins | None = None,
        pin_hint: str | None = None,
        numbers: NumberWitness | None = None,
    ) -> None:
        self.store = store
        self.numbers = numbers
        self.logins = logins  # None: a workstation without a central service (nothing to log in to)
        self.pin_hint = pin_hint
        self.clock = clock
        self.workstation_id = workstation_id
        self.office_id = office_id
        self.make_engine = make_engine

    def remembered_office(self) -> str | None:
        """The office this workstation synced last, else the only office in the store."""
        with self.store.session() as session:
            state = session.get(SyncState, self.workstation_id)
            if state is not None:
                return state.office_id
            offices = session.scalars(select(Office.id).limit(2)).all()
        return offices[0] if len(offices) == 1 else None

    def has_reference_data(self) -> bool:
        with self.store.session() as session:
            first_desk = session.scalar(select(Desk.id).where(Desk.office_id == self.office_id).limit(1))
        return first_desk is not None

    def initial_sync(self) -> SyncReport | None:
        """Pull the office's data before the first screen, so the counter starts filled.

        Offline this only leaves a line in the log: the app starts with what the store has and the
        status bar tells the clerk. None when the workstation has no central service."""
        if self.make_engine is None:
            return None
        engine = self.make_engine(self.context("", ""))
        try:
            report = engine.sync_once()
        finally:
            engine.close()
        if not report.online:
            log.warning("initial sync failed; starting with the local store")
        return report

    def choices(self) -> LoginChoices:
        with self.store.session() as session:
            clerks = session.execute(
                select(Clerk.id, Clerk.name).where(Clerk.office_id == self.office_id).order_by(Clerk.name)
            ).all()
            desks = session.execute(
                select(Desk.id, Desk.name).where(Desk.office_id == self.office_id).order_by(Desk.number)
            ).all()
        return LoginChoices(
            [(c.id, c.name) for c in clerks],
            [(d.id, d.name) for d in desks],
            needs_pin=self.logins is not None,
            pin_hint=self.pin_hint,
        )

    def open(self, clerk_id: str, desk_id: str, pin: str | None = None) -> Workplace:
        """The workplace of `clerk_id` at `desk_id`, once the PIN checks out (`ClerkLogins`); unknown
        ids, a wrong PIN or a lockout end as a German `CommandRefused`."""
        with self.store.session() as session:
            desk = session.get(Desk, desk_id)
            clerk = session.get(Clerk, clerk_id)
            if desk is None or desk.office_id != self.office_id:
                raise CommandRefused(
                    _("Den Schalter {desk} gibt es in dieser Dienststelle nicht.").format(desk=desk_id)
                )
            if clerk is None:
                raise CommandRefused(_("Die Person {clerk} ist nicht bekannt.").format(clerk=clerk_id))
            label = f"{desk.name} · {clerk.name}"
            supervisor = clerk.role == ClerkRole.SUPERVISOR
        if self.logins is not None:
            self.logins.log_in(clerk_id, pin or "", desk_id)
        ctx = self.context(desk_id, clerk_id)
        engine = self.make_engine(ctx) if self.make_engine is not None else None
        return Workplace(
            Counter(self.store, ctx, remote=engine, clock=self.clock, numbers=self.numbers),
            engine,
            label,
            supervisor,
        )

    def log_out(self) -> None:
        if self.logins is not None:
            self.logins.log_out()

    def context(self, desk_id: str, clerk_id: str) -> DeskContext:
        return DeskContext(self.workstation_id, self.office_id or "", desk_id, clerk_id)
