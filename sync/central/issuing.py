"""Tickets and appointments from outside the desks: the kiosk, the check-in, the booking system."""

from __future__ import annotations

import secrets
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from sync.central import store
from sync.central.errors import CentralRefusal, InvalidReference, NotFound
from sync.clock import OFFICE_ZONE

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from sync.protocol import AppointmentCreate


def office_or_404(session: Session, office_id: str) -> store.Office:
    office = session.get(store.Office, office_id)
    if office is None:
        raise NotFound(f"unknown office {office_id!r}")
    return office


def check_services(session: Session, office_id: str, service_ids: list[str]) -> None:
    if len(set(service_ids)) != len(service_ids):
        raise InvalidReference("service_ids contains duplicates")
    known = set(
        session.scalars(
            select(store.Service.id).where(
                store.Service.office_id == office_id, store.Service.id.in_(service_ids)
            )
        )
    )
    missing = [service_id for service_id in service_ids if service_id not in known]
    if missing:
        raise InvalidReference(f"services not offered by office {office_id!r}: {', '.join(missing)}")


def next_ticket_number(session: Session, office_id: str, service_id: str, now: datetime) -> str:
    """The next number for the first service's prefix today (A101, A102, …); row-locked on PostgreSQL."""
    prefix = session.scalar(select(store.Service.ticket_prefix).where(store.Service.id == service_id)) or "A"
    day = now.astimezone(OFFICE_ZONE).date()
    key = {"office_id": office_id, "prefix": prefix, "day": day}
    # Insert-if-missing first, so two kiosks starting a new day cannot both create the counter.
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(store.TicketNumberCounter).values(**key, last_number=100).on_conflict_do_nothing())
    counter = session.scalars(select(store.TicketNumberCounter).filter_by(**key).with_for_update()).one()
    counter.last_number += 1
    session.flush()
    return f"{prefix}{counter.last_number}"


def issue_kiosk_ticket(
    session: Session, office_id: str, service_ids: list[str], priority: int, now: datetime
) -> store.Ticket:
    office_or_404(session, office_id)
    check_services(session, office_id, service_ids)
    ticket = store.Ticket(
        id=str(uuid.uuid4()),
        office_id=office_id,
        number=next_ticket_number(session, office_id, service_ids[0], now),
        issued_at=now,
        priority=priority,
        state="waiting",
        origin="kiosk",
        service_ids=list(service_ids),
    )
    session.add(ticket)
    session.flush()
    store.stamp(session, office_id, [ticket])
    return ticket


def check_in(session: Session, office_id: str, booking_reference: str, now: datetime) -> store.Ticket:
    """The citizen with an appointment arrives at `office_id`: a ticket whose arrival is now. Checking
    in twice gives the same ticket again (the kiosk may retry). The refusal never repeats the
    reference, and an appointment of another office is as unknown as none."""
    appointment = session.scalar(
        select(store.Appointment)
        .where(
            store.Appointment.booking_reference == booking_reference,
            store.Appointment.office_id == office_id,
        )
        .with_for_update()
    )
    if appointment is None:
        raise NotFound("unknown booking reference for this office")
    existing = session.scalar(
        select(store.Ticket)
        .where(store.Ticket.appointment_id == appointment.id)
        .order_by(store.Ticket.issued_at)
    )
    if existing is not None:
        return existing
    if appointment.status != "booked":
        raise CentralRefusal(f"appointment is {appointment.status}, cannot check in")
    ticket = store.Ticket(
        id=str(uuid.uuid4()),
        office_id=appointment.office_id,
        number=next_ticket_number(session, appointment.office_id, appointment.service_ids[0], now),
        appointment_id=appointment.id,
        issued_at=now,
        state="waiting",
        origin="appointment",
        service_ids=list(appointment.service_ids),
    )
    appointment.status = "checked_in"
    session.add(ticket)
    session.flush()
    store.stamp(session, appointment.office_id, [ticket, appointment])
    return ticket


def create_appointment(session: Session, request: AppointmentCreate) -> store.Appointment:
    office_or_404(session, request.office_id)
    check_services(session, request.office_id, request.service_ids)
    appointment_id = request.id or str(uuid.uuid4())
    if session.get(store.Appointment, appointment_id) is not None:
        raise CentralRefusal(f"appointment {appointment_id!r} exists already")
    reference = request.booking_reference or _new_reference(request.slot_start)
    taken = session.scalar(
        select(store.Appointment.id).where(store.Appointment.booking_reference == reference)
    )
    if taken is not None:
        raise CentralRefusal(f"booking reference {reference!r} is taken")
    appointment = store.Appointment(
        id=appointment_id,
        office_id=request.office_id,
        booking_reference=reference,
        slot_start=request.slot_start,
        status="booked",
        given_name=request.given_name,
        family_name=request.family_name,
        birth_date=request.birth_date,
        email=request.email,
        phone=request.phone,
        service_ids=list(request.service_ids),
    )
    session.add(appointment)
    session.flush()
    store.stamp(session, request.office_id, [appointment])
    return appointment


def cancel_appointment(session: Session, appointment_id: str) -> store.Appointment:
    appointment = session.get(store.Appointment, appointment_id, with_for_update=True)
    if appointment is None:
        raise NotFound(f"unknown appointment {appointment_id!r}")
    if appointment.status == "cancelled":
        return appointment  # cancelling twice is harmless
    if appointment.status != "booked":
        raise CentralRefusal(f"appointment is {appointment.status}, cannot cancel")
    appointment.status = "cancelled"
    store.stamp(session, appointment.office_id, [appointment])
    return appointment


def _new_reference(slot_start: datetime) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return f"{slot_start.astimezone(OFFICE_ZONE):%y%m%d}-" + "".join(
        secrets.choice(alphabet) for _ in range(6)
    )
