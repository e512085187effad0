"""`tresen central serve` and `tresen central seed`: run and fill the central reference service."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sync.kassenzeichen import DEFAULT_PREFIX

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from types import FrameType

    import uvicorn
    from fastapi import FastAPI
    from sqlalchemy.orm import Session

    from sync.central.display_config import DisplaySettings
    from sync.central.kiosk import KioskSlip

log = logging.getLogger(__name__)

DISPLAY_LANGUAGE_CODES = ("de", "en", "tr", "fr", "es", "ru")  # sync.central.display_texts, checked by a test

# uvicorn's bounds for a service on the office LAN: idle keep-alive connections close after 5 s
# (`sync.protocol.SERVER_KEEP_ALIVE_SECONDS`, which clients stay below), at
# most 2,000 connections at once (then 503), and a request line with headers of at most 16 KiB.
# Every desk holds a long poll open all day, so a process must hold its share of the city's desks
# with room for their pushes: 500 let two processes serve at most ~900 desks (bench/central_load.py).
MAX_CONNECTIONS = 2000
MAX_HEADER_BYTES = 16 * 1024


def default_db_url() -> str:
    import platformdirs

    data_dir = Path(platformdirs.user_data_dir("tresen"))
    return f"sqlite:///{data_dir / 'central.sqlite3'}"


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    slip_printer: Callable[[Path], Callable[[KioskSlip], object]] | None = None,
) -> None:
    """`slip_printer(folder)` makes the simulated kiosk's slip printer (`--slips`); the entry point
    hands it in, since the slip's template (`forms/`) sits above this layer."""
    central = subparsers.add_parser("central", help="zentraler Dienst (Referenzimplementierung)")
    commands = central.add_subparsers(dest="central_command", required=True, metavar="BEFEHL")

    serve = commands.add_parser("serve", help="zentralen Dienst starten")
    serve.add_argument("--db", default=None, help="Datenbank-URL (sqlite:///… oder postgresql+psycopg://…)")
    serve.add_argument("--host", default="127.0.0.1", help="Adresse (Standard: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8470, help="Port (Standard: 8470)")
    serve.add_argument(
        "--kiosk", metavar="DIENSTSTELLE", help="simulierten Kiosk für diese Dienststelle starten"
    )
    if slip_printer is not None:
        serve.add_argument(
            "--slips",
            type=Path,
            metavar="ORDNER",
            help="Wartescheine des simulierten Kiosks als PDF (mit QR-Code) in diesen Ordner schreiben",
        )
    serve.set_defaults(slip_printer=slip_printer)
    serve.add_argument(
        "--kassenzeichen-prefix",
        type=_kassenzeichen_prefix,
        default=DEFAULT_PREFIX,
        metavar="ZIFFERN",
        help=f"Präfix der Kassenzeichen, 2 bis 8 Ziffern der Stadtkasse (Standard: {DEFAULT_PREFIX})",
    )
    serve.add_argument("--tls-cert", type=Path, help="Serverzertifikat (PEM); ohne: http nur auf 127.0.0.1")
    serve.add_argument("--tls-key", type=Path, help="privater Schlüssel des Serverzertifikats (PEM)")
    serve.add_argument("--tls-ca", type=Path, help="CA-Datei, mit der der simulierte Kiosk prüft")

    tls = commands.add_parser(
        "tls", help="eigene CA und Serverzertifikat für TLS erzeugen oder das Serverzertifikat erneuern"
    )
    tls.add_argument(
        "--out",
        type=Path,
        required=True,
        help="Ordner der CA (ca.pem, ca-key.pem) und des Serverzertifikats (server.pem, server-key.pem)",
    )
    tls.add_argument(
        "--host",
        action="append",
        default=[],
        help="Name oder IP der Zentrale (mehrfach; beim Erneuern ohne: die des bisherigen Zertifikats)",
    )
    tls.add_argument(
        "--ca-key",
        type=Path,
        help="Schlüssel der CA beim Erneuern, wenn er nicht im Ordner liegt (z. B. auf einem Datenträger "
        "der Administration)",
    )
    tls.add_argument(
        "--renew",
        action="store_true",
        help="nur das Serverzertifikat von derselben CA erneuern (die Arbeitsplätze behalten ihre CA-Datei)",
    )
    tls.set_defaults(handler=tls_command)
    serve.set_defaults(handler=serve_command)

    seed = commands.add_parser("seed", help="einen Beispieltag anlegen")
    seed.add_argument("--db", default=None, help="Datenbank-URL (sqlite:///… oder postgresql+psycopg://…)")
    seed.add_argument("--date", type=_parse_day, default=date.today(), help="Tag im Format JJJJ-MM-TT")
    seed.add_argument("--appointments", type=int, default=150, help="Anzahl Termine (Standard: 150)")
    seed.add_argument("--waiting", type=int, default=8, help="wartende Nummern zu Beginn (Standard: 8)")
    seed.add_argument("--seed", type=int, default=0, help="Zufallsstartwert")
    seed.set_defaults(handler=seed_command)

    code = commands.add_parser("enroll-code", help="Einmal-Code zum Einrichten eines Arbeitsplatzes")
    code.add_argument("--db", default=None, help="Datenbank-URL")
    code.add_argument("--office", required=True, help="Dienststellen-ID")
    code.add_argument("--desk", default=None, help="Schalter-ID (sonst jeder Schalter der Dienststelle)")
    code.set_defaults(handler=enroll_code_command)

    admin = commands.add_parser("admin-token", help="kurzlebiges Token für Administratoren (30 min)")
    admin.add_argument("--db", default=None, help="Datenbank-URL")
    admin.add_argument("--minutes", type=int, default=30, help="Gültigkeit in Minuten (Standard: 30)")
    admin.set_defaults(handler=admin_token_command)

    token = commands.add_parser(
        "token", help="Zugang für Kiosk, Buchungssystem, Wartebereichsanzeige oder Fototerminal"
    )
    token.add_argument("--db", default=None, help="Datenbank-URL")
    token.add_argument(
        "--kind",
        required=True,
        choices=("kiosk", "booking", "display", "capture"),
        help="Art des Zugangs (capture: Fototerminal)",
    )
    token.add_argument("--office", required=True, help="Dienststellen-ID")
    token.add_argument("--label", default="", help="Bezeichnung, z. B. Kiosk Eingang")
    token.set_defaults(handler=token_command)

    display = commands.add_parser(
        "display-config",
        help="Aufrufanzeige einer Dienststelle einstellen (ohne Optionen: die Einstellung zeigen)",
    )
    display.add_argument("--db", default=None, help="Datenbank-URL")
    display.add_argument("--office", required=True, help="Dienststellen-ID")
    display.add_argument("--groups", help="nur diese Gruppen (Nummernpräfixe, z. B. A,B); leer: alle Gruppen")
    display.add_argument("--calls", type=int, help="Anzahl der gezeigten Aufrufe (1–12)")
    display.add_argument("--columns", type=int, help="Spalten der Aufrufe (1–3)")
    display.add_argument(
        "--languages",
        help="Sprachen im Wechsel, z. B. de,en,tr (Deutsch steht immer vorn; angeboten: "
        + ", ".join(DISPLAY_LANGUAGE_CODES)
        + ")",
    )
    display.add_argument("--rotate-seconds", type=int, help="Sekunden je Sprache (1–300)")
    display.set_defaults(handler=display_config_command)

    revoke = commands.add_parser(
        "revoke", help="einen Arbeitsplatz sperren (Schlüssel verloren oder ersetzt)"
    )
    revoke.add_argument("--db", default=None, help="Datenbank-URL")
    revoke.add_argument("--workstation", required=True, help="Arbeitsplatz-ID (ws-…)")
    revoke.set_defaults(handler=revoke_command)

    pin = commands.add_parser(
        "clerk-pin", help="PIN einer Person setzen (liest die PIN von der Standardeingabe)"
    )
    pin.add_argument("--db", default=None, help="Datenbank-URL")
    pin.add_argument("--clerk", required=True, help="Sachbearbeiter-ID")
    pin.set_defaults(handler=clerk_pin_command)


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"kein gültiges Datum: {text!r} (erwartet JJJJ-MM-TT)") from None


