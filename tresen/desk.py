"""`tresen run` and `tresen purge`: config, local store, sync engine and card setup wired into the
TUI (or, for purge, into the retention rules alone).

Everything the clerk could get wrong at start-up (a malformed config file, an unreadable local
database, an unreachable central service, an unknown desk) ends as one German sentence on stderr or
in the status bar — never a traceback.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    import ssl
    from collections.abc import Callable
    from pathlib import Path

    import httpx

    from sync.client import SwitchableTransport
    from workstation.capture_setup import CaptureSetup
    from workstation.card_setup import CardReadingSetup
    from workstation.commands import DeskContext
    from workstation.config import Config, StatisticsSettings
    from workstation.db import LocalStore
    from workstation.documents import DocumentSetup
    from workstation.login import DeskLogin
    from workstation.office_overview import OfficeOverview
    from workstation.sync_engine import SyncEngine

log = logging.getLogger(__name__)

EXIT_USER_ERROR = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def fail(message: str) -> int:
    from tresen.terminal import finish_graphics_probe

    finish_graphics_probe()  # the probe holds the terminal in raw mode while it waits
    print(message, file=sys.stderr)
    return EXIT_USER_ERROR


def load_config(path: Path | None) -> Config:
    from workstation.config import load_config as load
    from workstation.i18n import set_language

    set_language()  # TRESEN_LANG already applies to the config's own error messages
    config = load(path)
    set_language(config.ui.language)
    return config


# --- tresen purge ------------------------------------------------------------------------------------


def run_purge(args: argparse.Namespace) -> int:
    """The administrator's purge: the same rules as the app's hourly schedule, audited as the CLI's."""
    from workstation.documents import KeptDocuments
    from workstation.errors import TresenError
    from workstation.retention import RetentionPolicy, describe_purge, purge_personal_data

    try:
        config = load_config(args.config)
        store = open_store(config.store.path)
        try:
            report = purge_personal_data(
                store,
                datetime.now(UTC),
                RetentionPolicy.from_settings(config.privacy),
                dry_run=args.dry_run,
                actor="administrator:cli",
                kept_documents=KeptDocuments(config.printing.kept_dir),
            )
        finally:
            store.dispose()
    except TresenError as error:
        return fail(error.user_message)
    print(describe_purge(report))
    return 0


# --- tresen run --------------------------------------------------------------------------------------


def run_workstation(args: argparse.Namespace) -> int:
    from screens.heap import pause_from_process_start, resume_after_start_pause
    from tresen.terminal import start_graphics_probe
    from workstation.errors import TresenError

    pause_from_process_start()  # no collections over the imports' heap; the App's policy resumes
    start_graphics_probe()  # its wait overlaps the imports and the store's opening
    try:
        config = load_config(args.config)
        central_url = args.central or config.central.url
        store = open_store(config.store.path)
        try:
            return _run_workstation(args, config, store, central_url)
        finally:
            store.dispose()
    except TresenError as error:
        return fail(error.user_message)
    finally:
        resume_after_start_pause()  # when the App never started


