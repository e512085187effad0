"""`tresen demo` and `tresen run`: wire config, local store, sync engine and counter into the TUI.

Everything the clerk could get wrong at start-up (a malformed config file, an unreadable local
database, an unreachable central service) ends as one German sentence on stderr or in the status
bar — never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workstation.app import LoginChoices, Workplace
    from workstation.config import Config
    from workstation.db import LocalStore

log = logging.getLogger(__name__)

DEMO_WORKSTATION_ID = "ws-demo"
EXIT_USER_ERROR = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser(
        "demo", help="Vorführung: Zentrale, Beispieltag und Arbeitsplatz in einem Prozess"
    )
    demo.add_argument("--desk", help="Schalter-ID (Standard: erster Schalter des Bürgeramts)")
    demo.add_argument("--clerk", help="Sachbearbeiter-ID (Standard: erste Person des Bürgeramts)")
    demo.add_argument("--seed", type=int, default=0, help="Zufallsstartwert des Beispieltags")
    demo.add_argument(
        "--walk-in-seconds", type=float, default=20.0, help="mittlerer Abstand neuer Wartenummern am Kiosk"
    )
    demo.set_defaults(handler=run_demo)

    run = subparsers.add_parser("run", help="Arbeitsplatz gegen eine Zentrale starten")
    run.add_argument("--central", help="Adresse der Zentrale, z. B. http://zentrale:8000")
    run.add_argument("--desk", help="Schalter-ID (sonst Anmeldung)")
    run.add_argument("--clerk", help="Sachbearbeiter-ID (sonst Anmeldung)")
    run.set_defaults(handler=run_workstation)


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_USER_ERROR


def _load_config(path: Path | None) -> Config:
    from workstation.config import load_config
    from workstation.i18n import set_language

    config = load_config(path)
    set_language(config.ui.language)
    return config


def run_workstation(args: argparse.Namespace) -> int:
    from workstation.config import ConfigError
    from workstation.errors import LocalStoreError

    try:
        config = _load_config(args.config)
        central_url = args.central or config.central.url
        store = _open_store(config.store.path)
        with ExitStack() as cleanup:
            cleanup.callback(store.dispose)
            login = _DeskLogin(store, config, central_url, workstation_id=config.workstation.id)
            desk_id = args.desk or config.workstation.desk_id
            clerk_id = args.clerk or config.workstation.clerk_id
            if central_url:
                login.initial_sync(desk_id, clerk_id)
            return _run_app(config, login, desk_id, clerk_id)
    except (ConfigError, LocalStoreError) as error:
        return _fail(error.user_message)


def run_demo(args: argparse.Namespace) -> int:
    from workstation.config import ConfigError
    from workstation.errors import LocalStoreError

    try:
        config = _load_config(args.config)
    except ConfigError as error:
        return _fail(error.user_message)
    from sync.central.embedded import start_embedded
    from sync.central.kiosk import KioskSimulator

    from sync.central.seed import BUERGERAMT_ID, generate_day, seed_central
    from sync.central.store import CentralStore

    with tempfile.TemporaryDirectory(prefix="tresen-demo-") as temp, ExitStack() as cleanup:
        temp_dir = Path(temp)
        central_url_db = f"sqlite:///{temp_dir / 'central.sqlite3'}"
        central_store = CentralStore(central_url_db)
        central_store.create_schema()
        now = datetime.now(UTC)
        day = generate_day(date.today(), seed=args.seed, now=now)
        with central_store.write() as session:
            seed_central(session, day)
        central_store.dispose()
        central = start_embedded(central_url_db)
        cleanup.callback(central.stop)

        kiosk = KioskSimulator(central.url, BUERGERAMT_ID, mean_interval_seconds=args.walk_in_seconds)
        stop_kiosk = threading.Event()
        kiosk_thread = threading.Thread(target=kiosk.run, args=(stop_kiosk,), name="kiosk", daemon=True)
        kiosk_thread.start()
        cleanup.callback(stop_kiosk.set)

        try:
            store = _open_store(temp_dir / "tresen.sqlite3")
        except LocalStoreError as error:
            return _fail(error.user_message)
        cleanup.callback(store.dispose)
        desk = next(d for d in day.desks if d.office_id == BUERGERAMT_ID)
        clerk = next(c for c in day.clerks if c.office_id == BUERGERAMT_ID)
        login = _DeskLogin(store, config, central.url, workstation_id=DEMO_WORKSTATION_ID)
        desk_id, clerk_id = args.desk or desk.id, args.clerk or clerk.id
        login.initial_sync(desk_id, clerk_id, office_id=BUERGERAMT_ID)
        return _run_app(config, login, desk_id, clerk_id)


def _open_store(path: Path) -> LocalStore:
    from workstation.db import LocalStore

    path.parent.mkdir(parents=True, exist_ok=True)
    store = LocalStore(path)
    store.migrate()
    return store


def _run_app(config: Config, login: _DeskLogin, desk_id: str | None, clerk_id: str | None) -> int:
    from workstation.app import TresenApp

    if desk_id and clerk_id:
        app = TresenApp(workplace=login.open(clerk_id, desk_id), keymap=config.ui.keymap)
    else:
        app = TresenApp(login=login, keymap=config.ui.keymap)
    return int(app.run() or 0)


class _DeskLogin:
    """The app's `LoginService`: lists clerks and desks from the local store, opens a desk."""

    def __init__(
        self, store: LocalStore, config: Config, central_url: str | None, workstation_id: str
    ) -> None:
        self.store = store
        self.config = config
        self.central_url = central_url
        self.workstation_id = workstation_id
        self.office_id = config.workstation.office_id

    def initial_sync(self, desk_id: str | None, clerk_id: str | None, office_id: str | None = None) -> None:
        """Pull the office's data before the first screen so the counter starts filled.

        Offline this only leaves a note in the log: the app starts with what the store has and the
        status bar tells the clerk."""
        office_id = office_id or self.office_id
        if office_id:
            self.office_id = office_id
        if not self.central_url or not self.office_id:
            return
        engine = self._engine(desk_id or "", clerk_id or "")
        report = engine.sync_once()
        if not report.online:
            log.warning("initial sync failed; starting with the local store")

    def choices(self) -> LoginChoices:
        from sqlalchemy import select

        from workstation.app import LoginChoices
        from workstation.models import Clerk, Desk

        with self.store.session() as session:
            clerks = session.execute(select(Clerk.id, Clerk.name).order_by(Clerk.name)).all()
            desks = session.execute(select(Desk.id, Desk.name).order_by(Desk.number)).all()
        return LoginChoices([(c.id, c.name) for c in clerks], [(d.id, d.name) for d in desks])

    def open(self, clerk_id: str, desk_id: str) -> Workplace:
        from workstation.app import Workplace
        from workstation.counter import Counter

        ctx = self._context(desk_id, clerk_id)
        engine = self._engine(desk_id, clerk_id) if self.central_url else None
        counter = Counter(self.store, ctx, remote=engine)
        return Workplace(counter, engine, self._place_label(desk_id, clerk_id))

    def _place_label(self, desk_id: str, clerk_id: str) -> str:
        from workstation.models import Clerk, Desk

        with self.store.session() as session:
            desk = session.get(Desk, desk_id)
            clerk = session.get(Clerk, clerk_id)
            return f"{desk.name if desk else desk_id} · {clerk.name if clerk else clerk_id}"

    def _context(self, desk_id: str, clerk_id: str):  # type: ignore[no-untyped-def]
        from workstation.commands import DeskContext

        return DeskContext(self.workstation_id, self.office_id or "", desk_id, clerk_id)

    def _engine(self, desk_id: str, clerk_id: str):  # type: ignore[no-untyped-def]
        from sync.client import CentralClient
        from workstation.sync_engine import SyncEngine

        assert self.central_url is not None
        client = CentralClient(self.central_url, timeout=self.config.central.timeout_seconds)
        return SyncEngine(self.store, client, self._context(desk_id, clerk_id))
