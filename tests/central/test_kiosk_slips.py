"""The simulated kiosk prints each ticket's Wartenummer slip with the QR code of its status page: the
QR is decoded from the rendered PDF (poppler's pdftoppm, zbar's zbarimg) and leads to the page."""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest

from sync.central.embedded import start_embedded
from sync.central.kiosk import kiosk_for, longest_waiting_slip
from sync.central.seed import generate_day, seed_central
from sync.central.store import CentralStore
from tests.central.conftest import DAY, OFFICE, OPENING
from tests.services import service_missing
from tresen.kiosk_slips import SlipFolder

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.poppler


def decode_qr(pdf: Path) -> str:
    """The payload of the one QR code on the PDF's first page."""
    found = {name: shutil.which(name) for name in ("pdftoppm", "zbarimg")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        service_missing(
            f"{', '.join(missing)} not installed (installer/system-packages.sh --test)", "poppler"
        )
    tools = {name: str(path) for name, path in found.items()}
    image = pdf.with_suffix("")
    subprocess.run([tools["pdftoppm"], "-r", "200", "-png", "-singlefile", pdf, image], check=True)
    decoded = subprocess.run(
        [tools["zbarimg"], "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", image.with_suffix(".png")],
        check=True,
        capture_output=True,
        text=True,
    )
    return str(decoded.stdout).strip()


def seeded(tmp_path: Path) -> str:
    db_url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    central = CentralStore(db_url)
    central.create_schema()
    with central.write() as session:
        seed_central(session, generate_day(DAY, seed=3, now=OPENING))
    central.dispose()
    return db_url


def test_each_kiosk_ticket_gets_a_slip_whose_qr_leads_to_its_status_page(tmp_path: Path) -> None:
    import httpx

    folder = tmp_path / "slips"
    printed: list[Path] = []
    slips = SlipFolder(folder)
    with start_embedded(seeded(tmp_path)) as central:
        kiosk = kiosk_for(
            central.store, central.url, OFFICE, seed=2, print_slip=lambda s: printed.append(slips(s))
        )
        tickets = [kiosk.issue_once(OPENING) for _ in range(2)]
        kiosk.stop()
        assert len(printed) == 2
        assert sorted(folder.iterdir()) == sorted(printed)
        for ticket, pdf in zip(tickets, printed, strict=True):
            url = decode_qr(pdf)
            assert url == kiosk.status_url(ticket)
            page = httpx.get(url, timeout=10)
            assert page.status_code == 200
            assert ticket.number in page.text
        text = subprocess.run(
            ["pdftotext", printed[0], "-"], check=True, capture_output=True, text=True
        ).stdout
        assert tickets[0].number in text
        assert "Wartestand auf dem Smartphone" in text


def test_the_demo_keeps_the_slip_of_the_ticket_whose_status_page_it_names(tmp_path: Path) -> None:
    from sync.central.display import demo_addresses

    with start_embedded(seeded(tmp_path)) as central:
        slip = longest_waiting_slip(central.store, central.url, OFFICE)
        assert slip is not None
        _display, status = demo_addresses(central.store, central.url, OFFICE)
        assert slip.status_url == status
        assert decode_qr(SlipFolder(tmp_path / "demo")(slip)) == status
