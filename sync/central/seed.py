"""A realistic office day as pure data, and loading it into the central store.

`generate_day` is deterministic for a given day and seed, so tests, the demo and the benchmarks see
the same names and numbers. Fees, durations and documents follow shared/domain/services.md (fees as of
February 2026); vehicle fees are plausible GebOSt-like values. All people are invented.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.central import store
from sync.clock import OFFICE_ZONE
from sync.protocol import (
    AppointmentSnapshot,
    ClerkSnapshot,
    DeskSnapshot,
    OfficeSnapshot,
    ServiceSnapshot,
    TicketSnapshot,
)

BUERGERAMT_ID = "ba-mitte"
ZULASSUNG_ID = "zl-sued"


@dataclass(frozen=True)
class SeedDay:
    day: date
    offices: list[OfficeSnapshot]
    services: list[ServiceSnapshot]
    desks: list[DeskSnapshot]
    clerks: list[ClerkSnapshot]
    appointments: list[AppointmentSnapshot]
    tickets: list[TicketSnapshot] = field(default_factory=list)


@dataclass(frozen=True)
class _ServiceSpec:
    id: str
    code: str
    name: str
    fee_cents: int
    duration_minutes: int
    documents: tuple[str, ...]
    prefix: str
    card_read: bool = False
    capture: bool = False


_ID_DOCS = "Bisheriger Personalausweis oder Reisepass"
_PHOTO = "Digitales Lichtbild (Terminal im Amt oder Abrufcode des Fotostudios)"
_BUERGERAMT_SERVICES = (
    _ServiceSpec("pa", "PA", "Personalausweis beantragen", 4600, 15,
                 (_ID_DOCS, _PHOTO, "Geburts- oder Heiratsurkunde bei Namensänderung"), "A", True, True),
    _ServiceSpec("rp", "RP", "Reisepass beantragen", 7000, 15,
                 (_ID_DOCS, _PHOTO, "Geburts- oder Heiratsurkunde bei Namensänderung"), "A", True, True),
    _ServiceSpec("vpa", "VPA", "Vorläufiger Personalausweis", 1000, 10, (_ID_DOCS, _PHOTO), "A", True, True),
    _ServiceSpec("an", "AN", "Anmeldung / Ummeldung", 0, 12,
                 ("Personalausweis oder Reisepass", "Wohnungsgeberbestätigung"), "B", True),
    _ServiceSpec("mb", "MB", "Meldebescheinigung", 900, 5, ("Personalausweis oder Reisepass",), "B"),
    _ServiceSpec("ab", "AB", "Abholung Ausweis/Pass", 0, 5, ("Abholschein", "Bisheriges Dokument"), "C",
                 True),
    _ServiceSpec("lb", "LB", "Digitales Lichtbild im Amt", 600, 5, ("Personalausweis oder Reisepass",), "A",
                 capture=True),
)
_VEHICLE_DOCS = ("Personalausweis oder Reisepass", "Zulassungsbescheinigung Teil I")
_ZULASSUNG_SERVICES = (
    _ServiceSpec("nz", "NZ", "Neuzulassung", 3070, 20,
                 ("Personalausweis oder Reisepass", "Zulassungsbescheinigung Teil II", "eVB-Nummer",
                  "SEPA-Mandat Kfz-Steuer"), "Z"),
    _ServiceSpec("um", "UM", "Umschreibung (Halterwechsel)", 2860, 20,
                 (*_VEHICLE_DOCS, "Zulassungsbescheinigung Teil II", "eVB-Nummer", "SEPA-Mandat Kfz-Steuer"),
                 "Z"),
    _ServiceSpec("ab", "AB", "Außerbetriebsetzung", 1290, 10, (*_VEHICLE_DOCS, "Kennzeichenschilder"), "Z"),
    _ServiceSpec("wz", "WZ", "Wiederzulassung", 3070, 15, (*_VEHICLE_DOCS, "eVB-Nummer"), "Z"),
    _ServiceSpec("ad", "AD", "Adressänderung", 1170, 10, _VEHICLE_DOCS, "K"),
    _ServiceSpec("kr", "KR", "Kennzeichenreservierung", 260, 5, ("Personalausweis oder Reisepass",), "K"),
    _ServiceSpec("ez", "EZ", "Ersatz Zulassungsbescheinigung", 1430, 15,
                 (*_VEHICLE_DOCS, "Verlusterklärung"), "K"),
)
# Typical visits: mostly one service, sometimes the combinations offices see every day.
_BUERGERAMT_VISITS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("pa",), 30), (("rp",), 12), (("pa", "rp"), 6), (("pa", "lb"), 6), (("an",), 25),
    (("an", "mb"), 6), (("mb",), 6), (("ab",), 12), (("vpa",), 3),
)
_ZULASSUNG_VISITS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("nz",), 20), (("um",), 20), (("ab",), 12), (("ab", "nz"), 12), (("ab", "nz", "kr"), 6),
    (("wz",), 6), (("ad",), 10), (("ez",), 5), (("kr",), 4),
)

_GIVEN_NAMES = (
    "Jürgen", "Jörg", "Björn", "Sören", "Günter", "Bärbel", "Jürgen", "Lena", "Mia", "Lukas", "Jonas",
    "Hannah", "Käthe", "Anna", "Felix", "Maximilian", "Sophie", "Zoë", "Leon", "Emilia", "Özlem",
    "Mehmet", "Ayşe", "Katarzyna", "Dmitri", "Olena", "Helga", "Uwe", "Dörte", "Ute", "Karl-Heinz",
    "Marie-Luise", "Tobias", "Franziska", "Niklas", "Gülsüm", "Renée", "André", "Małgorzata", "Jens",
)
_FAMILY_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
    "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner",
    "Krause", "Köhler", "Jäger", "Weiß", "Böhm", "Größ", "Özdemir", "Yılmaz", "Kowalski", "Nowak",
    "Lüdenscheidt", "von der Höh", "Müller-Lüdenscheidt", "Grünewald", "Nguyen",
)
_CLERK_NAMES = (
    "Petra Kühn", "Stefan Brückner", "Sabine Mößner", "Thomas Ährens", "Claudia Rößler", "Michael Fröhlich",
    "Andrea Schütz", "Frank Lübke", "Nicole Dreßler", "Markus Göbel", "Heike Wüst", "Oliver Bär",
    "Katrin Hölzl", "Rainer Kröger",
)


def generate_day(
    day: date,
    seed: int = 0,
    *,
    appointments: int = 150,
    waiting: int = 8,
    now: datetime | None = None,
) -> SeedDay:
    """One day of two offices. `waiting` walk-in (and, beyond a few, checked-in) tickets are already in
    the queue, issued in the half hour before `now` (default: opening time)."""
    rng = random.Random(seed * 1_000_003 + day.toordinal())
    offices = [
        OfficeSnapshot(id=BUERGERAMT_ID, name="Bürgeramt Mitte", kind="buergeramt", max_calls=3,
                       recall_block_minutes=5, early_window_minutes=5, service_level_minutes=15, version=0),
        OfficeSnapshot(id=ZULASSUNG_ID, name="Zulassungsstelle Süd", kind="zulassungsstelle", max_calls=3,
                       recall_block_minutes=5, early_window_minutes=5, service_level_minutes=20, version=0),
    ]
    services = _services(BUERGERAMT_ID, _BUERGERAMT_SERVICES) + _services(ZULASSUNG_ID, _ZULASSUNG_SERVICES)
    desks = _buergeramt_desks() + _zulassung_desks()
    clerks = _clerks()

    opening = datetime.combine(day, time(8, 0), OFFICE_ZONE).astimezone(UTC)
    # Four in five appointments at the Bürgeramt, the rest at the vehicle desk.
    ba_count = round(appointments * 0.8)
    appointment_rows = _appointments(rng, day, BUERGERAMT_ID, _BUERGERAMT_VISITS, ba_count, opening, 0)
    appointment_rows += _appointments(
        rng, day, ZULASSUNG_ID, _ZULASSUNG_VISITS, appointments - ba_count, opening, ba_count
    )
    tickets, appointment_rows = _waiting_tickets(rng, day, waiting, now or opening, appointment_rows)
    return SeedDay(day, offices, services, desks, clerks, appointment_rows, tickets)


def _services(office_id: str, specs: tuple[_ServiceSpec, ...]) -> list[ServiceSnapshot]:
    return [
        ServiceSnapshot(
            id=f"{office_id}-{spec.id}", office_id=office_id, code=spec.code, name=spec.name,
            duration_minutes=spec.duration_minutes, fee_cents=spec.fee_cents,
            required_documents=list(spec.documents), needs_card_read=spec.card_read,
            needs_capture=spec.capture, ticket_prefix=spec.prefix, version=0,
        )
        for spec in specs
    ]


def _buergeramt_desks() -> list[DeskSnapshot]:
    every = [f"{BUERGERAMT_ID}-{spec.id}" for spec in _BUERGERAMT_SERVICES]
    pickup = [f"{BUERGERAMT_ID}-{code}" for code in ("ab", "mb", "lb")]
    return [
        DeskSnapshot(id=f"{BUERGERAMT_ID}-d{n}", office_id=BUERGERAMT_ID, number=n,
                     name=f"Schalter {n}", service_ids=pickup if n == 8 else every, version=0)
        for n in range(1, 9)
    ]


def _zulassung_desks() -> list[DeskSnapshot]:
    every = [f"{ZULASSUNG_ID}-{spec.id}" for spec in _ZULASSUNG_SERVICES]
    return [
        DeskSnapshot(id=f"{ZULASSUNG_ID}-d{n}", office_id=ZULASSUNG_ID, number=n,
                     name=f"Platz {n}", service_ids=every, version=0)
        for n in range(1, 5)
    ]


def _clerks() -> list[ClerkSnapshot]:
    clerks = []
    for index, name in enumerate(_CLERK_NAMES):
        office_id = BUERGERAMT_ID if index < 10 else ZULASSUNG_ID
        role = "supervisor" if index in (0, 10) else "clerk"
        clerks.append(ClerkSnapshot(id=f"{office_id}-c{index + 1}", office_id=office_id, name=name,
                                    role=role, version=0))
    return clerks


def _appointments(
    rng: random.Random,
    day: date,
    office_id: str,
    visits: tuple[tuple[tuple[str, ...], int], ...],
    count: int,
    opening: datetime,
    first_index: int,
) -> list[AppointmentSnapshot]:
    combos = [combo for combo, _ in visits]
    weights = [weight for _, weight in visits]
    slot_count = 8 * 6  # 10-minute slots from 08:00 to 16:00; several desks share a slot
    rows = []
    for offset in range(count):
        index = first_index + offset
        combo = rng.choices(combos, weights)[0]
        slot = opening + timedelta(minutes=10 * (offset * slot_count // count))
        given, family = rng.choice(_GIVEN_NAMES), rng.choice(_FAMILY_NAMES)
        rows.append(AppointmentSnapshot(
            id=f"apt-{day:%Y%m%d}-{index + 1:05d}",
            office_id=office_id,
            booking_reference=f"{day:%y%m%d}-{_reference_code(rng)}",
            slot_start=slot,
            status="booked",
            given_name=given,
            family_name=family,
            birth_date=date(rng.randint(1940, 2008), rng.randint(1, 12), rng.randint(1, 28)),
            email=f"buerger{index + 1}@example.org",
            phone=f"+49 30 {rng.randint(1000000, 9999999)}",
            service_ids=[f"{office_id}-{code}" for code in combo],
            version=0,
        ))
    return rows


def _reference_code(rng: random.Random) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the counter
    return "".join(rng.choice(alphabet) for _ in range(6))


def _waiting_tickets(
    rng: random.Random,
    day: date,
    count: int,
    around: datetime,
    appointments: list[AppointmentSnapshot],
) -> tuple[list[TicketSnapshot], list[AppointmentSnapshot]]:
    """Walk-ins in the queue, and beyond the first few, checked-in appointments too."""
    numbers: dict[tuple[str, str], int] = defaultdict(lambda: 100)
    prefixes = {f"{BUERGERAMT_ID}-{s.id}": s.prefix for s in _BUERGERAMT_SERVICES}
    prefixes |= {f"{ZULASSUNG_ID}-{s.id}": s.prefix for s in _ZULASSUNG_SERVICES}
    walk_in_visits = {BUERGERAMT_ID: _BUERGERAMT_VISITS, ZULASSUNG_ID: _ZULASSUNG_VISITS}
    checked_in = {index for index in range(len(appointments)) if count > 8 and index % 2 == 0}
    checked_in = set(sorted(checked_in)[: count // 2])
    updated = list(appointments)
    tickets = []
    for index in sorted(checked_in):
        apt = appointments[index]
        updated[index] = apt.model_copy(update={"status": "checked_in"})
        issued = min(around, apt.slot_start) - timedelta(minutes=rng.randint(1, 15))
        tickets.append(_ticket(day, len(tickets), apt.office_id, apt.service_ids, prefixes, numbers, issued,
                               "appointment", apt.id, 0))
    while len(tickets) < count:
        office_id = BUERGERAMT_ID if rng.random() < 0.75 else ZULASSUNG_ID
        visits = walk_in_visits[office_id]
        combo = rng.choices([c for c, _ in visits], [w for _, w in visits])[0]
        service_ids = [f"{office_id}-{code}" for code in combo]
        issued = around - timedelta(minutes=rng.randint(1, 30), seconds=rng.randint(0, 59))
        priority = 1 if rng.random() < 0.03 else 0
        tickets.append(_ticket(day, len(tickets), office_id, service_ids, prefixes, numbers, issued,
                               "kiosk", None, priority))
    return tickets, updated


def _ticket(
    day: date,
    index: int,
    office_id: str,
    service_ids: list[str],
    prefixes: dict[str, str],
    numbers: dict[tuple[str, str], int],
    issued: datetime,
    origin: str,
    appointment_id: str | None,
    priority: int,
) -> TicketSnapshot:
    prefix = prefixes[service_ids[0]]
    numbers[(office_id, prefix)] += 1
    return TicketSnapshot(
        id=f"tkt-{day:%Y%m%d}-{index + 1:05d}", office_id=office_id,
        number=f"{prefix}{numbers[(office_id, prefix)]}", appointment_id=appointment_id, issued_at=issued,
        priority=priority, state="waiting", called_count=0, origin=origin, service_ids=service_ids, version=0,
    )


def seed_central(session: Session, day: SeedDay) -> int:
    """Load a generated day into the central store (reference data only where missing); returns the
    number of rows written. Every row gets its version, so workstations pull it like any change."""
    touched: dict[str, list[store.Versioned]] = defaultdict(list)

    existing: dict[type[store.Versioned], set[str]] = {
        model: set(session.scalars(select(model.id)))  # type: ignore[attr-defined]
        for model in (store.Office, store.Service, store.Desk, store.Clerk, store.Appointment, store.Ticket)
    }

    def add(model: type[store.Versioned], owner: str, **columns: object) -> None:
        if columns["id"] not in existing[model]:
            row = model(**columns)
            session.add(row)
            touched[owner].append(row)

    for office in day.offices:
        add(store.Office, office.id, **office.model_dump(exclude={"version"}))
    session.flush()
    for service in day.services:
        add(store.Service, service.office_id, **service.model_dump(exclude={"version"}))
    for desk in day.desks:
        add(store.Desk, desk.office_id, **desk.model_dump(exclude={"version"}))
    for clerk in day.clerks:
        add(store.Clerk, clerk.office_id, **clerk.model_dump(exclude={"version"}))
    for appointment in day.appointments:
        add(store.Appointment, appointment.office_id, **appointment.model_dump(exclude={"version"}))
    session.flush()
    for ticket in day.tickets:
        add(store.Ticket, ticket.office_id, **ticket.model_dump(exclude={"version"}))
    _advance_number_counters(session, day)
    session.flush()
    for office_id, rows in touched.items():
        store.stamp(session, office_id, rows)
    return sum(len(rows) for rows in touched.values())


def _advance_number_counters(session: Session, day: SeedDay) -> None:
    """Kiosk numbers continue after the seeded ones instead of colliding with them."""
    highest: dict[tuple[str, str], int] = {}
    for ticket in day.tickets:
        prefix = ticket.number.rstrip("0123456789")
        number = int(ticket.number[len(prefix):])
        key = (ticket.office_id, prefix)
        highest[key] = max(highest.get(key, 0), number)
    for (office_id, prefix), number in highest.items():
        counter = session.scalar(
            select(store.TicketNumberCounter).where(
                store.TicketNumberCounter.office_id == office_id,
                store.TicketNumberCounter.prefix == prefix,
                store.TicketNumberCounter.day == day.day,
            )
        )
        if counter is None:
            session.add(store.TicketNumberCounter(office_id=office_id, prefix=prefix, day=day.day,
                                                  last_number=number))
        elif counter.last_number < number:
            counter.last_number = number
