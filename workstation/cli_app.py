"""`tresen demo` and `tresen run`: wire config, local store, sync engine and counter into the TUI.

Everything the clerk could get wrong at start-up (a malformed config file, an unreadable local
database, an unreachable central service, an unknown desk) ends as one German sentence on stderr or
in the status bar — never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sync.client import CentralClient
    from workstation.app import LoginChoices, Workplace
    from workstation.card_setup import CardReadingSetup
    from workstation.commands import DeskContext
    from workstation.config import Config
    from workstation.db import LocalStore
    from workstation.sync_engine import SyncEngine, SyncReport

log = logging.getLogger(__name__)

DEMO_WORKSTATION_ID = "ws-demo"
EXIT_USER_ERROR = 2
LOG_FILE_NAME = "tresen.log"


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
    run.add_argument("--central", help="Adresse der Zentrale, z. B. http://zentrale:8470")
    run.add_argument("--office", help="Dienststellen-ID (sonst aus Konfiguration oder lokalem Bestand)")
    run.add_argument("--desk", help="Schalter-ID (sonst Anmeldung)")
    run.add_argument("--clerk", help="Sachbearbeiter-ID (sonst Anmeldung)")
    run.set_defaults(handler=run_workstation)

    purge = subparsers.add_parser(
        "purge", help="personenbezogene Daten löschen, deren Aufbewahrungsfrist abgelaufen ist ([privacy])"
    )
    purge.add_argument("--dry-run", action="store_true", help="nur zählen, nichts löschen")
    purge.set_defaults(handler=run_purge)


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_USER_ERROR


def _load_config(path: Path | None) -> Config:
    from workstation.config import load_config
    from workstation.i18n import set_language

    set_language()  # TRESEN_LANG already applies to the config's own error messages
    config = load_config(path)
    set_language(config.ui.language)
    return config


# --- tresen purge ------------------------------------------------------------------------------------


def run_purge(args: argparse.Namespace) -> int:
    """The administrator's purge: the same rules as the app's hourly schedule, audited as the CLI's."""
    from workstation.errors import TresenError
    from workstation.retention import RetentionPolicy, describe_purge, purge_personal_data

    try:
        config = _load_config(args.config)
        store = _open_store(config.store.path)
        try:
            report = purge_personal_data(
                store,
                datetime.now(UTC),
                RetentionPolicy.from_settings(config.privacy),
                dry_run=args.dry_run,
                actor="administrator:cli",
            )
        finally:
            store.dispose()
    except TresenError as error:
        return _fail(error.user_message)
    print(describe_purge(report))
    return 0


# --- tresen run --------------------------------------------------------------------------------------


def run_workstation(args: argparse.Namespace) -> int:
    from workstation.errors import TresenError

    try:
        config = _load_config(args.config)
        central_url = args.central or config.central.url
        store = _open_store(config.store.path)
        try:
            return _run_workstation(args, config, store, central_url)
        finally:
            store.dispose()
    except TresenError as error:
        return _fail(error.user_message)


def _run_workstation(
    args: argparse.Namespace, config: Config, store: LocalStore, central_url: str | None
) -> int:
    from workstation.i18n import _

    login = DeskLogin(store, config, central_url, workstation_id=config.workstation.id)
    login.office_id = args.office or config.workstation.office_id or login.remembered_office()
    if login.office_id is None:
        return _fail(
            _("Bitte die Dienststelle angeben: tresen run --office ID (oder [workstation] office_id).")
        )
    if central_url and not login.has_reference_data():
        # A fresh workstation: fetch desks and clerks before the login; later starts sync in the app.
        report = login.initial_sync()
        if not report.online and not login.has_reference_data():
            return _fail(
                _(
                    "Die Zentrale {url} ist nicht erreichbar und der lokale Bestand ist leer. "
                    "Bitte Adresse und Netzwerk prüfen."
                ).format(url=central_url)
            )
    if not central_url and not login.has_reference_data():
        return _fail(_("Der lokale Bestand ist leer: bitte einmal mit --central URL starten."))
    desk_id = args.desk or config.workstation.desk_id
    clerk_id = args.clerk or config.workstation.clerk_id
    return _run_app(config, login, desk_id, clerk_id, _card_setup(config))


# --- tresen demo -------------------------------------------------------------------------------------


def run_demo(args: argparse.Namespace) -> int:
    from workstation.errors import TresenError

    try:
        config = _load_config(args.config)
        with tempfile.TemporaryDirectory(prefix="tresen-demo-") as temp:
            return _run_demo(args, config, Path(temp))
    except TresenError as error:
        return _fail(error.user_message)


