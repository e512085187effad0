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
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import select

from sync import pins
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

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sqlalchemy.orm import Session

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
    _ServiceSpec(
        "pa",
        "PA",
        "Personalausweis beantragen",
        4600,
        15,
        (_ID_DOCS, _PHOTO, "Geburts- oder Heiratsurkunde bei Namensänderung"),
        "A",
        True,
        True,
    ),
    _ServiceSpec(
        "rp",
        "RP",
        "Reisepass beantragen",
        7000,
        15,
        (_ID_DOCS, _PHOTO, "Geburts- oder Heiratsurkunde bei Namensänderung"),
        "A",
        True,
        True,
    ),
    _ServiceSpec("vpa", "VPA", "Vorläufiger Personalausweis", 1000, 10, (_ID_DOCS, _PHOTO), "A", True, True),
    _ServiceSpec(
        "an",
        "AN",
        "Anmeldung / Ummeldung",
        0,
        12,
        ("Personalausweis oder Reisepass", "Wohnungsgeberbestätigung"),
        "B",
        True,
    ),
    _ServiceSpec("mb", "MB", "Meldebescheinigung", 900, 5, ("Personalausweis oder Reisepass",), "B"),
    _ServiceSpec(
        "ab", "AB", "Abholung Ausweis/Pass", 0, 5, ("Abholschein", "Bisheriges Dokument"), "C", True
    ),
    _ServiceSpec(
        "lb",
        "LB",
        "Digitales Lichtbild im Amt",
        600,
        5,
        ("Personalausweis oder Reisepass",),
        "A",
        capture=True,
    ),
)
_VEHICLE_DOCS = ("Personalausweis oder Reisepass", "Zulassungsbescheinigung Teil I")
_ZULASSUNG_SERVICES = (
    _ServiceSpec(
        "nz",
        "NZ",
        "Neuzulassung",
        3070,
        20,
        (
            "Personalausweis oder Reisepass",
            "Zulassungsbescheinigung Teil II",
            "eVB-Nummer",
            "SEPA-Mandat Kfz-Steuer",
        ),
        "Z",
    ),
    _ServiceSpec(
        "um",
        "UM",
        "Umschreibung (Halterwechsel)",
        2860,
        20,
        (*_VEHICLE_DOCS, "Zulassungsbescheinigung Teil II", "eVB-Nummer", "SEPA-Mandat Kfz-Steuer"),
        "Z",
    ),
    _ServiceSpec("ab", "AB", "Außerbetriebsetzung", 1290, 10, (*_VEHICLE_DOCS, "Kennzeichenschilder"), "Z"),
    _ServiceSpec("wz", "WZ", "Wiederzulassung", 3070, 15, (*_VEHICLE_DOCS, "eVB-Nummer"), "Z"),
    _ServiceSpec("ad", "AD", "Adressänderung", 1170, 10, _VEHICLE_DOCS, "K"),
    _ServiceSpec("kr", "KR", "Kennzeichenreservierung", 260, 5, ("Personalausweis oder Reisepass",), "K"),
    _ServiceSpec(
        "ez", "EZ", "Ersatz Zulassungsbescheinigung", 1430, 15, (*_VEHICLE_DOCS, "Verlusterklärung"), "K"
    ),
)
# Typical visits: mostly one service, sometimes the combinations offices see every day.
_BUERGERAMT_VISITS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("pa",), 30),
    (("rp",), 12),
    (("pa", "rp"), 6),
    (("pa", "lb"), 6),
    (("an",), 25),
    (("an", "mb"), 6),
    (("mb",), 6),
    (("ab",), 12),
    (("vpa",), 3),
)
_ZULASSUNG_VISITS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("nz",), 20),
    (("um",), 20),
    (("ab",), 12),
    (("ab", "nz"), 12),
    (("ab", "nz", "kr"), 6),
    (("wz",), 6),
    (("ad",), 10),
    (("ez",), 5),
    (("kr",), 4),
)

