"""The Wartenummer slip renders a real PDF; its text is read back with poppler's pdftotext."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest

from forms.ticket_slip import TicketSlip, format_expected_wait, format_issue_time, render_ticket_slip

if TYPE_CHECKING:
    from pathlib import Path

needs_poppler = pytest.mark.usefixtures("poppler_tools")

MM_PER_POINT = 25.4 / 72


def make_slip(**changes: Any) -> TicketSlip:
    values: dict[str, Any] = {
        "office_name": "Bürgeramt Köln-Mülheim",
        "ticket_number": "A107",
        "services": ("Personalausweis beantragen (37,00 €)", "Meldebescheinigung (Anmeldung/Ummeldung)"),
        # 08:07 UTC in March is 09:07 in Berlin (CET, UTC+1).
        "issued_at": datetime(2025, 3, 14, 8, 7, tzinfo=UTC),
        "status_url": "https://termine.example.de/warteschlange/status?t=7f3c9a",
        "position_in_queue": 4,
        "expected_wait_minutes": 23,
    }
    values.update(changes)
    return TicketSlip(**values)


def write_pdf(tmp_path: Path, slip: TicketSlip) -> Path:
    path = tmp_path / "slip.pdf"
    path.write_bytes(render_ticket_slip(slip))
    return path


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@needs_poppler
def test_slip_is_a_pdf_with_number_services_and_office(tmp_path: Path) -> None:
    text = collapse(pdf_text(write_pdf(tmp_path, make_slip())))

    assert "A107" in text
    assert "Bürgeramt Köln-Mülheim" in text
    assert "Personalausweis beantragen (37,00 €)" in text
    assert "Meldebescheinigung (Anmeldung/Ummeldung)" in text
    assert "Datenschutz: Dieser Beleg enthält keine personenbezogenen Daten." in text


@needs_poppler
def test_issue_time_is_german_and_in_berlin_time(tmp_path: Path) -> None:
    text = collapse(pdf_text(write_pdf(tmp_path, make_slip())))
    assert "14.03.2025, 09:07 Uhr" in text

    summer = make_slip(issued_at=datetime(2025, 7, 1, 22, 30, tzinfo=UTC))  # CEST: next day 00:30
    assert "02.07.2025, 00:30 Uhr" in collapse(pdf_text(write_pdf(tmp_path, summer)))


@needs_poppler
def test_position_and_wait_are_printed_only_when_given(tmp_path: Path) -> None:
    with_queue = collapse(pdf_text(write_pdf(tmp_path, make_slip())))
    assert "Platz in der Warteschlange: 4" in with_queue
    assert "Voraussichtliche Wartezeit: ca. 25 Minuten" in with_queue

    without = collapse(
        pdf_text(write_pdf(tmp_path, make_slip(position_in_queue=None, expected_wait_minutes=None)))
    )
    assert "Warteschlange:" not in without
    assert "Wartezeit" not in without
    assert "A107" in without


@needs_poppler
def test_qr_code_image_is_embedded(tmp_path: Path) -> None:
    path = write_pdf(tmp_path, make_slip())
    listing = subprocess.run(
        ["pdfimages", "-list", str(path)], check=True, capture_output=True, text=True
    ).stdout
    image_rows = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    assert len(image_rows) == 1
    width, height = int(image_rows[0][3]), int(image_rows[0][4])
    assert width == height  # a QR code is square
    assert width >= 21 + 8  # version 1 is 21 modules, plus the 4-module quiet zone on each side


@needs_poppler
def test_page_is_80_mm_wide_and_grows_with_content(tmp_path: Path) -> None:
    def page_size_mm(slip: TicketSlip) -> tuple[float, float]:
        path = write_pdf(tmp_path, slip)
        info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
        match = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
        assert match is not None
        return float(match.group(1)) * MM_PER_POINT, float(match.group(2)) * MM_PER_POINT

    short_width, short_height = page_size_mm(make_slip(services=("Abholung",)))
    long_width, long_height = page_size_mm(make_slip(services=tuple(f"Anliegen {n}" for n in range(8))))
    assert short_width == pytest.approx(80, abs=0.1)
    assert long_width == pytest.approx(80, abs=0.1)
    assert 60 < short_height < long_height < 250


@needs_poppler
def test_long_ticket_number_stays_on_one_line(tmp_path: Path) -> None:
    text = pdf_text(write_pdf(tmp_path, make_slip(ticket_number="ABH-10234567")))
    assert "ABH-10234567" in text


def test_same_slip_renders_same_bytes() -> None:
    assert render_ticket_slip(make_slip()) == render_ticket_slip(make_slip())


def test_naive_issue_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render_ticket_slip(make_slip(issued_at=datetime(2025, 3, 14, 9, 7)))


def test_text_the_font_cannot_print_is_rejected_with_the_field_name() -> None:
    with pytest.raises(ValueError, match=r"services\[1\]"):
        render_ticket_slip(make_slip(services=("Abholung", "Abmeldung \U0001f3e0 Wohnsitz")))


def test_issue_time_converts_from_any_zone() -> None:
    new_york = timezone(timedelta(hours=-5))
    assert format_issue_time(datetime(2025, 1, 31, 18, 0, tzinfo=new_york)) == "01.02.2025, 00:00 Uhr"


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0, "weniger als 5 Minuten"),
        (12, "ca. 10 Minuten"),
        (58, "ca. 1 Std."),
        (60, "ca. 1 Std."),
        (95, "ca. 1 Std. 30 Min."),
        (130, "ca. 2 Std. 15 Min."),
    ],
)
def test_expected_wait_is_rounded_for_the_citizen(minutes: int, expected: str) -> None:
    assert format_expected_wait(minutes) == expected
