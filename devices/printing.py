"""Printing PDFs through CUPS (pycups): submit a job, follow it, say plainly what went wrong.

CUPS calls a job "completed" once it has handed the data to the printer's backend; for a network
printer that does not prove paper came out, so `JobStatus.message` says "an den Drucker übergeben".
A printer that is missing, stopped or rejecting jobs is reported before a job is sent; the caller
keeps the document for a reprint. pycups blocks: call these functions from a thread worker.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import TYPE_CHECKING, Any, TypeVar

import cups

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

T = TypeVar("T")

IPP_PRINTER_STOPPED = 5


class PrintFailure(Enum):
    CUPS_DOWN = "Der Druckdienst (CUPS) ist nicht erreichbar. Bitte die IT verständigen."
    NO_PRINTER = "Der Drucker „{printer}“ ist nicht eingerichtet. Bitte die Druckereinstellung prüfen."
    PRINTER_STOPPED = "Der Drucker „{printer}“ ist angehalten: {reason}"
    NOT_ACCEPTING = "Der Drucker „{printer}“ nimmt keine Aufträge an: {reason}"
    JOB_REFUSED = "CUPS hat den Druckauftrag abgelehnt: {reason}"
    NO_SUCH_JOB = "Der Druckauftrag {job_id} ist CUPS nicht bekannt."


class PrintError(RuntimeError):
    """Printing failed; `str()` is the German message, `failure` the reason."""

    def __init__(self, failure: PrintFailure, **details: object) -> None:
        super().__init__(failure.value.format(**details))
        self.failure = failure


class JobState(IntEnum):
    """IPP job states (RFC 8011 §5.3.7)."""

    PENDING = 3
    HELD = 4
    PROCESSING = 5
    STOPPED = 6
    CANCELED = 7
    ABORTED = 8
    COMPLETED = 9

    @property
    def finished(self) -> bool:
        return self >= JobState.CANCELED


JOB_STATE_MESSAGES = {
    JobState.PENDING: "wartet auf den Drucker",
    JobState.HELD: "angehalten (wartet auf Freigabe)",
    JobState.PROCESSING: "wird gedruckt",
    JobState.STOPPED: "unterbrochen – bitte den Drucker prüfen",
    JobState.CANCELED: "abgebrochen",
    JobState.ABORTED: "fehlgeschlagen",
    JobState.COMPLETED: "an den Drucker übergeben",
}


@dataclass(frozen=True)
class JobStatus:
    job_id: int
    state: JobState
    reasons: tuple[str, ...]

    @property
    def message(self) -> str:
        return f"Druckauftrag {self.job_id}: {JOB_STATE_MESSAGES[self.state]}"

    @property
    def succeeded(self) -> bool:
        return self.state is JobState.COMPLETED


@dataclass(frozen=True)
class PrintJob:
    job_id: int
    printer: str


@dataclass(frozen=True)
class CupsServer:
    """Where CUPS listens; the default (None) is the local scheduler's socket."""

    host: str | None = None
    port: int | None = None

    def connect(self) -> cups.Connection:
        try:
            if self.host is None:
                return cups.Connection()
            return cups.Connection(host=self.host, port=self.port or 631)
        except RuntimeError:
            raise PrintError(PrintFailure.CUPS_DOWN) from None


def printer_problem(printer: str, attributes: dict[str, Any] | None) -> PrintError | None:
    """Why `printer` (its CUPS attributes, None if unknown) cannot take a job now, or None."""
    if attributes is None:
        return PrintError(PrintFailure.NO_PRINTER, printer=printer)
    reason = (
        attributes.get("printer-state-message")
        or ", ".join(r for r in attributes.get("printer-state-reasons", []) if r != "none")
        or "kein Grund angegeben"
    )
    if attributes.get("printer-state") == IPP_PRINTER_STOPPED:
        return PrintError(PrintFailure.PRINTER_STOPPED, printer=printer, reason=reason)
    if attributes.get("printer-is-accepting-jobs") is False:
        return PrintError(PrintFailure.NOT_ACCEPTING, printer=printer, reason=reason)
    return None


def list_printers(server: CupsServer | None = None) -> dict[str, dict[str, Any]]:
    connection = (server or CupsServer()).connect()
    return _call(connection.getPrinters)


def default_printer(server: CupsServer | None = None) -> str | None:
    connection = (server or CupsServer()).connect()
    name: str | None = _call(connection.getDefault)
    return name


def print_pdf(
    pdf: bytes, printer: str, title: str, *, copies: int = 1, server: CupsServer | None = None
) -> PrintJob:
    """Send a PDF to a CUPS queue; raises PrintError with a German message when it cannot go out."""
    connection = (server or CupsServer()).connect()
    attributes = _call(connection.getPrinters).get(printer)
    problem = printer_problem(printer, attributes)
    if problem is not None:
        raise problem
    if attributes is not None and "printer-is-accepting-jobs" not in attributes:
        # getPrinters leaves it out on some CUPS versions; ask the queue itself.
        problem = printer_problem(printer, _call(lambda: connection.getPrinterAttributes(printer)))
        if problem is not None:
            raise problem
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        # cups-filters' pdftops renders through poppler by default and drops the text layer of
        # fpdf2's embedded CID fonts; pdftocairo keeps it (a printed copy stays searchable, and the
        # cups-pdf tests can read it with pdftotext). Printers taking PDF directly ignore the option.
        options = {
            "copies": str(copies),
            "document-format": "application/pdf",
            "pdftops-renderer": "pdftocairo",
        }
        job_id = _call(lambda: connection.printFile(printer, file.name, title, options))
    return PrintJob(int(job_id), printer)


def print_file(path: Path, printer: str, *, copies: int = 1, server: CupsServer | None = None) -> PrintJob:
    return print_pdf(path.read_bytes(), printer, path.name, copies=copies, server=server)


def job_status(job_id: int, server: CupsServer | None = None) -> JobStatus:
    connection = (server or CupsServer()).connect()
    try:
        attributes = connection.getJobAttributes(
            job_id, requested_attributes=["job-state", "job-state-reasons"]
        )
    except cups.IPPError:
        raise PrintError(PrintFailure.NO_SUCH_JOB, job_id=job_id) from None
    except RuntimeError:
        raise PrintError(PrintFailure.CUPS_DOWN) from None
    reasons = attributes.get("job-state-reasons", ())
    return JobStatus(
        job_id, JobState(attributes["job-state"]), (reasons,) if isinstance(reasons, str) else tuple(reasons)
    )


def wait_for_job(
    job_id: int,
    timeout: float,
    server: CupsServer | None = None,
    *,
    poll_interval: float = 0.2,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> JobStatus:
    """Follow a job until CUPS finishes it or `timeout` seconds pass; returns the last status seen."""
    deadline = clock() + timeout
    while True:
        status = job_status(job_id, server)
        if status.state.finished or clock() >= deadline:
            return status
        sleep(poll_interval)


def _call(operation: Callable[[], T]) -> T:
    try:
        return operation()
    except cups.IPPError as error:
        status, message = error.args if len(error.args) == 2 else (0, str(error))
        raise PrintError(PrintFailure.JOB_REFUSED, reason=f"{message} (IPP {status:#06x})") from None
    except RuntimeError:
        raise PrintError(PrintFailure.CUPS_DOWN) from None