_GIVEN_NAMES = (
    "Jürgen",
    "Jörg",
    "Björn",
    "Sören",
    "Günter",
    "Bärbel",
    "Jürgen",
    "Lena",
    "Mia",
    "Lukas",
    "Jonas",
    "Hannah",
    "Käthe",
    "Anna",
    "Felix",
    "Maximilian",
    "Sophie",
    "Zoë",
    "Leon",
    "Emilia",
    "Özlem",
    "Mehmet",
    "Ayşe",
    "Katarzyna",
    "Dmitri",
    "Olena",
    "Helga",
    "Uwe",
    "Dörte",
    "Ute",
    "Karl-Heinz",
    "Marie-Luise",
    "Tobias",
    "Franziska",
    "Niklas",
    "Gülsüm",
    "Renée",
    "André",
    "Małgorzata",
    "Jens",
)
_FAMILY_NAMES = (
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Köhler",
    "Jäger",
    "Weiß",
    "Böhm",
    "Größ",
    "Özdemir",
    "Yılmaz",
    "Kowalski",
    "Nowak",
    "Lüdenscheidt",
    "von der Höh",
    "Müller-Lüdenscheidt",
    "Grünewald",
    "Nguyen",
)
_CLERK_NAMES = (
    "Petra Kühn",
    "Stefan Brückner",
    "Sabine Mößner",
    "Thomas Ährens",
    "Claudia Rößler",
    "Michael Fröhlich",
    "Andrea Schütz",
    "Frank Lübke",
    "Nicole Dreßler",
    "Markus Göbel",
    "Heike Wüst",
    "Oliver Bär",
    "Katrin Hölzl",
    "Rainer Kröger",
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
        OfficeSnapshot(
            id=BUERGERAMT_ID,
            name="Bürgeramt Mitte",
            kind="buergeramt",
            max_calls=3,
            recall_block_minutes=5,
            early_window_minutes=5,
            service_level_minutes=15,
            version=0,
        ),
        OfficeSnapshot(
            id=ZULASSUNG_ID,
            name="Zulassungsstelle Süd",
            kind="zulassungsstelle",
            max_calls=3,
            recall_block_minutes=5,
            early_window_minutes=5,
            service_level_minutes=20,
            version=0,
        ),
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


# --- the demo's day, laid around the current time ---------------------------------------------------

OPENING_TIME = time(8, 0)
CLOSING_TIME = time(16, 0)
_SLOTS = 8 * 6  # grid positions of a day; 10 minutes apart in the office's real day
_REAL_DAY_MARGIN = timedelta(minutes=30)  # the real day is used when now is this far inside it
_SHIFTED_BEFORE = timedelta(hours=2)  # a shifted day starts this long before now …
_SHIFTED_AFTER = timedelta(hours=6)  # … and runs on this long after it (8 hours, like the real day)
_MIDNIGHT_MARGIN = timedelta(minutes=1)  # a shifted day stays inside the office's calendar date
_ARRIVED_BEFORE = timedelta(minutes=40)  # slots this close before now have checked in …
_ARRIVED_AFTER = timedelta(minutes=10)  # … and so have early citizens for slots this soon
_FINISHED_SHARE = 0.85  # of the earlier appointments; the rest never came (still booked)
_WALK_IN_WINDOW = timedelta(minutes=30)  # waiting walk-ins took their number in this last half hour


@dataclass(frozen=True)
class DayWindow:
    """The span over which the demo's appointments are spread, and the office's date it lies in."""

    day: date
    start: datetime  # aware UTC
    end: datetime
    shifted: bool  # False: the office's real opening hours


def day_window(now: datetime) -> DayWindow:
    """Where the appointments go when it is `now`.

    Between 08:30 and 15:30 (Europe/Berlin) the office's real day, 08:00–16:00. At any other time
    the day is shifted so that now lies two hours into it and it runs six hours on, and compressed
    where midnight comes first: it never leaves the office's calendar date (the workstation lists
    "today's appointments" by that date), keeping a minute off each midnight. All in real (UTC)
    durations, so a day with a clock change is handled like any other."""
    local = now.astimezone(OFFICE_ZONE)
    day = local.date()
    opening = datetime.combine(day, OPENING_TIME, OFFICE_ZONE).astimezone(UTC)
    closing = datetime.combine(day, CLOSING_TIME, OFFICE_ZONE).astimezone(UTC)
    if opening + _REAL_DAY_MARGIN <= now <= closing - _REAL_DAY_MARGIN:
        return DayWindow(day, opening, closing, shifted=False)
    midnight = datetime.combine(day, time(0), OFFICE_ZONE).astimezone(UTC)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), OFFICE_ZONE).astimezone(UTC)
    start = max(now - _SHIFTED_BEFORE, midnight + _MIDNIGHT_MARGIN)
    end = min(now + _SHIFTED_AFTER, next_midnight - _MIDNIGHT_MARGIN)
    return DayWindow(day, min(start, now), max(end, now), shifted=True)


