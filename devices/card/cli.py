"""`tresen card readers` and `tresen card read`: the card stack for administrators and support.

`card read` prints the chip's personal data because the user asked for exactly that; nothing of it
goes to the log.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from devices.card.access import AccessKey
    from devices.card.errors import CardError
    from devices.card.service import DocumentRead, ReadProgress
    from devices.card.trust import TrustStore

EXIT_OK = 0
EXIT_CARD_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_VERIFIED = 3
EXIT_VERIFICATION_FAILED = 4

VERDICT_LABELS = {
    "VERIFIED": "ECHT – Chipdaten sind unverändert und von einer vertrauenswürdigen Stelle signiert",
    "NOT_VERIFIED": "NICHT VERIFIZIERT – Echtheit konnte nicht geprüft werden",
    "FAILED": "FEHLGESCHLAGEN – Chipdaten sind verändert oder die Signatur ist ungültig",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    card = subparsers.add_parser("card", help="Ausweise und Pässe auslesen (Kartenleser)")
    commands = card.add_subparsers(dest="card_command", required=True, metavar="BEFEHL")

    readers = commands.add_parser("readers", help="angeschlossene Kartenleser anzeigen")
    readers.set_defaults(handler=run_readers)

    read = commands.add_parser("read", help="Chip eines Ausweises oder Passes auslesen und prüfen")
    read.add_argument("--reader", metavar="NAME", help="Name des Lesers (Standard: erster Leser mit Karte)")
    key = read.add_mutually_exclusive_group(required=True)
    key.add_argument("--can", metavar="NNNNNN", help="6-stellige Zugangsnummer (CAN) auf der Vorderseite")
    key.add_argument("--mrz", metavar="ZEILEN", help="maschinenlesbare Zone (Zeilen durch \\n getrennt)")
    key.add_argument("--doc", metavar="N", help="Dokumentnummer (mit --birth und --expiry)")
    read.add_argument("--birth", metavar="JJMMTT", help="Geburtsdatum wie in der MRZ")
    read.add_argument("--expiry", metavar="JJMMTT", help="Ablaufdatum wie in der MRZ")
    read.add_argument(
        "--trust", metavar="ORDNER", type=Path, help="Ordner mit CSCA-Zertifikaten/Masterlisten"
    )
    read.add_argument("--json", action="store_true", help="Ergebnis als JSON ausgeben")
    read.add_argument("--photo-out", metavar="DATEI", type=Path, help="Lichtbild in diese Datei schreiben")
    read.add_argument("--block-size", type=int, metavar="BYTES", help="Blockgröße für READ BINARY")
    read.add_argument("--wait", type=float, default=10.0, metavar="SEK", help="auf die Karte warten (Sek.)")
    read.set_defaults(handler=run_read)


def run_readers(_args: argparse.Namespace) -> int:
    from devices.card.errors import CardError
    from devices.card.transport import list_readers

    try:
        names = list_readers()
    except CardError as error:
        _print_error(error)
        return EXIT_CARD_ERROR
    if not names:
        print("Kein Kartenleser angeschlossen.")
        return EXIT_CARD_ERROR
    for name in names:
        print(name)
    return EXIT_OK


def access_key_from(args: argparse.Namespace) -> AccessKey:
    """The access key the options name; raises CardError (InvalidAccessKey) on bad input."""
    from devices.card.access import CanKey, MrzKey

    if args.can is not None:
        return CanKey(args.can)
    if args.mrz is not None:
        return MrzKey.from_mrz(args.mrz.replace("\\n", "\n"))
    if not args.birth or not args.expiry:
        raise _UsageError("--doc braucht --birth und --expiry")
    return MrzKey(args.doc, args.birth, args.expiry)


class _UsageError(Exception):
    """Options that argparse cannot check on its own."""


def run_read(args: argparse.Namespace) -> int:
    from devices.card.errors import CardError
    from devices.card.service import read_document

    try:
        key = access_key_from(args)
    except _UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    except CardError as error:
        print(error.user_message, file=sys.stderr)
        return EXIT_USAGE
    try:
        trust = _load_trust(args.trust)
        result = read_document(
            args.reader,
            key,
            _print_progress if not args.json and sys.stderr.isatty() else None,
            trust=trust,
            block_size=args.block_size,
            wait_for_card=args.wait,
        )
    except CardError as error:
        _end_progress_line()
        _print_error(error, prefix="Fehler: ")
        return EXIT_CARD_ERROR
    _end_progress_line()
    if args.photo_out is not None and result.face is not None:
        args.photo_out.write_bytes(result.face.data)
    print(
        json.dumps(document_as_json(result), ensure_ascii=False, indent=2)
        if args.json
        else format_text(result)
    )
    verdict = _verdict_name(result)
    if verdict == "VERIFIED":
        return EXIT_OK
    return EXIT_NOT_VERIFIED if verdict == "NOT_VERIFIED" else EXIT_VERIFICATION_FAILED


def _print_error(error: CardError, *, prefix: str = "") -> None:
    """The clerk's sentence, then the technical cause for whoever supports the workstation
    (PC/SC codes and protocol details; CardError details carry no personal data)."""
    print(f"{prefix}{error.user_message}", file=sys.stderr)
    if error.detail:
        print(f"  (technisch: {error.detail})", file=sys.stderr)


def _load_trust(folder: Path | None) -> TrustStore | None:
    if folder is None:
        return None
    from devices.card.trust import TrustStore

    return TrustStore.from_folder(folder)


class _ProgressLine:
    """Whether a progress line stands on the terminal, to be cleared before the result is printed."""

    shown = False


def _print_progress(progress: ReadProgress) -> None:
    total = f"/{progress.total}" if progress.total is not None and progress.total > 1 else ""
    done = f" {progress.done}{total} Bytes" if total else ""
    print(f"\r{progress.step:<4}{done:<24}", end="", file=sys.stderr, flush=True)
    _ProgressLine.shown = True


def _end_progress_line() -> None:
    if _ProgressLine.shown:
        print("\r" + " " * 30 + "\r", end="", file=sys.stderr, flush=True)
        _ProgressLine.shown = False


def _verdict_name(result: DocumentRead) -> str:
    verdict = result.verification.verdict
    return str(getattr(verdict, "name", verdict))


def _german_date(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def format_text(result: DocumentRead) -> str:
    mrz = result.mrz
    lines = [
        f"Dokumentart:         {mrz.document_code} ({mrz.format})",
        f"Ausstellerstaat:     {mrz.issuing_state}",
        f"Dokumentnummer:      {mrz.document_number}",
        f"Name:                {mrz.surname}",
        f"Vornamen:            {mrz.given_names}",
        f"Staatsangehörigkeit: {mrz.nationality}",
        f"Geburtsdatum:        {_german_date(mrz.birth_date)}",
        f"Geschlecht:          {mrz.sex}",
        f"Gültig bis:          {_german_date(mrz.expiry_date)}",
        f"MRZ-Prüfziffern:     {'in Ordnung' if mrz.check_digits_ok else 'FEHLERHAFT'}",
    ]
    face = result.face
    if face is None:
        lines.append("Lichtbild:           keines gelesen")
    else:
        lines.append(f"Lichtbild:           {face.mime}, {face.width}×{face.height}, {len(face.data)} Bytes")
    lines += ["", f"Echtheit (passive Authentisierung): {VERDICT_LABELS.get(_verdict_name(result), '?')}"]
    for step in result.verification.steps:
        mark = "ok" if step.ok else ("NEIN" if step.ok is False else "offen")  # None: not checked
        detail = f" – {step.detail}" if step.detail else ""
        lines.append(f"  [{mark:<5}] {step.name}{detail}")
    figures = result.figures
    lines += [
        "",
        f"Zugriff: {result.access_protocol}; {figures.apdus} APDUs, {figures.bytes_sent} Bytes gesendet, "
        f"{figures.bytes_received} Bytes empfangen",
        f"Zeit: {figures.wall_seconds * 1000:.0f} ms gesamt, davon Karte "
        f"{figures.card_seconds * 1000:.0f} ms, Rechner {figures.host_seconds * 1000:.0f} ms",
    ]
    return "\n".join(lines)


def document_as_json(result: DocumentRead) -> dict[str, Any]:
    mrz = result.mrz
    mrz_fields = {
        name: (value.isoformat() if isinstance(value, date) else value)
        for name, value in _fields(mrz).items()
    }
    face = result.face
    return {
        "mrz": mrz_fields,
        "face": None
        if face is None
        else {"mime": face.mime, "width": face.width, "height": face.height, "bytes": len(face.data)},
        "verification": {
            "verdict": _verdict_name(result),
            "steps": [{"name": s.name, "ok": s.ok, "detail": s.detail} for s in result.verification.steps],
        },
        "access_protocol": result.access_protocol,
        "figures": asdict(result.figures),
    }


def _fields(value: object) -> dict[str, Any]:
    from dataclasses import fields, is_dataclass

    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    return dict(vars(value))