def _kassenzeichen_prefix(text: str) -> str:
    if not (text.isascii() and text.isdigit() and 2 <= len(text) <= 8):
        raise argparse.ArgumentTypeError("das Präfix der Kassenzeichen sind 2 bis 8 Ziffern")
    return text


def _prepare_sqlite_dir(db_url: str) -> None:
    if db_url.startswith("sqlite:///"):
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def serve_command(args: argparse.Namespace) -> int:
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from sync.central.app import create_app
    from sync.central.connections import bounded_protocol
    from sync.central.heap import ServingHeap
    from sync.protocol import SERVER_KEEP_ALIVE_SECONDS
    from sync.transport_security import is_loopback, tls_verification

    tls = args.tls_cert is not None or args.tls_key is not None
    if tls and not (args.tls_cert and args.tls_key):
        print("Für TLS bitte --tls-cert und --tls-key angeben.", file=sys.stderr)
        return 2
    if not tls and not is_loopback(args.host):
        print(
            f"Ohne TLS lauscht die Zentrale nur auf diesem Rechner (127.0.0.1), nicht auf {args.host}: "
            "bitte --tls-cert und --tls-key angeben (tresen central tls erzeugt sie).",
            file=sys.stderr,
        )
        return 2
    db_url = args.db or default_db_url()
    _prepare_sqlite_dir(db_url)
    try:
        app = create_app(db_url, kassenzeichen_prefix=args.kassenzeichen_prefix)
    except SQLAlchemyError as error:
        print(f"Datenbank nicht erreichbar: {type(error).__name__}", file=sys.stderr)
        return 2
    scheme = "https" if tls else "http"
    kiosk = None
    if args.kiosk:
        from sync.central.kiosk import kiosk_for

        kiosk = kiosk_for(
            app.state.store,
            f"{scheme}://{args.host}:{args.port}",
            args.kiosk,
            verify=tls_verification(args.tls_ca),
            print_slip=args.slip_printer(args.slips) if getattr(args, "slips", None) else None,
        )
    print(f"Zentraler Dienst: {scheme}://{args.host}:{args.port}/api/v1 (OpenAPI: /openapi.json)")
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level="info",
        ssl_certfile=str(args.tls_cert) if tls else None,
        ssl_keyfile=str(args.tls_key) if tls else None,
        timeout_keep_alive=SERVER_KEEP_ALIVE_SECONDS,
        limit_concurrency=MAX_CONNECTIONS,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        http=bounded_protocol(),  # per-client connections and the time to send a request head
        loop="uvloop",  # less CPU per request than asyncio's loop (docs/architecture.md)
    )
    server = _StreamClosingServer(config, app)
    heap = ServingHeap().start()
    if kiosk is not None:
        kiosk.start()  # its first ticket comes after a random wait; until the server listens it retries
    try:
        server.run()
    finally:
        if kiosk is not None:
            kiosk.stop()
        heap.stop()
    return 0