def generate_day_around(
    now: datetime,
    seed: int = 0,
    *,
    appointments: int = 150,
    waiting: int = 8,
    finished_walk_ins: int | None = None,
) -> SeedDay:
    """The demo's day of both offices, laid around `now` so the booked-citizen flow works at any hour.

    The appointments spread over `day_window(now)`. Relative to now:
    - slots more than 40 minutes ago (at most a third of the time since the day's start): mostly
      finished (a called and finished ticket, appointment "finished"), some never came (booked);
      the earliest of each office always finished;
    - slots from 40 minutes ago to 10 minutes ahead (at most a third of the time to the day's
      end): checked in, their tickets waiting (issued up to a quarter hour before the slot);
    - later slots: booked, so the kiosk (which checks in 20 minutes around the slot) and the desk
      find citizens to check in.
    `waiting` walk-ins took a number in the last half hour; `finished_walk_ins` (default: as many)
    were served earlier. Ticket numbers follow the order of issue in each office and prefix.
    This holds for any local time from 00:15 to 23:45; nearer to midnight one side of now is too
    short for every group. Deterministic for a given `now` and seed.

    `generate_day` keeps its fixed 08:00–16:00 layout: the tests and benchmarks depend on it."""
    now = now.astimezone(UTC)
    window = day_window(now)
    day = window.day
    rng = random.Random(seed * 1_000_003 + day.toordinal() * 1440 + now.hour * 60 + now.minute)
    plain = generate_day(day, seed, appointments=0, waiting=0)
    grid_now = now.replace(second=0, microsecond=0)
    # Slots on whole minutes; in the real day exactly every 10 minutes.
    spacing = (window.end - window.start) / _SLOTS
    grid_start = window.start.replace(second=0, microsecond=0)
    ba_count = round(appointments * 0.8)
    rows = _appointments(rng, day, BUERGERAMT_ID, _BUERGERAMT_VISITS, ba_count, grid_start, 0, spacing)
    rows += _appointments(
        rng, day, ZULASSUNG_ID, _ZULASSUNG_VISITS, appointments - ba_count, grid_start, ba_count, spacing
    )
    day_start = datetime.combine(day, time(0), OFFICE_ZONE).astimezone(UTC)
    # At least one slot spacing back (and a minute for slots on whole minutes), so some checked-in
    # citizen of the Bürgeramt, whose every slot is booked, is due already.
    arrived_from = grid_now - min(
        _ARRIVED_BEFORE, max((now - window.start) / 3, spacing + timedelta(minutes=1))
    )
    arrived_until = grid_now + min(_ARRIVED_AFTER, (window.end - now) / 3)
    served_by = _served_by(plain)
    pending: list[tuple[datetime, TicketSnapshot]] = []  # numbered once all are known
    first_of_office: set[str] = set()
    laid_out = []
    for apt in rows:
        new_status: str | None = None  # what the laid-out day made of the booking
        if apt.slot_start < arrived_from:
            earliest = apt.office_id not in first_of_office
            first_of_office.add(apt.office_id)
            if earliest or rng.random() < _FINISHED_SHARE:
                issued = max(day_start, apt.slot_start - timedelta(minutes=rng.randint(1, 15)))
                called = max(issued, apt.slot_start) + timedelta(minutes=rng.randint(0, 10))
                called = max(issued, min(called, arrived_from))
                desk_id, clerk_id = served_by(rng, apt.office_id, apt.service_ids)
                pending.append(
                    (
                        issued,
                        _demo_ticket(
                            apt.office_id,
                            apt.service_ids,
                            issued,
                            "appointment",
                            apt.id,
                            0,
                            (called, desk_id, clerk_id),
                        ),
                    )
                )
                new_status = "finished"
        elif apt.slot_start <= arrived_until:
            issued = apt.slot_start - timedelta(minutes=rng.randint(1, 15), seconds=rng.randint(0, 59))
            issued = max(day_start, min(issued, now - timedelta(seconds=rng.randint(30, 90))))
            pending.append(
                (issued, _demo_ticket(apt.office_id, apt.service_ids, issued, "appointment", apt.id, 0, None))
            )
            new_status = "checked_in"
        laid_out.append(apt.model_copy(update={"status": new_status}) if new_status else apt)
    walk_in_visits = {BUERGERAMT_ID: _BUERGERAMT_VISITS, ZULASSUNG_ID: _ZULASSUNG_VISITS}
    waiting_since = max(day_start, now - _WALK_IN_WINDOW)
    served = waiting if finished_walk_ins is None else finished_walk_ins
    for index in range(waiting + served):
        # Each office gets a walk-in waiting (and one served) before chance decides the rest.
        first = index in (0, 1, waiting, waiting + 1)
        office_id = (
            (BUERGERAMT_ID if index in (0, waiting) else ZULASSUNG_ID)
            if first
            else (BUERGERAMT_ID if rng.random() < 0.75 else ZULASSUNG_ID)
        )
        visits = walk_in_visits[office_id]
        combo = rng.choices([c for c, _ in visits], [w for _, w in visits])[0]
        service_ids = [f"{office_id}-{code}" for code in combo]
        if index < waiting:
            issued = _between(rng, waiting_since, now)
            priority = 1 if rng.random() < 0.03 else 0
            ticket = _demo_ticket(office_id, service_ids, issued, "kiosk", None, priority, None)
            pending.append((issued, ticket))
        else:
            issued = _between(rng, window.start, arrived_from)
            called = _between(rng, issued, min(issued + timedelta(minutes=30), arrived_from))
            desk_id, clerk_id = served_by(rng, office_id, service_ids)
            pending.append(
                (
                    issued,
                    _demo_ticket(
                        office_id, service_ids, issued, "kiosk", None, 0, (called, desk_id, clerk_id)
                    ),
                )
            )
    tickets = _numbered(day, [ticket for _, ticket in sorted(pending, key=lambda item: item[0])])
    return SeedDay(day, plain.offices, plain.services, plain.desks, plain.clerks, laid_out, tickets)


