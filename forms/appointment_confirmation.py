"""Terminbestätigung: the confirmation of a booked appointment with what to bring, A4, PDF/A-2u."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from forms.layout import (
    OFFICE_TIME_ZONE,
    IssuingOffice,
    begin_document,
    bullet_list,
    check_printable,
    field_rows,
    finish_document,
    heading,
    paragraph,
    require_aware,
)

WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")


@dataclass(frozen=True)
class AppointmentConfirmation:
    office: IssuingOffice
    citizen_name: str
    booking_reference: str  # Vorgangsnummer
    starts_at: datetime  # timezone-aware
    duration_minutes: int
    services: tuple[str, ...]
    documents_to_bring: tuple[str, ...]
    issued_at: datetime
    cancel_url: str | None = None


def format_slot(starts_at: datetime, duration_minutes: int) -> str:
    """'Freitag, 14.03.2025, 09:20–09:40 Uhr' in the office's zone."""
    start = require_aware(starts_at, "starts_at").astimezone(OFFICE_TIME_ZONE)
    end = start + timedelta(minutes=duration_minutes)
    return f"{WEEKDAYS[start.weekday()]}, {start:%d.%m.%Y}, {start:%H:%M}–{end:%H:%M} Uhr"


def render_appointment_confirmation(confirmation: AppointmentConfirmation) -> bytes:
    if not confirmation.services:
        raise ValueError("an appointment has at least one service")
    if confirmation.duration_minutes <= 0:
        raise ValueError("duration_minutes must be positive")
    check_printable(confirmation)
    pdf = begin_document("Terminbestätigung", confirmation.office, confirmation.issued_at)
    paragraph(pdf, f"Guten Tag {confirmation.citizen_name}, Ihr Termin ist gebucht.")
    pdf.ln(2)
    office = confirmation.office
    field_rows(
        pdf,
        [
            ("Termin", format_slot(confirmation.starts_at, confirmation.duration_minutes)),
            ("Ort", f"{office.name}, {office.street}, {office.postal_code_and_city}"),
            ("Vorgangsnummer", confirmation.booking_reference),
        ],
    )
    heading(pdf, "Ihre Anliegen")
    bullet_list(pdf, confirmation.services)
    heading(pdf, "Bitte mitbringen")
    bullet_list(pdf, confirmation.documents_to_bring or ("keine besonderen Unterlagen",))
    pdf.ln(4)
    paragraph(
        pdf,
        "Bitte melden Sie sich bei Ankunft am Empfang oder am Terminal mit Ihrer "
        "Vorgangsnummer an. Wer mehr als 10 Minuten zu spät kommt, erhält eine Wartenummer "
        "ohne Termin.",
        size=9,
    )
    if confirmation.cancel_url:
        paragraph(pdf, f"Absagen oder verschieben: {confirmation.cancel_url}", size=9)
    return finish_document(pdf)