def _run_demo(args: argparse.Namespace, config: Config, temp_dir: Path) -> int:
    from sync.central.embedded import start_embedded
    from sync.central.kiosk import KioskSimulator
    from sync.central.seed import BUERGERAMT_ID, generate_day, seed_central
    from sync.central.store import CentralStore
    from sync.ordering import OFFICE_ZONE

    with ExitStack() as cleanup:
        central_db = f"sqlite:///{temp_dir / 'central.sqlite3'}"
        central_store = CentralStore(central_db)
        central_store.create_schema()
        now = datetime.now(UTC)
        day = generate_day(now.astimezone(OFFICE_ZONE).date(), seed=args.seed, now=now)
        with central_store.write() as session:
            seed_central(session, day)
        central_store.dispose()
        central = start_embedded(central_db)
        cleanup.callback(central.stop)
        kiosk = KioskSimulator(
            central.url, BUERGERAMT_ID, mean_interval_seconds=args.walk_in_seconds, seed=args.seed
        ).start()
        cleanup.callback(kiosk.stop)

        store = _open_store(temp_dir / "tresen.sqlite3")
        cleanup.callback(store.dispose)
        login = DeskLogin(store, config, central.url, workstation_id=DEMO_WORKSTATION_ID)
        login.office_id = BUERGERAMT_ID
        login.initial_sync()
        card_setup = _demo_card_setup(config, temp_dir / "csca", cleanup)
        desk = next(d for d in day.desks if d.office_id == BUERGERAMT_ID)
        clerk = next(c for c in day.clerks if c.office_id == BUERGERAMT_ID)
        return _run_app(config, login, args.desk or desk.id, args.clerk or clerk.id, card_setup)


def _demo_card_setup(config: Config, trust_folder: Path, cleanup: ExitStack) -> CardReadingSetup:
    """The demo reads a simulated ID card of the case's citizen from pcscd's virtual reader, trusting
    the test CSCA that signed it (written to a trust folder of the demo's own)."""
    from workstation.card_setup import CardReadingSetup
    from workstation.demo_devices import DEMO_READER, DemoCardDevices

    devices = DemoCardDevices(trust_folder)
    cleanup.callback(devices.close)  # takes the card off and frees the virtual reader
    # vpcd offers two slots; the card goes into the first, so the dialog names just that one.
    return CardReadingSetup(trust_folder, config.card.reader or DEMO_READER, devices)


# --- shared ------------------------------------------------------------------------------------------


def _open_store(path: Path) -> LocalStore:
    from workstation.db import LocalStore
    from workstation.errors import LocalStoreError
    from workstation.i18n import _

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LocalStoreError(
            _(
                "Die lokale Datenbank {path} kann nicht geöffnet oder beschrieben werden. "
                "Bitte Speicherort und Berechtigungen prüfen."
            ).format(path=path),
            f"store directory not creatable: {type(error).__name__}",
        ) from None
    store = LocalStore(path)
    store.migrate()
    return store


def _card_setup(config: Config) -> CardReadingSetup:
    from workstation.card_setup import CardReadingSetup

    return CardReadingSetup(config.card.trust_dir, config.card.reader)


def _run_app(
    config: Config,
    login: DeskLogin,
    desk_id: str | None,
    clerk_id: str | None,
    card_setup: CardReadingSetup,
) -> int:
    from workstation.app import TresenApp
    from workstation.retention import RetentionPolicy, RetentionSchedule

    services = {
        "keymap": config.ui.keymap,
        "card_reading": card_setup,
        "retention": RetentionSchedule(login.store, RetentionPolicy.from_settings(config.privacy)),
    }
    if desk_id and clerk_id:
        app = TresenApp(workplace=login.open(clerk_id, desk_id), **services)
    else:
        app = TresenApp(login=login, **services)
    probe_terminal_graphics()
    with logging_to_file(log_file_path()):
        return int(app.run() or 0)


def probe_terminal_graphics() -> None:
    """Let textual-image ask the terminal whether it draws pixels (sixel, kitty) while we still own
    it: once Textual runs, the answer would be lost in its input. The card dialog uses the result
    for the citizen's photo (`screens.card_read.prepare_photo_support`)."""
    try:
        import textual_image.renderable  # noqa: F401  (the import is the probe)
    except Exception:  # no usable terminal: the photo is described in text instead
        log.debug("terminal graphics probe failed", exc_info=True)


def log_file_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_log_dir("tresen")) / LOG_FILE_NAME