def _run_workstation(
    args: argparse.Namespace, config: Config, store: LocalStore, central_url: str | None
) -> int:
    from workstation.config import default_number_witness_path
    from workstation.i18n import _
    from workstation.login import DeskLogin
    from workstation.number_witness import NumberWitness

    access = None
    if central_url:  # the signing and HTTP stack only for a desk that talks to a central service
        from tresen.central_access import central_access

        access = central_access(config.store.path, central_url=args.central)
    if central_url and access is None:
        return fail(
            _(
                "Dieser Arbeitsplatz ist noch nicht eingerichtet. Bitte einmal "
                "tresen enroll --central URL --code CODE ausführen (den Code gibt die Administration)."
            )
        )
    timeout = config.central.timeout_seconds
    if access is not None and not _secure_or_told(access.identity.central_url):
        return EXIT_USER_ERROR
    make_engine = None
    workstation_id, office_id = config.workstation.id, config.workstation.office_id
    if access is not None:
        central_url = access.identity.central_url
        workstation_id, office_id = access.identity.workstation_id, access.identity.office_id
        make_engine = engine_factory(store, central_url, timeout, auth=access.auth, verify=access.verify)
    login = DeskLogin(
        store,
        workstation_id,
        office_id,
        make_engine,
        logins=access.logins(store, timeout) if access is not None else None,
        numbers=NumberWitness(default_number_witness_path()),
    )
    login.office_id = office_id or args.office or login.remembered_office()
    if login.office_id is None:
        return fail(
            _("Bitte die Dienststelle angeben: tresen run --office ID (oder [workstation] office_id).")
        )
    if central_url and not login.has_reference_data():
        # A fresh workstation: fetch desks and clerks before the login; later starts sync in the app.
        report = login.initial_sync()
        if (report is None or not report.online) and not login.has_reference_data():
            return fail(
                _(
                    "Die Zentrale {url} ist nicht erreichbar und der lokale Bestand ist leer. "
                    "Bitte Adresse und Netzwerk prüfen."
                ).format(url=central_url)
            )
    if not central_url and not login.has_reference_data():
        return fail(_("Der lokale Bestand ist leer: bitte einmal mit --central URL starten."))
    desk_id = args.desk or config.workstation.desk_id
    clerk_id = args.clerk or config.workstation.clerk_id
    return run_app(
        config,
        login,
        desk_id,
        clerk_id,
        card_setup_of(config),
        central_url=central_url,
        central_auth=access.auth if access is not None else None,
        central_verify=access.verify if access is not None else True,
    )


def _secure_or_told(url: str) -> bool:
    """Plain HTTP to another machine would carry PINs and citizen data in the clear: refuse it."""
    from sync.client import MSG_INSECURE
    from sync.transport_security import InsecureAddress, require_secure_url
    from workstation.i18n import _

    try:
        require_secure_url(url)
    except InsecureAddress:
        fail(_(MSG_INSECURE))
        return False
    return True


# --- shared with the demo ------------------------------------------------------------------------------


def open_store(path: Path, *, instances: Path | None = None) -> LocalStore:
    """The store at `path`, migrated, and checked against the instance kept for its place
    (`workstation.store_instance`, in `instances` or the user's state): a copied file is found
    before anything syncs."""
    from sync.clock import utc_now
    from workstation.config import default_store_instances_path
    from workstation.db import LocalStore
    from workstation.errors import LocalStoreError
    from workstation.i18n import _
    from workstation.private_files import private_dir
    from workstation.store_instance import InstanceRegistry, check_instance

    try:
        private_dir(path.parent)  # 0700: the store's file names and its -wal are nobody else's business
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
    registry = InstanceRegistry(instances or default_store_instances_path())
    check_instance(store, registry, utc_now(), enrolled_as=_enrolled_as(path))
    return store


def _enrolled_as(store_path: Path) -> str | None:
    """The identity beside the store; None when there is none or it is unreadable (said where the
    identity is used: the central service's access)."""
    from workstation.identity_file import identity_path

    if not identity_path(store_path).exists():  # a desk without a central service: no key stack
        return None
    from workstation.identity import EnrollmentError, load_identity

    try:
        identity = load_identity(store_path)
    except EnrollmentError:
        return None
    return identity.workstation_id if identity is not None else None


def engine_factory(
    store: LocalStore,
    central_url: str,
    timeout_seconds: float,
    *,
    auth: httpx.Auth,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], datetime] | None = None,
    verify: ssl.SSLContext | bool = True,
) -> Callable[[DeskContext], SyncEngine]:
    """How a desk reaches the central service: one client and sync engine per opened desk, each
    request signed by the workstation's key (`auth`)."""

    def make_engine(ctx: DeskContext) -> SyncEngine:
        from sync.client import CentralClient
        from workstation.sync_engine import SyncEngine

        client = CentralClient(
            central_url, timeout=timeout_seconds, transport=transport, auth=auth, verify=verify
        )
        if clock is None:
            return SyncEngine(store, client, ctx)
        return SyncEngine(store, client, ctx, clock=clock)

    return make_engine


