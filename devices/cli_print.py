"""`tresen print FILE.pdf [--printer NAME]`: print a PDF through CUPS and follow the job."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

EXIT_OK = 0
EXIT_FAILED = 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = subparsers.add_parser("print", help="PDF über CUPS drucken")
    command.add_argument("file", type=Path, metavar="DATEI.pdf")
    command.add_argument("--printer", metavar="NAME", help="CUPS-Drucker (Standard: CUPS-Standarddrucker)")
    command.add_argument("--copies", type=int, default=1, metavar="N")
    command.add_argument("--wait", type=float, default=30.0, metavar="SEK", help="auf den Auftrag warten")
    command.set_defaults(handler=run_print)


def run_print(args: argparse.Namespace) -> int:
    from devices.printing import PrintError, default_printer, print_file, wait_for_job

    try:
        printer = args.printer or default_printer()
        if printer is None:
            print("Kein Drucker angegeben und kein CUPS-Standarddrucker eingerichtet.", file=sys.stderr)
            return EXIT_FAILED
        job = print_file(args.file, printer, copies=args.copies)
        print(f"Druckauftrag {job.job_id} an „{printer}“ gesendet.")
        status = wait_for_job(job.job_id, args.wait)
    except OSError as error:
        print(f"Datei nicht lesbar: {args.file} ({error.strerror})", file=sys.stderr)
        return EXIT_FAILED
    except PrintError as error:
        print(error, file=sys.stderr)
        return EXIT_FAILED
    print(status.message)
    return EXIT_OK if status.succeeded else EXIT_FAILED