def _between(rng: random.Random, earliest: datetime, latest: datetime) -> datetime:
    """A moment in [earliest, latest), whole seconds; `earliest` when the span is empty."""
    seconds = int((latest - earliest).total_seconds())
    return earliest + timedelta(seconds=rng.randrange(seconds)) if seconds > 0 else earliest


def _served_by(day: SeedDay) -> Callable[[random.Random, str, list[str]], tuple[str, str]]:
    """Picks a desk that serves all the services and a clerk of the office, for a finished ticket."""
    desks = defaultdict(list)
    clerks = defaultdict(list)
    for desk in day.desks:
        desks[desk.office_id].append(desk)
    for clerk in day.clerks:
        clerks[clerk.office_id].append(clerk.id)

    def pick(rng: random.Random, office_id: str, service_ids: list[str]) -> tuple[str, str]:
        able = [d.id for d in desks[office_id] if set(service_ids) <= set(d.service_ids)]
        return rng.choice(able), rng.choice(clerks[office_id])

    return pick


def _demo_ticket(
    office_id: str,
    service_ids: list[str],
    issued: datetime,
    origin: str,
    appointment_id: str | None,
    priority: int,
    served: tuple[datetime, str, str] | None,  # (called at, desk, clerk) of a finished ticket
) -> TicketSnapshot:
    """A ticket without id and number yet (`_numbered` gives them in the order of issue)."""
    fields: dict[str, object] = {}
    if served is not None:
        called, desk_id, clerk_id = served
        fields = {
            "state": "finished",
            "called_count": 1,
            "first_called_at": called,
            "last_called_at": called,
            "desk_id": desk_id,
            "clerk_id": clerk_id,
        }
    return TicketSnapshot.model_validate(
        {
            "id": "",
            "office_id": office_id,
            "number": "",
            "appointment_id": appointment_id,
            "issued_at": issued,
            "priority": priority,
            "state": "waiting",
            "called_count": 0,
            "origin": origin,
            "service_ids": service_ids,
            "version": 0,
            **fields,
        }
    )