def capture_setup_of(config: Config) -> CaptureSetup:
    """[captures]: the terminal and cloud to fetch from, the document application's folder."""
    from workstation.capture_setup import CaptureSetup

    return CaptureSetup(config.captures)


def card_setup_of(config: Config) -> CardReadingSetup:
    from workstation.card_setup import CardReadingSetup

    return CardReadingSetup(config.card.trust_dir, config.card.reader)


def office_overview(
    central_url: str,
    login: DeskLogin,
    link: SwitchableTransport | None,
    auth: httpx.Auth | None,
    verify: ssl.SSLContext | bool = True,
    settings: StatisticsSettings | None = None,
) -> Callable[[], OfficeOverview]:
    """The supervisor screen's figures: the central service's for the login's office, the local
    store's when it does not answer; reports saved into `[statistics] export_dir`."""

    def make() -> OfficeOverview:
        import httpx

        from sync.central.statistics_client import StatisticsClient
        from workstation.config import StatisticsSettings
        from workstation.office_overview import OfficeOverview

        client = httpx.Client(base_url=central_url, transport=link, timeout=10.0, auth=auth, verify=verify)
        office_id = login.office_id or login.remembered_office() or ""
        return OfficeOverview(
            StatisticsClient(client, login.office_id, clock=login.clock),
            login.store,
            workstation_id=login.workstation_id,
            office_id=office_id,
            settings=settings or StatisticsSettings(),
            clock=login.clock,
            resume_session=login.logins.resume_session if login.logins is not None else None,
        )

    return make


def document_setup_of(config: Config, login: DeskLogin) -> DocumentSetup | None:
    """Printers and letterhead from [printing]; None when no printer (nor PDF folder) is set up."""
    printing = config.printing
    if not (printing.receipt or printing.a4 or printing.thermal or printing.folder):
        return None  # before the imports: a desk that prints nothing never loads the document stack
    from workstation.documents import DocumentSetup, token_sealer
    from workstation.models import Office

    with login.store.session() as session:
        office = session.get(Office, login.office_id) if login.office_id else None
        office_name = office.name if office else ""
    return DocumentSetup.from_settings(printing, office_name, token_sealer())


def run_app(
    config: Config,
    login: DeskLogin,
    desk_id: str | None,
    clerk_id: str | None,
    card_setup: CardReadingSetup,
    *,
    link: SwitchableTransport | None = None,
    central_url: str | None = None,
    central_auth: httpx.Auth | None = None,
    central_verify: ssl.SSLContext | bool = True,
    pin: str | None = None,
    captures: CaptureSetup | None = None,
) -> int:
    """Open the desk (or ask for the login) and run the TUI until the clerk quits; `link` lets the
    demo cut and restore its connection to the central service."""
    from screens.app import TresenApp
    from tresen.logs import log_file_path, logging_to_file
    from tresen.terminal import finish_graphics_probe
    from workstation.retention import RetentionPolicy, RetentionSchedule

    documents = document_setup_of(config, login)
    retention = RetentionSchedule(
        login.store,
        RetentionPolicy.from_settings(config.privacy),
        clock=login.clock,
        kept_documents=documents.kept if documents else None,
    )
    # A desk and clerk named beforehand open at once only where no PIN is asked or one is given (demo).
    asks_pin = login.logins is not None and pin is None
    workplace = login.open(clerk_id, desk_id, pin) if desk_id and clerk_id and not asks_pin else None
    app = TresenApp(
        login=login,
        workplace=workplace,
        keymap=config.ui.keymap,
        card_reading=card_setup,
        retention=retention,
        now=login.clock,
        link=link,
        office_overview=office_overview(
            central_url, login, link, central_auth, central_verify, config.statistics
        )
        if central_url
        else None,
        documents=documents,
        captures=captures or capture_setup_of(config),
    )
    finish_graphics_probe()
    with logging_to_file(log_file_path()):
        return int(app.run() or 0)
