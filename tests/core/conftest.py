"""Fixtures for the core tests: a real, migrated local store in a temp dir; a small hand-made office
whose every ticket the tests name; and a store filled with the generated day (`seed_local_store`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from sync.central.seed import BUERGERAMT_ID, generate_day
from tests.seeding import seed_local_store
from workstation.commands import DeskContext
from workstation.counter import Counter
from workstation.db import LocalStore
from workstation.models import Appointment, AppointmentStatus, Clerk, Desk, Office, Service, Ticket

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.orm import Session

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
OFFICE = "office-1"
PA, RP, KFZ = "svc-pa", "svc-rp", "svc-kfz"  # Personalausweis, Reisepass, a service desk 1 lacks
DESK_1, DESK_2 = "desk-1", "desk-2"
CLERK_1, CLERK_2 = "clerk-1", "clerk-2"


class Clock:
    """The time the counter sees; tests move it forward."""

    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    local = LocalStore(tmp_path / "tresen.sqlite3")
    local.migrate()
    yield local
    local.dispose()


@dataclass
class SmallOffice:
    """One office, two desks (desk 1 without the vehicle service), two clerks."""

    store: LocalStore
    clock: Clock

    def ctx(
        self, desk_id: str = DESK_1, clerk_id: str = CLERK_1, workstation_id: str = "ws-1"
    ) -> DeskContext:
        return DeskContext(workstation_id, OFFICE, desk_id, clerk_id)

    def counter(
        self, desk_id: str = DESK_1, clerk_id: str = CLERK_1, workstation_id: str = "ws-1"
    ) -> Counter:
        return Counter(self.store, self.ctx(desk_id, clerk_id, workstation_id), clock=self.clock)

    def add_ticket(
        self,
        ticket_id: str,
        number: str,
        waited_minutes: float,
        services: tuple[str, ...] = (PA,),
        *,
        priority: int = 0,
        slot_in_minutes: float | None = None,
    ) -> None:
        """A waiting ticket issued `waited_minutes` ago; with a slot it is a checked-in appointment."""
        with self.store.session() as session:
            issued = self.clock.now - timedelta(minutes=waited_minutes)
            appointment_id = None
            if slot_in_minutes is not None:
                appointment_id = f"apt-{ticket_id}"
                appointment = Appointment(
                    id=appointment_id,
                    office_id=OFFICE,
                    booking_reference=f"REF-{ticket_id}",
                    slot_start=self.clock.now + timedelta(minutes=slot_in_minutes),
                    status=AppointmentStatus.CHECKED_IN,
                    given_name="Jürgen",
                    family_name=f"Müller-{ticket_id}",
                    birth_date=date(1980, 5, 17),
                )
                appointment.services = [session.get_one(Service, s) for s in services]
                session.add(appointment)
            ticket = Ticket(
                id=ticket_id,
                office_id=OFFICE,
                number=number,
                appointment_id=appointment_id,
                issued_at=issued,
                priority=priority,
                origin="appointment" if appointment_id else "kiosk",
                version=3,
            )
            ticket.services = [session.get_one(Service, s) for s in services]
            session.add(ticket)
            session.commit()

    def ticket(self, ticket_id: str) -> Ticket:
        with self.store.session() as session:
            return session.get_one(Ticket, ticket_id)


def build_small_office(session: Session) -> None:
    session.add(
        Office(
            id=OFFICE,
            name="Bürgeramt Test",
            max_calls=3,
            recall_block_minutes=5,
            early_window_minutes=5,
            service_level_minutes=15,
        )
    )
    session.flush()
    services = {
        PA: Service(
            id=PA,
            office_id=OFFICE,
            code="PA",
            name="Personalausweis",
            fee_cents=4600,
            duration_minutes=15,
            required_documents=["Altes Dokument", "Lichtbild"],
            needs_card_read=True,
            needs_capture=True,
            ticket_prefix="A",
        ),
        RP: Service(
            id=RP,
            office_id=OFFICE,
            code="RP",
            name="Reisepass",
            fee_cents=7000,
            duration_minutes=15,
            required_documents=["Lichtbild"],
            ticket_prefix="A",
        ),
        KFZ: Service(
            id=KFZ,
            office_id=OFFICE,
            code="KFZ",
            name="Zulassung",
            fee_cents=3000,
            duration_minutes=20,
            required_documents=[],
            ticket_prefix="K",
        ),
    }
    session.add_all(services.values())
    desk_1 = Desk(id=DESK_1, office_id=OFFICE, number=1, name="Schalter 1")
    desk_1.services = [services[PA], services[RP]]
    desk_2 = Desk(id=DESK_2, office_id=OFFICE, number=2, name="Schalter 2")
    desk_2.services = list(services.values())
    session.add_all([desk_1, desk_2])
    session.add_all(
        [
            Clerk(id=CLERK_1, office_id=OFFICE, name="Erika Mustermann"),
            Clerk(id=CLERK_2, office_id=OFFICE, name="Max Mustermann"),
        ]
    )


@pytest.fixture
def office(store: LocalStore) -> SmallOffice:
    with store.session() as session:
        build_small_office(session)
        session.commit()
    return SmallOffice(store, Clock())


@pytest.fixture
def seeded_store(store: LocalStore) -> LocalStore:
    """The generated Bürgeramt day (150 appointments, a few walk-ins waiting) at 09:30 local time."""
    day = generate_day(NOW.date(), seed=3, now=NOW)
    with store.session() as session:
        seed_local_store(session, day, BUERGERAMT_ID, now=NOW)
        session.commit()
    return store


CounterFactory = Callable[..., Counter]