@contextmanager
def logging_to_file(path: Path) -> Iterator[None]:
    """While the TUI owns the terminal, log lines on stderr would tear its frames: send them to a
    file instead (also those of uvicorn's own loggers), and give the terminal back afterwards."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        file_handler = logging.NullHandler()  # an unwritable log dir must not stop the clerk
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    loggers = [root] + [
        logger for logger in root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    moved: list[tuple[logging.Logger, logging.Handler]] = []
    given: list[logging.Logger] = []
    for logger in loggers:
        terminal = [h for h in logger.handlers if _writes_to_terminal(h)]
        for handler in terminal:
            logger.removeHandler(handler)
            moved.append((logger, handler))
        if terminal and (logger is root or not logger.propagate):
            logger.addHandler(file_handler)
            given.append(logger)
    if root not in given:
        root.addHandler(file_handler)
        given.append(root)
    try:
        yield
    finally:
        for logger in given:
            logger.removeHandler(file_handler)
        file_handler.close()
        for logger, handler in moved:
            logger.addHandler(handler)


def _writes_to_terminal(handler: logging.Handler) -> bool:
    return (
        isinstance(handler, logging.StreamHandler)
        and not isinstance(handler, logging.FileHandler)
        and getattr(handler, "stream", None) in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)
    )


class DeskLogin:
    """The app's `LoginService`: lists clerks and desks of the office from the local store and opens
    a desk (counter + sync engine)."""

    def __init__(
        self, store: LocalStore, config: Config, central_url: str | None, workstation_id: str
    ) -> None:
        self.store = store
        self.config = config
        self.central_url = central_url
        self.workstation_id = workstation_id
        self.office_id: str | None = config.workstation.office_id

    def remembered_office(self) -> str | None:
        """The office this workstation synced last, else the only office in the store."""
        from sqlalchemy import select

        from workstation.models import Office, SyncState

        with self.store.session() as session:
            state = session.get(SyncState, self.workstation_id)
            if state is not None:
                return state.office_id
            offices = session.scalars(select(Office.id).limit(2)).all()
        return offices[0] if len(offices) == 1 else None

    def has_reference_data(self) -> bool:
        from sqlalchemy import select

        from workstation.models import Desk

        with self.store.session() as session:
            first_desk = session.scalar(select(Desk.id).where(Desk.office_id == self.office_id).limit(1))
        return first_desk is not None

    def initial_sync(self) -> SyncReport:
        """Pull the office's data before the first screen, so the counter starts filled.

        Offline this only leaves a line in the log: the app starts with what the store has and the
        status bar tells the clerk."""
        engine = self._engine(self._context("", ""))
        report = engine.sync_once()
        engine.client.close()
        if not report.online:
            log.warning("initial sync failed; starting with the local store")
        return report

    def choices(self) -> LoginChoices:
        from sqlalchemy import select

        from workstation.app import LoginChoices
        from workstation.models import Clerk, Desk

        with self.store.session() as session:
            clerks = session.execute(
                select(Clerk.id, Clerk.name).where(Clerk.office_id == self.office_id).order_by(Clerk.name)
            ).all()
            desks = session.execute(
                select(Desk.id, Desk.name).where(Desk.office_id == self.office_id).order_by(Desk.number)
            ).all()
        return LoginChoices([(c.id, c.name) for c in clerks], [(d.id, d.name) for d in desks])

    def open(self, clerk_id: str, desk_id: str) -> Workplace:
        """The workplace of `clerk_id` at `desk_id`; unknown ids end as a German `CommandRefused`."""
        from workstation.app import Workplace
        from workstation.counter import Counter
        from workstation.errors import CommandRefused
        from workstation.i18n import _
        from workstation.models import Clerk, Desk

        with self.store.session() as session:
            desk = session.get(Desk, desk_id)
            clerk = session.get(Clerk, clerk_id)
            if desk is None or desk.office_id != self.office_id:
                raise CommandRefused(
                    _("Den Schalter {desk} gibt es in dieser Dienststelle nicht.").format(desk=desk_id)
                )
            if clerk is None:
                raise CommandRefused(_("Die Person {clerk} ist nicht bekannt.").format(clerk=clerk_id))
            label = f"{desk.name} · {clerk.name}"
        ctx = self._context(desk_id, clerk_id)
        engine = self._engine(ctx) if self.central_url else None
        return Workplace(Counter(self.store, ctx, remote=engine), engine, label)

    def _context(self, desk_id: str, clerk_id: str) -> DeskContext:
        from workstation.commands import DeskContext

        return DeskContext(self.workstation_id, self.office_id or "", desk_id, clerk_id)

    def _engine(self, ctx: DeskContext) -> SyncEngine:
        from sync.client import CentralClient
        from workstation.sync_engine import SyncEngine

        assert self.central_url is not None
        client: CentralClient = CentralClient(self.central_url, timeout=self.config.central.timeout_seconds)
        return SyncEngine(self.store, client, ctx)