def seed_command(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from sync.central.seed import generate_day, seed_central
    from sync.central.store import CentralStore

    db_url = args.db or default_db_url()
    _prepare_sqlite_dir(db_url)
    day = generate_day(args.date, seed=args.seed, appointments=args.appointments, waiting=args.waiting)
    try:
        central = CentralStore(db_url)
        central.create_schema()
        with central.write() as session:
            written = seed_central(session, day)
        central.dispose()
    except SQLAlchemyError as error:
        print(f"Datenbank nicht erreichbar: {type(error).__name__}", file=sys.stderr)
        return 2
    counts = f"{len(day.appointments)} Termine, {len(day.tickets)} wartende Nummern"
    print(f"{args.date:%d.%m.%Y}: {written} Einträge angelegt ({counts}, {len(day.offices)} Dienststellen)")
    return 0


def tls_command(args: argparse.Namespace) -> int:
    from sync.central import tls

    out: Path = args.out
    try:
        if args.renew:
            files, server = tls.renew_server_certificate(out, args.host, ca_key=args.ca_key)
        elif not args.host:
            print("Bitte mit --host den Namen oder die IP der Zentrale angeben.", file=sys.stderr)
            return 2
        else:
            files = tls.make_tls_files(out, args.host)
            server = None
    except tls.CaExists:
        print(
            f"In {out} liegt schon eine CA. Zum Erneuern des Serverzertifikats --renew angeben; eine neue "
            "CA müsste jeder Arbeitsplatz neu bekommen (neuer Ordner).",
            file=sys.stderr,
        )
        return 2
    except tls.CaMissing:
        print(
            f"Erneuern nicht möglich: in {out} fehlt die CA (ca.pem) oder ihr Schlüssel (ca-key.pem, oder "
            "die Datei von --ca-key), oder "
            "eine der Dateien ist nicht lesbar. Ohne den Schlüssel der CA kann kein Zertifikat erneuert "
            "werden, dem die Arbeitsplätze weiter vertrauen; eine neue CA heißt: jeder Arbeitsplatz braucht "
            "die neue CA-Datei.",
            file=sys.stderr,
        )
        return 2
    except tls.CaKeyMismatch:
        print(f"Erneuern nicht möglich: ca-key.pem in {out} gehört nicht zu ca.pem.", file=sys.stderr)
        return 2
    except tls.CaExpired:
        print(
            f"Erneuern nicht möglich: die CA in {out} ist abgelaufen. Bitte eine neue CA erzeugen und an "
            "jeden Arbeitsplatz verteilen.",
            file=sys.stderr,
        )
        return 2
    except ValueError:
        print("Bitte mit --host den Namen oder die IP der Zentrale angeben.", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"Ordner {out} nicht beschreibbar: {type(error).__name__}", file=sys.stderr)
        return 2
    if server is None:
        print(f"CA (für tresen enroll --ca-file): {files.ca}")
        print(
            f"Schlüssel der CA (nur zum Erneuern; am besten getrennt von der Zentrale aufbewahren): "
            f"{files.ca_key}"
        )
    else:
        print(
            f"Serverzertifikat erneuert, gültig bis {server.not_valid_after_utc:%d.%m.%Y}; die CA bleibt "
            f"{files.ca}. Bitte die Zentrale neu starten."
        )
    print(f"Zertifikat: {files.certificate}  Schlüssel: {files.key}")
    return 0


def enroll_code_command(args: argparse.Namespace) -> int:
    from sync.central import credentials

    code = _with_store(
        args.db or default_db_url(),
        lambda session, now: credentials.create_enrollment_code(session, args.office, args.desk, now),
    )
    if code is None:
        return 2
    print(code)
    print(
        f"Gültig {credentials.ENROLLMENT_CODE_LIFETIME.total_seconds() / 3600:.0f} Stunden, einmal.",
        file=sys.stderr,
    )
    return 0


def admin_token_command(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from sync.central import credentials

    lifetime = timedelta(minutes=max(1, min(args.minutes, 24 * 60)))
    token = _with_store(
        args.db or default_db_url(),
        lambda session, now: credentials.create_token(
            session, credentials.TokenKind.ADMIN, None, now, lifetime=lifetime, label="admin-token"
        ),
    )
    if token is None:
        return 2
    print(token)
    return 0


def token_command(args: argparse.Namespace) -> int:
    from sync.central import credentials

    kind = credentials.TokenKind(args.kind)
    token = _with_store(
        args.db or default_db_url(),
        lambda session, now: credentials.create_token(session, kind, args.office, now, label=args.label),
    )
    if token is None:
        return 2
    print(token)
    return 0


def revoke_command(args: argparse.Namespace) -> int:
    from sync.central import credentials

    def revoke(session: Session, now: datetime) -> str:
        credentials.revoke_workstation(session, args.workstation, now)
        return str(args.workstation)

    if _with_store(args.db or default_db_url(), revoke) is None:
        return 2
    print(f"Arbeitsplatz {args.workstation} gesperrt.")
    return 0


def clerk_pin_command(args: argparse.Namespace) -> int:
    from sync import pins
    from sync.central import credentials

    pin = sys.stdin.readline().rstrip("\n")
    if not pins.MIN_PIN_LENGTH <= len(pin) <= pins.MAX_PIN_LENGTH:
        print(
            f"Die PIN muss {pins.MIN_PIN_LENGTH} bis {pins.MAX_PIN_LENGTH} Zeichen lang sein.",
            file=sys.stderr,
        )
        return 2

    def set_pin(session: Session, _now: datetime) -> str:
        credentials.set_clerk_pin(session, args.clerk, pin)
        return str(args.clerk)

    done = _with_store(args.db or default_db_url(), set_pin)
    if done is None:
        return 2
    print(f"PIN für {args.clerk} gesetzt.")
    return 0


def display_config_command(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from sync.central import display_config

    changes: dict[str, object] = {}
    if args.groups is not None:
        changes["groups"] = [group.strip() for group in args.groups.split(",") if group.strip()]
    if args.calls is not None:
        changes["calls"] = args.calls
    if args.columns is not None:
        changes["columns"] = args.columns
    if args.languages is not None:
        changes["languages"] = [code.strip() for code in args.languages.split(",") if code.strip()]
    if args.rotate_seconds is not None:
        changes["rotate_seconds"] = args.rotate_seconds

    def apply_changes(session: Session, now: datetime) -> str:
        from sync.central.errors import NotFound
        from sync.central.store import Office

        if session.get(Office, args.office) is None:
            raise NotFound("unknown office")
        current = display_config.read_settings(session, args.office)
        if changes:
            wanted = display_config.DisplaySettings.model_validate(current.model_dump() | changes)
            current = display_config.write_settings(session, args.office, wanted, now)
        return _describe_display(current)

    try:
        shown = _with_store(args.db or default_db_url(), apply_changes)
    except ValidationError as error:
        fields = ", ".join(sorted({str(part["loc"][0]) for part in error.errors() if part["loc"]}))
        print(f"Ungültige Einstellung: {fields}", file=sys.stderr)
        return 2
    if shown is None:
        return 2
    print(shown)
    return 0


def _describe_display(settings: DisplaySettings) -> str:
    groups = ",".join(settings.groups) or "alle"
    return (
        f"Gruppen: {groups}; Aufrufe: {settings.calls} in {settings.columns} Spalte(n); "
        f"Sprachen: {','.join(settings.languages)} je {settings.rotate_seconds} s"
    )


def _with_store(db_url: str, work: Callable[[Session, datetime], str | None]) -> str | None:
    """Run one administrator's change in a transaction; a refusal or an unreachable database is
    one German line on stderr and None."""
    from sqlalchemy.exc import SQLAlchemyError

    from sync.central.errors import CentralRefusal
    from sync.central.store import CentralStore
    from sync.clock import utc_now

    _prepare_sqlite_dir(db_url)
    try:
        central = CentralStore(db_url)
        try:
            central.create_schema()
            with central.write() as session:
                return work(session, utc_now())
        finally:
            central.dispose()
    except CentralRefusal as refusal:
        print(f"Abgelehnt: {refusal.reason}", file=sys.stderr)
    except SQLAlchemyError as error:
        print(f"Datenbank nicht erreichbar: {type(error).__name__}", file=sys.stderr)
    return None


def _StreamClosingServer(config: uvicorn.Config, app: FastAPI) -> uvicorn.Server:  # noqa: N802 - a class, made late
    """uvicorn's server that ends the waiting-room streams first on Ctrl+C / SIGTERM: it would
    otherwise wait for those open responses until each ends by itself."""
    import uvicorn

    from sync.central.display import close_streams

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            close_streams(app)
            super().handle_exit(sig, frame)

    return Server(config)
