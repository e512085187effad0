"""`tresen terminal-sim` (the capture simulator) and `tresen captures fetch` (for support).

`captures fetch` prints what was checked, never the image bytes; with `--out` it writes the items
as 0600 files into a 0700 folder the user names — biometric data, so delete them after use.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from devices.captures.checks import CheckReport
    from devices.captures.model import CaptureBundle
    from devices.captures.source import CaptureSource

EXIT_OK = 0
EXIT_CAPTURE_ERROR = 1
EXIT_USAGE = 2
EXIT_CHECKS_FAILED = 3
_EXTENSIONS = {"image/jpeg": "jpg", "image/jp2": "jp2", "image/png": "png", "image/x-wsq": "wsq"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = subparsers.add_parser(
        "terminal-sim", help="Simulator für Aufnahmegerät und Foto-Cloud (Tests, Demo, Support)"
    )
    sim.add_argument("--port", type=int, default=8470, metavar="P", help="TCP-Port (0: ein freier)")
    sim.add_argument("--host", default="127.0.0.1", help="Adresse (Standard: nur diese Maschine)")
    sim.add_argument("--seed", type=int, default=7, help="Startwert für die Beispielbilder")
    sim.set_defaults(handler=run_simulator)

    captures = subparsers.add_parser("captures", help="Aufnahmen (Lichtbild, Unterschrift, Finger) abrufen")
    commands = captures.add_subparsers(dest="captures_command", required=True, metavar="BEFEHL")
    fetch = commands.add_parser("fetch", help="eine Aufnahme abrufen, prüfen und anzeigen")
    where = fetch.add_mutually_exclusive_group(required=True)
    where.add_argument("--terminal", metavar="URL", help="Adresse des Aufnahmegeräts")
    where.add_argument("--cloud-code", metavar="TEXT", help="Inhalt des DataMatrix-Codes vom Fotodienst")
    fetch.add_argument("--code", metavar="C", help="Aufnahmecode des Aufnahmegeräts (mit --terminal)")
    fetch.add_argument(
        "--certificate", metavar="PEM", type=Path, required=True,
        help="Zertifikat des Aufnahmegeräts bzw. Fotodienstes (bei der Einrichtung hinterlegt)",
    )  # fmt: skip
    fetch.add_argument("--organisation-key", metavar="K", default="", help="Organisationsschlüssel (DVDV)")
    fetch.add_argument("--json", action="store_true", help="Ergebnis als JSON ausgeben")
    fetch.add_argument("--out", metavar="ORDNER", type=Path, help="Bilder in diesen Ordner schreiben (0600)")
    fetch.add_argument(
        "--acknowledge", action="store_true", help="Empfang bestätigen (das Aufnahmegerät löscht dann)"
    )
    fetch.set_defaults(handler=run_fetch)


def run_simulator(args: argparse.Namespace) -> int:
    import uvicorn

    from devices.captures.simulator import (
        certificate_folder,
        create_app,
        new_state,
        startup_lines,
        write_certificates,
    )
    from sync.serving import bind_loopback

    try:
        sock = bind_loopback(args.host, args.port)
    except OSError as error:
        print(f"Port {args.port} ist nicht verfügbar ({error.strerror}).", file=sys.stderr)
        return EXIT_USAGE
    url = f"http://{args.host}:{sock.getsockname()[1]}"
    state = new_state(url, seed=args.seed)
    folder = certificate_folder()
    config = uvicorn.Config(create_app(state), log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)

    def stop(_signum: int, _frame: object) -> None:
        server.should_exit = True  # before serving, serving ends as it starts

    # Until Ctrl+C or SIGTERM, whenever it comes: set before the start lines are printed (a reader
    # may signal as soon as it has them). While serving, uvicorn's own handlers shut it down
    # gracefully and then raise the signal once more, to this handler. Not a KeyboardInterrupt: one
    # raised inside asyncio's runner ended a loaded run by SIGINT (-2) instead of 0.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        for line in startup_lines(state, url, write_certificates(state, folder)):
            print(line)
        sys.stdout.flush()
        server.run(sockets=[sock])
    finally:
        sock.close()
        shutil.rmtree(folder, ignore_errors=True)
    return EXIT_OK


def run_fetch(args: argparse.Namespace) -> int:
    from devices.captures.checks import check_bundle
    from devices.captures.cloud import CloudSource
    from devices.captures.errors import CaptureError
    from devices.captures.terminal import TerminalSource
    from devices.captures.trust import TrustAnchor

    if args.terminal and not args.code:
        print("--terminal braucht --code.", file=sys.stderr)
        return EXIT_USAGE
    try:
        pem = args.certificate.read_bytes()
    except OSError as error:
        print(f"Zertifikat nicht lesbar: {error.strerror}", file=sys.stderr)
        return EXIT_USAGE
    source: CaptureSource
    try:
        trust = TrustAnchor.from_pem(pem)
        if args.terminal:
            source, code = TerminalSource(args.terminal, trust), args.code
        else:
            from devices.captures.barcode import parse_cloud_code

            code = args.cloud_code
            origin = parse_cloud_code(code).origin  # the cloud the printout names, pinned to --certificate
            source = CloudSource({origin: trust}, args.organisation_key or "support")
        bundle = source.fetch(code)
        report = check_bundle(bundle)
        if args.out is not None:
            write_items(bundle, args.out)
        if args.acknowledge:
            source.acknowledge(bundle)
    except CaptureError as error:
        print(error.user_message, file=sys.stderr)
        print(f"({error.reason.value})", file=sys.stderr)
        return EXIT_CAPTURE_ERROR
    if args.json:
        print(json.dumps(report_json(bundle, report), ensure_ascii=False, indent=2))
    else:
        print(f"Quelle: {bundle.source.value}, signiert von {bundle.signer}")
        for line in report.lines_de():
            print(line)
        print("Alle Prüfungen bestanden." if report.passed else "Prüfungen nicht bestanden.")
    return EXIT_OK if report.passed else EXIT_CHECKS_FAILED


def report_json(bundle: CaptureBundle, report: CheckReport) -> dict[str, object]:
    """Metadata and check results; no image bytes, no capture code, no key."""
    return {
        "source": bundle.source.value,
        "reference": bundle.reference,
        "bundle_sha256": bundle.bundle_sha256,
        "signer": bundle.signer,
        "captured_at": bundle.captured_at.isoformat() if bundle.captured_at else None,
        "available_until": bundle.available_until.isoformat() if bundle.available_until else None,
        "photo": {
            "media_type": bundle.photo.media_type, "sha256": bundle.photo.sha256, "size": bundle.photo.size,
        },
        "fingerprints": [{"position": f.position.value, "nfiq2": f.nfiq2} for f in bundle.fingerprints],
        "passed": report.passed,
        "checks": [
            {"check": r.check.value, "subject": r.subject, "status": r.status.value, "label": r.label_de,
             "detail": r.detail_de, "action": r.action_de}
            for r in report.results
        ],
    }  # fmt: skip


def write_items(bundle: CaptureBundle, folder: Path) -> list[Path]:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    items = [("photo", bundle.photo)]
    if bundle.signature_image is not None:
        items.append(("signature", bundle.signature_image))
    items += [(f"finger-{f.position.value}", f.item) for f in bundle.fingerprints]
    written = []
    for name, item in items:
        path = folder / f"{name}.{_EXTENSIONS.get(item.media_type, 'bin')}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(item.data)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry until the lead wires `register` into the `tresen` command."""
    parser = argparse.ArgumentParser(prog="tresen")
    register(parser.add_subparsers(dest="command", required=True, metavar="BEFEHL"))
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
