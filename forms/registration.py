"""Meldebescheinigung (§ 18 BMG, simple and extended) and Meldebestätigung (§ 24 Abs. 2 BMG), A4, PDF/A-2u.

The simple certificate holds what § 18 Abs. 1 BMG names: family name, first names with the name in
everyday use (Rufname) marked, Doktorgrad, date of birth and the current addresses marked as
Haupt- or Nebenwohnung. The extended certificate (§ 18 Abs. 2, on request) adds further register
data. The Rufname is underlined, as on the register extract, and also named in words, because an
underline is lost on a copy and invisible to a screen reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime  # noqa: TC003  (pydantic's TypeAdapter resolves the fields at run time)
from enum import StrEnum
from typing import TYPE_CHECKING

from forms.layout import (
    CONTENT_WIDTH_MM,
    FONT,
    LABEL_WIDTH_MM,
    LINE_MM,
    IssuingOffice,
    begin_document,
    check_printable,
    field_rows,
    finish_document,
    format_date,
    format_local_datetime,
    heading,
    paragraph,
    signature_line,
)

if TYPE_CHECKING:
    from forms._document import Document


class DwellingKind(StrEnum):
    MAIN = "Hauptwohnung"
    SECONDARY = "Nebenwohnung"


@dataclass(frozen=True)
class Address:
    street_and_number: str
    postal_code: str
    city: str
    kind: DwellingKind = DwellingKind.MAIN
    moved_in_on: date | None = None

    def one_line(self) -> str:
        return f"{self.street_and_number}, {self.postal_code} {self.city}"


@dataclass(frozen=True)
class RegisteredPerson:
    family_name: str
    first_names: tuple[str, ...]
    call_name: str  # the Rufname; one of first_names
    date_of_birth: date
    doctoral_degree: str | None = None


@dataclass(frozen=True)
class ExtendedRegisterData:
    """What the extended certificate adds (§ 18 Abs. 2 with § 3 Abs. 1 BMG), only what was asked for."""

    birth_place: str | None = None
    former_names: tuple[str, ...] = ()
    nationalities: tuple[str, ...] = ()
    marital_status: str | None = None
    previous_addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegistrationCertificate:
    """Meldebescheinigung."""

    office: IssuingOffice
    person: RegisteredPerson
    addresses: tuple[Address, ...]
    issued_at: datetime
    place: str
    file_reference: str  # Aktenzeichen / Vorgangsnummer of the case
    extended: ExtendedRegisterData | None = None


@dataclass(frozen=True)
class RegistrationConfirmation:
    """Meldebestätigung, handed over at an Anmeldung: the new address and the move-in date."""

    office: IssuingOffice
    person: RegisteredPerson
    address: Address
    moved_in_on: date
    registered_on: date
    issued_at: datetime
    place: str
    file_reference: str


def render_registration_certificate(certificate: RegistrationCertificate) -> bytes:
    _check_person(certificate.person)
    mains = [a for a in certificate.addresses if a.kind is DwellingKind.MAIN]
    if len(mains) != 1:
        raise ValueError("a person has exactly one Hauptwohnung (§ 21 BMG)")
    check_printable(certificate)
    title = "Erweiterte Meldebescheinigung" if certificate.extended else "Meldebescheinigung"
    pdf = begin_document(title, certificate.office, certificate.issued_at)
    paragraph(pdf, f"Aktenzeichen: {certificate.file_reference}", size=9)
    paragraph(pdf, "Nach den Eintragungen im Melderegister ist folgende Person gemeldet:")
    pdf.ln(2)
    _person_rows(pdf, certificate.person)
    heading(pdf, "Derzeitige Anschriften")
    field_rows(
        pdf,
        [
            (address.kind.value, address.one_line())
            for address in sorted(certificate.addresses, key=lambda a: a.kind is not DwellingKind.MAIN)
        ],
    )
    if certificate.extended is not None:
        heading(pdf, "Weitere Daten (erweiterte Meldebescheinigung, § 18 Abs. 2 BMG)")
        extended = certificate.extended
        field_rows(
            pdf,
            [
                ("Geburtsort", extended.birth_place or "–"),
                ("Frühere Namen", ", ".join(extended.former_names) or "–"),
                ("Staatsangehörigkeiten", ", ".join(extended.nationalities) or "–"),
                ("Familienstand", extended.marital_status or "–"),
                ("Frühere Anschriften", "; ".join(extended.previous_addresses) or "–"),
            ],
        )
    _closing(
        pdf,
        certificate.place,
        certificate.issued_at,
        "Diese Bescheinigung gibt den Stand des Melderegisters zum Zeitpunkt der Ausstellung wieder.",
    )
    return finish_document(pdf)


def render_registration_confirmation(confirmation: RegistrationConfirmation) -> bytes:
    _check_person(confirmation.person)
    check_printable(confirmation)
    pdf = begin_document("Meldebestätigung", confirmation.office, confirmation.issued_at)
    paragraph(pdf, f"Aktenzeichen: {confirmation.file_reference}", size=9)
    paragraph(
        pdf,
        f"Die folgende Person hat sich am {format_date(confirmation.registered_on)} "
        "bei der Meldebehörde angemeldet:",
    )
    pdf.ln(2)
    _person_rows(pdf, confirmation.person)
    heading(pdf, "Neue Anschrift")
    field_rows(
        pdf,
        [
            (confirmation.address.kind.value, confirmation.address.one_line()),
            ("Einzugsdatum", format_date(confirmation.moved_in_on)),
        ],
    )
    _closing(
        pdf,
        confirmation.place,
        confirmation.issued_at,
        "Bitte bewahren Sie diese Bestätigung auf; sie ist kein Nachweis der Wohnungsgeberbestätigung.",
    )
    return finish_document(pdf)


def _check_person(person: RegisteredPerson) -> None:
    if not person.first_names:
        raise ValueError("first_names must not be empty")
    if person.call_name not in person.first_names:
        raise ValueError("call_name must be one of first_names")


def _person_rows(pdf: Document, person: RegisteredPerson) -> None:
    field_rows(pdf, [("Familienname", person.family_name)])
    _first_names_row(pdf, person)
    field_rows(
        pdf,
        [
            ("Rufname", person.call_name),
            ("Doktorgrad", person.doctoral_degree or "–"),
            ("Geburtsdatum", format_date(person.date_of_birth)),
        ],
    )


def _first_names_row(pdf: Document, person: RegisteredPerson) -> None:
    """The first names on one line with the Rufname underlined (wrapping: fpdf2's markdown)."""
    pdf.set_font(FONT, "B", 10)
    pdf.cell(LABEL_WIDTH_MM, LINE_MM, "Vornamen", new_x="RIGHT", new_y="TOP")
    pdf.set_font(FONT, "", 10)
    marked = " ".join(
        f"--{name}--" if name == person.call_name else _escape(name) for name in person.first_names
    )
    pdf.multi_cell(
        CONTENT_WIDTH_MM - LABEL_WIDTH_MM, LINE_MM, marked, markdown=True, new_x="LMARGIN", new_y="NEXT"
    )


def _escape(name: str) -> str:
    # fpdf2's markdown reads **, __ and -- as styles; a name never needs them.
    return name.replace("--", "-\u200b-").replace("__", "_\u200b_").replace("**", "*\u200b*")


def _closing(pdf: Document, place: str, issued_at: datetime, note: str) -> None:
    pdf.ln(6)
    paragraph(pdf, note, size=9)
    pdf.ln(4)
    field_rows(pdf, [("Ort, Datum", f"{place}, {format_local_datetime(issued_at)}")])
    signature_line(pdf, "Im Auftrag (Unterschrift oder elektronisches Siegel der Meldebehörde)")