def _numbered(day: date, tickets: list[TicketSnapshot]) -> list[TicketSnapshot]:
    prefixes = {f"{BUERGERAMT_ID}-{s.id}": s.prefix for s in _BUERGERAMT_SERVICES}
    prefixes |= {f"{ZULASSUNG_ID}-{s.id}": s.prefix for s in _ZULASSUNG_SERVICES}
    numbers: dict[tuple[str, str], int] = defaultdict(lambda: 100)
    numbered = []
    for index, ticket in enumerate(tickets):
        prefix = prefixes[ticket.service_ids[0]]
        numbers[(ticket.office_id, prefix)] += 1
        numbered.append(
            ticket.model_copy(
                update={
                    "id": f"tkt-{day:%Y%m%d}-{index + 1:05d}",
                    "number": f"{prefix}{numbers[(ticket.office_id, prefix)]}",
                }
            )
        )
    return numbered


def _services(office_id: str, specs: tuple[_ServiceSpec, ...]) -> list[ServiceSnapshot]:
    return [
        ServiceSnapshot(
            id=f"{office_id}-{spec.id}",
            office_id=office_id,
            code=spec.code,
            name=spec.name,
            duration_minutes=spec.duration_minutes,
            fee_cents=spec.fee_cents,
            required_documents=list(spec.documents),
            needs_card_read=spec.card_read,
            needs_capture=spec.capture,
            ticket_prefix=spec.prefix,
            version=0,
        )
        for spec in specs
    ]


def _buergeramt_desks() -> list[DeskSnapshot]:
    every = [f"{BUERGERAMT_ID}-{spec.id}" for spec in _BUERGERAMT_SERVICES]
    pickup = [f"{BUERGERAMT_ID}-{code}" for code in ("ab", "mb", "lb")]
    return [
        DeskSnapshot(
            id=f"{BUERGERAMT_ID}-d{n}",
            office_id=BUERGERAMT_ID,
            number=n,
            name=f"Schalter {n}",
            service_ids=pickup if n == 8 else every,
            version=0,
        )
        for n in range(1, 9)
    ]


def _zulassung_desks() -> list[DeskSnapshot]:
    every = [f"{ZULASSUNG_ID}-{spec.id}" for spec in _ZULASSUNG_SERVICES]
    return [
        DeskSnapshot(
            id=f"{ZULASSUNG_ID}-d{n}",
            office_id=ZULASSUNG_ID,
            number=n,
            name=f"Platz {n}",
            service_ids=every,
            version=0,
        )
        for n in range(1, 5)
    ]


def _clerks() -> list[ClerkSnapshot]:
    clerks = []
    for index, name in enumerate(_CLERK_NAMES):
        office_id = BUERGERAMT_ID if index < 10 else ZULASSUNG_ID
        role = "supervisor" if index in (0, 10) else "clerk"
        clerks.append(
            ClerkSnapshot(
                id=f"{office_id}-c{index + 1}", office_id=office_id, name=name, role=role, version=0
            )
        )
    return clerks


