"""`tresen central serve` and `tresen central seed`: run and fill the central reference service."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import FrameType

    import uvicorn
    from fastapi import FastAPI

log = logging.getLogger(__name__)


def default_db_url() -> str:
    import platformdirs

    data_dir = Path(platformdirs.user_data_dir("tresen"))
    return f"sqlite:///{data_dir / 'central.sqlite3'}"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    central = subparsers.add_parser("central", help="zentraler Dienst (Referenzimplementierung)")
    commands = central.add_subparsers(dest="central_command", required=True, metavar="BEFEHL")

    serve = commands.add_parser("serve", help="zentralen Dienst starten")
    serve.add_argument("--db", default=None, help="Datenbank-URL (sqlite:///… oder postgresql+psycopg://…)")
    serve.add_argument("--host", default="127.0.0.1", help="Adresse (Standard: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8470, help="Port (Standard: 8470)")
    serve.add_argument(
        "--kiosk", metavar="DIENSTSTELLE", help="simulierten Kiosk für diese Dienststelle starten"
    )
    serve.set_defaults(handler=serve_command)

    seed = commands.add_parser("seed", help="einen Beispieltag anlegen")
    seed.add_argument("--db", default=None, help="Datenbank-URL (sqlite:///… oder postgresql+psycopg://…)")
    seed.add_argument("--date", type=_parse_day, default=date.today(), help="Tag im Format JJJJ-MM-TT")
    seed.add_argument("--appointments", type=int, default=150, help="Anzahl Termine (Standard: 150)")
    seed.add_argument("--waiting", type=int, default=8, help="wartende Nummern zu Beginn (Standard: 8)")
    seed.add_argument("--seed", type=int, default=0, help="Zufallsstartwert")
    seed.set_defaults(handler=seed_command)


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"kein gültiges Datum: {text!r} (erwartet JJJJ-MM-TT)") from None


def _prepare_sqlite_dir(db_url: str) -> None:
    if db_url.startswith("sqlite:///"):
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def serve_command(args: argparse.Namespace) -> int:
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from sync.central.app import create_app

    db_url = args.db or default_db_url()
    _prepare_sqlite_dir(db_url)
    try:
        app = create_app(db_url)
    except SQLAlchemyError as error:
        print(f"Datenbank nicht erreichbar: {type(error).__name__}", file=sys.stderr)
        return 2
    kiosk = None
    if args.kiosk:
        from sync.central.kiosk import KioskSimulator

        kiosk = KioskSimulator(f"http://{args.host}:{args.port}", args.kiosk)
    print(f"Zentraler Dienst: http://{args.host}:{args.port}/api/v1 (OpenAPI: /openapi.json)")
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="info")
    server = _StreamClosingServer(config, app)
    if kiosk is not None:
        kiosk.start()  # its first ticket comes after a random wait; until the server listens it retries
    try:
        server.run()
    finally:
        if kiosk is not None:
            kiosk.stop()
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
