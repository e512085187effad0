"""Printing through the real CUPS into the cups-pdf queue; the printed file is read back with pdftotext."""

from __future__ import annotations

import argparse
import pwd
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from devices.printing import (
    CupsServer,
    JobState,
    JobStatus,
    PrintError,
    PrintFailure,
    job_status,
    print_pdf,
    printer_problem,
    wait_for_job,
)
from forms.templates import TEMPLATES

if TYPE_CHECKING:
    from collections.abc import Iterator

POLL_SECONDS = 0.1  # how often the output folder is looked at until the deadline
CUPS_PDF_OUT = Path(pwd.getpwuid(__import__("os").getuid()).pw_dir) / "PDF"


def wait_for_output(title: str, timeout: float = 30.0) -> Path:
    """cups-pdf names the file after the job title; wait (with a deadline) until it is written."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [path for path in CUPS_PDF_OUT.glob(f"{title}*.pdf") if path.stat().st_size > 0]
        if found:
            return found[0]
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"cups-pdf wrote no file for {title} into {CUPS_PDF_OUT}")


def run_pdfinfo(path: Path) -> str:
    return subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def job_title() -> Iterator[str]:
    title = f"tresen-test-{uuid.uuid4().hex[:12]}"
    yield title
    for path in CUPS_PDF_OUT.glob(f"{title}*"):
        path.unlink()


def run_pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.cups
@pytest.mark.poppler
def test_receipt_printed_to_cups_pdf_arrives_as_the_document(cups_pdf_queue: str, job_title: str) -> None:
    template = TEMPLATES["quittung"]
    job = print_pdf(template.render(template.example()), cups_pdf_queue, job_title)
    status = wait_for_job(job.job_id, timeout=30)
    assert status.state is JobState.COMPLETED
    assert status.message == f"Druckauftrag {job.job_id}: an den Drucker übergeben"
    # The printed file is the document: its German text, read back by poppler (not its pixels).
    text = run_pdftotext(wait_for_output(job_title))
    for expected in (
        "Quittung",
        "Kassenzeichen",
        "5101-0004711-8",
        "Gesamtbetrag: 127,00 €",
        "Bürgeramt Mülheim",
    ):
        assert expected in text
    assert "Abholschein" not in text  # not some other document
    assert "pdf" in run_pdfinfo(wait_for_output(job_title)).lower()


@pytest.mark.cups
@pytest.mark.usefixtures("cups_pdf_queue")
def test_missing_printer_is_reported_in_german() -> None:
    with pytest.raises(PrintError) as refused:
        print_pdf(b"%PDF-1.4", "Gibt-es-nicht", "x")
    assert refused.value.failure is PrintFailure.NO_PRINTER
    assert str(refused.value) == (
        "Der Drucker „Gibt-es-nicht“ ist nicht eingerichtet. Bitte die Druckereinstellung prüfen."
    )


@pytest.mark.cups
@pytest.mark.usefixtures("cups_pdf_queue")
def test_unknown_job_is_reported() -> None:
    with pytest.raises(PrintError, match="ist CUPS nicht bekannt"):
        job_status(2**30)


def closed_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends


def test_cups_down_is_reported_in_german() -> None:
    # A CUPS server address where nothing listens stands in for a stopped scheduler.
    server = CupsServer("127.0.0.1", closed_loopback_port())
    with pytest.raises(PrintError) as refused:
        print_pdf(b"%PDF-1.4", "Tresen-PDF", "x", server=server)
    assert refused.value.failure is PrintFailure.CUPS_DOWN
    assert "Der Druckdienst (CUPS) ist nicht erreichbar" in str(refused.value)


def test_stopped_and_rejecting_printers_are_named_with_the_reason() -> None:
    stopped = printer_problem(
        "A4",
        {
            "printer-state": 5,
            "printer-state-message": "Papierstau",
            "printer-state-reasons": ["media-jam-error"],
        },
    )
    assert stopped is not None
    assert str(stopped) == "Der Drucker „A4“ ist angehalten: Papierstau"
    rejecting = printer_problem(
        "Bon", {"printer-state": 3, "printer-is-accepting-jobs": False, "printer-state-reasons": ["paused"]}
    )
    assert rejecting is not None
    assert rejecting.failure is PrintFailure.NOT_ACCEPTING
    assert "paused" in str(rejecting)
    assert printer_problem("A4", {"printer-state": 3, "printer-is-accepting-jobs": True}) is None


def test_wait_for_job_stops_at_the_deadline_on_an_injected_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    seen: list[int] = []

    def pending(job_id: int, server: CupsServer | None = None) -> JobStatus:  # noqa: ARG001  (job_status's signature)
        seen.append(job_id)
        return JobStatus(job_id, JobState.PENDING, ())

    monkeypatch.setattr("devices.printing.job_status", pending)
    status = wait_for_job(
        7,
        timeout=1.0,
        poll_interval=0.25,
        clock=lambda: now[0],
        sleep=lambda seconds: now.__setitem__(0, now[0] + seconds),
    )
    assert status.state is JobState.PENDING
    assert not status.succeeded
    assert len(seen) == 5  # t = 0, 0.25, 0.5, 0.75, 1.0


@pytest.mark.cups
@pytest.mark.poppler
def test_print_cli(
    cups_pdf_queue: str, job_title: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from devices.cli_print import register

    template = TEMPLATES["abholschein"]
    path = tmp_path / f"{job_title}.pdf"
    path.write_bytes(template.render(template.example()))
    parser = argparse.ArgumentParser(prog="tresen")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["print", str(path), "--printer", cups_pdf_queue])
    assert args.handler(args) == 0
    assert "an den Drucker übergeben" in capsys.readouterr().out
    text = run_pdftotext(wait_for_output(job_title))
    assert "Abholschein" in text
    assert "ABH-7Q4K-2M9P" in text
    assert "Erika Mustermann" in text
    assert "Quittung" not in text