def _appointments(
    rng: random.Random,
    day: date,
    office_id: str,
    visits: tuple[tuple[tuple[str, ...], int], ...],
    count: int,
    opening: datetime,
    first_index: int,
    spacing: timedelta = timedelta(minutes=10),
) -> list[AppointmentSnapshot]:
    """`count` appointments over 48 slots `spacing` apart from `opening` (slots on whole minutes);
    several desks share a slot."""
    combos = [combo for combo, _ in visits]
    weights = [weight for _, weight in visits]
    slot_count = _SLOTS
    rows = []
    for offset in range(count):
        index = first_index + offset
        combo = rng.choices(combos, weights)[0]
        position = spacing * (offset * slot_count // count)
        slot = opening + timedelta(minutes=position // timedelta(minutes=1))
        given, family = rng.choice(_GIVEN_NAMES), rng.choice(_FAMILY_NAMES)
        rows.append(
            AppointmentSnapshot(
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
            )
        )
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
    tickets: list[TicketSnapshot] = []
    for index in sorted(checked_in):
        apt = appointments[index]
        updated[index] = apt.model_copy(update={"status": "checked_in"})
        issued = min(around, apt.slot_start) - timedelta(minutes=rng.randint(1, 15))
        tickets.append(
            _ticket(
                day,
                len(tickets),
                apt.office_id,
                apt.service_ids,
                prefixes,
                numbers,
                issued,
                "appointment",
                apt.id,
                0,
            )
        )
    while len(tickets) < count:
        office_id = BUERGERAMT_ID if rng.random() < 0.75 else ZULASSUNG_ID
        visits = walk_in_visits[office_id]
        combo = rng.choices([c for c, _ in visits], [w for _, w in visits])[0]
        service_ids = [f"{office_id}-{code}" for code in combo]
        issued = around - timedelta(minutes=rng.randint(1, 30), seconds=rng.randint(0, 59))
        priority = 1 if rng.random() < 0.03 else 0
        tickets.append(
            _ticket(
                day, len(tickets), office_id, service_ids, prefixes, numbers, issued, "kiosk", None, priority
            )
        )
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
        id=f"tkt-{day:%Y%m%d}-{index + 1:05d}",
        office_id=office_id,
        number=f"{prefix}{numbers[(office_id, prefix)]}",
        appointment_id=appointment_id,
        issued_at=issued,
        priority=priority,
        state="waiting",
        called_count=0,
        origin=origin,
        service_ids=service_ids,
        version=0,
    )


def seed_central(session: Session, day: SeedDay) -> int:
    """Load a generated day into the central store (reference data only where missing); returns the
    number of rows written. Every row gets its version, so workstations pull it like any change."""
    touched: dict[str, list[store.Versioned]] = defaultdict(list)

    existing: dict[type[store.Versioned], set[str]] = {
        model: set(session.scalars(select(model.id)))
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
    _give_demo_pins(session, [clerk for clerk in day.clerks if clerk.id not in existing[store.Clerk]])
    for ticket in day.tickets:
        add(store.Ticket, ticket.office_id, **ticket.model_dump(exclude={"version"}))
    _advance_number_counters(session, day)
    session.flush()
    for office_id, rows in touched.items():
        store.stamp(session, office_id, rows)
    return sum(len(rows) for rows in touched.values())


# The seeded day's PINs, shown on the demo's login screen: never a real office's.
DEMO_PINS: dict[str, str] = {"clerk": "1234", "supervisor": "4321"}


@cache
def _demo_verifier(pin: str) -> str:
    # One argon2 verifier per demo PIN and process: seeding 40 clerks would otherwise cost a second.
    return pins.make_verifier(pin)


def _give_demo_pins(session: Session, clerks: Sequence[ClerkSnapshot]) -> None:
    from sync.central import credentials

    for clerk in clerks:
        pin = DEMO_PINS.get(clerk.role, DEMO_PINS["clerk"])
        credentials.set_clerk_pin(session, clerk.id, pin, verifier=_demo_verifier(pin))


def _advance_number_counters(session: Session, day: SeedDay) -> None:
    """Kiosk numbers continue after the seeded ones instead of colliding with them."""
    highest: dict[tuple[str, str], int] = {}
    for ticket in day.tickets:
        prefix = ticket.number.rstrip("0123456789")
        number = int(ticket.number[len(prefix) :])
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
            session.add(
                store.TicketNumberCounter(office_id=office_id, prefix=prefix, day=day.day, last_number=number)
            )
        elif counter.last_number < number:
            counter.last_number = number
