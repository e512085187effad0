"""`tresen demo`: an embedded central service with a seeded office day, simulated kiosk walk-ins and
a simulated ID card, and the clerk's TUI logged in at a desk — all in one process."""

from __future__ import annotations

import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from sync.central.demo_clock import parse_wall_time
from tresen.desk import engine_factory, fail, load_config, open_store, run_app

if TYPE_CHECKING:
    import argparse

    from sync.central.embedded import EmbeddedCentral
    from tresen.central_access import CentralAccess
    from workstation.capture_setup import CaptureSetup
    from workstation.card_setup import CardReadingSetup
    from workstation.config import Config


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
    demo.add_argument(
        "--at",
        type=parse_wall_time,
        default=None,
        metavar="SS:MM",
        help="die Uhr der Vorführung auf diese Uhrzeit stellen (z. B. 10:30); sie läuft von dort weiter",
    )
    demo.add_argument(
        "--slips",
        type=Path,
        metavar="ORDNER",
        help="Wartescheine des simulierten Kiosks als PDF (mit QR-Code) in diesen Ordner schreiben",
    )
    demo.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from workstation.errors import TresenError

    try:
        config = load_config(args.config)
        with tempfile.TemporaryDirectory(prefix="tresen-demo-") as temp:
            return _run_demo(args, config, Path(temp))
    except TresenError as error:
        return fail(error.user_message)


def _run_demo(args: argparse.Namespace, config: Config, temp_dir: Path) -> int:
    from devices.secret_store import file_backend
    from sync.central.demo_clock import demo_clock
    from sync.central.embedded import start_demo_central
    from sync.central.kiosk import kiosk_for
    from sync.central.seed import BUERGERAMT_ID, DEMO_PINS
    from sync.client import SwitchableTransport
    from sync.clock import utc_now
    from tresen.kiosk_slips import SlipFolder
    from workstation import audit_key, capture_key
    from workstation.i18n import _
    from workstation.login import DeskLogin
    from workstation.number_witness import NumberWitness

    clock = demo_clock(args.at, real=utc_now)
    with ExitStack() as cleanup:
        central_db = f"sqlite:///{temp_dir / 'central.sqlite3'}"
        central, day = start_demo_central(central_db, clock=clock, seed=args.seed)
        cleanup.callback(central.stop)
        addresses = waiting_room_addresses(central_db, central.url)
        print(addresses, file=sys.stderr)
        cleanup.callback(print, addresses, file=sys.stderr)  # again once the TUI gave the terminal back
        kiosk = kiosk_for(
            central.store,
            central.url,
            BUERGERAMT_ID,
            mean_interval_seconds=args.walk_in_seconds,
            seed=args.seed,
            clock=clock,
            print_slip=SlipFolder(args.slips) if args.slips else None,
        ).start()
        cleanup.callback(kiosk.stop)

        # The demo's audit key lives and dies with its temporary keyring file, never the user's keyring.
        audit_key.use_backend(file_backend(temp_dir / "keyring.cfg"))
        cleanup.callback(audit_key.use_backend, None)
        capture_key.use_backend(file_backend(temp_dir / "keyring.cfg"))  # captures' key likewise
        cleanup.callback(capture_key.use_backend, None)
        store_path = temp_dir / "tresen.sqlite3"
        store = open_store(store_path, instances=temp_dir / "state" / "store-instances.json")
        cleanup.callback(store.dispose)
        link = SwitchableTransport()  # Strg+T cuts and restores it: offline work, shown live
        cleanup.callback(link.close)
        access = enroll_demo_desk(central, store_path, temp_dir)
        timeout = config.central.timeout_seconds
        make_engine = engine_factory(
            store, central.url, timeout, auth=access.auth, transport=link, clock=clock
        )
        login = DeskLogin(
            store,
            access.identity.workstation_id,
            BUERGERAMT_ID,
            make_engine,
            clock=clock,
            logins=access.logins(store, timeout, transport=link),
            pin_hint=demo_pin_hint(),
            numbers=NumberWitness(temp_dir / "state" / "desk-numbers.json"),
        )
        login.initial_sync()
        card_setup = demo_card_setup(config, temp_dir / "csca", cleanup)
        captures = demo_capture_setup(config, temp_dir, cleanup)
        config = demo_printing(config, temp_dir)
        keep_one_slip(central, config.printing.folder or args.slips)
        print(
            _(
                "Demo: Tagesberichte (Teamleitung, Strg+O, Reiter Tag, F6/F7) werden abgelegt in {folder}"
            ).format(folder=config.statistics.export_dir),
            file=sys.stderr,
        )
        desk = next(d for d in day.desks if d.office_id == BUERGERAMT_ID)
        clerk = next(c for c in day.clerks if c.office_id == BUERGERAMT_ID)
        return run_app(
            config,
            login,
            args.desk or desk.id,
            args.clerk or clerk.id,
            card_setup,
            link=link,
            central_url=central.url,
            central_auth=access.auth,
            pin=DEMO_PINS[clerk.role] if not args.clerk else None,
            captures=captures,
        )


def enroll_demo_desk(central: EmbeddedCentral, store_path: Path, temp_dir: Path) -> CentralAccess:
    """What an administrator and the desk's installer do, done by the demo: a one-time code for the
    Bürgeramt, then the enrollment over HTTP with a key file, its passphrase in a keyring file of the
    demo's own (never the user's keyring)."""
    from devices.secret_store import file_backend
    from sync.central import credentials
    from sync.central.seed import BUERGERAMT_ID
    from sync.clock import utc_now
    from tresen.central_access import central_access
    from workstation.identity import enroll

    with central.store.write() as session:
        code = credentials.create_enrollment_code(session, BUERGERAMT_ID, None, utc_now())
    backend = file_backend(temp_dir / "keyring.cfg")
    enroll(central.url, code, store_path, backend=backend)
    access = central_access(store_path, backend=backend)
    assert access is not None  # just enrolled
    return access


def demo_pin_hint() -> str:
    from sync.central.seed import DEMO_PINS
    from workstation.i18n import _

    return _("Demo-PINs: Sachbearbeitung {clerk}, Teamleitung {supervisor}").format(
        clerk=DEMO_PINS["clerk"], supervisor=DEMO_PINS["supervisor"]
    )


def waiting_room_addresses(central_db: str, central_url: str) -> str:
    """The call display and one status page of the demo's office, for a browser beside the TUI."""
    from sync.central.display import demo_addresses
    from sync.central.seed import BUERGERAMT_ID
    from sync.central.store import CentralStore
    from workstation.i18n import _

    store = CentralStore(central_db)
    try:
        display, status = demo_addresses(store, central_url, BUERGERAMT_ID)
    finally:
        store.dispose()
    lines = [_("Aufrufanzeige im Wartebereich: {url}").format(url=display)]
    if status is not None:
        lines.append(_("Status einer wartenden Nummer (QR-Code des Wartescheins): {url}").format(url=status))
    return "\n".join(lines)


def keep_one_slip(central: EmbeddedCentral, folder: Path | None) -> Path | None:
    """The slip of the waiting ticket whose status page the demo names, printed into `folder` (the
    demo's printouts), so its QR code can be scanned with a phone beside the TUI."""
    from sync.central.kiosk import longest_waiting_slip
    from sync.central.seed import BUERGERAMT_ID
    from tresen.kiosk_slips import SlipFolder
    from workstation.i18n import _

    slip = longest_waiting_slip(central.store, central.url, BUERGERAMT_ID)
    if slip is None or folder is None:
        return None
    path = SlipFolder(folder)(slip)
    print(
        _("Wartenummer {number} als Warteschein mit QR-Code: {path}").format(number=slip.number, path=path),
        file=sys.stderr,
    )
    return path


def demo_printing(config: Config, temp_dir: Path) -> Config:
    """Without [printing], the demo writes its documents as PDFs into a folder it names on stderr
    (a CUPS queue is a real office's setting). Kassenzeichen ranges come from the demo's central
    service in the desk's first sync round (`sync.central.cash_ranges`), as in an office."""
    import dataclasses

    from platformdirs import user_data_path

    printing = config.printing
    if printing.receipt or printing.a4 or printing.thermal or printing.folder:
        return config
    folder = user_data_path("tresen") / "demo-ausdrucke"
    print(f"Demo: Ausdrucke werden als PDF abgelegt in {folder}", file=sys.stderr)
    printing = dataclasses.replace(
        printing,
        folder=folder,
        kept_dir=temp_dir / "dokumente",
        authority=printing.authority or "Stadt Musterstadt – Die Oberbürgermeisterin",
        street=printing.street or "Rathausplatz 1",
        postal_code_and_city=printing.postal_code_and_city or "12345 Musterstadt",
        place=printing.place or "Musterstadt",
        cash_office=printing.cash_office or "Stadtkasse Musterstadt, Zahlstelle Bürgeramt",
    )
    return dataclasses.replace(config, printing=printing)


def demo_capture_setup(config: Config, temp_dir: Path, cleanup: ExitStack) -> CaptureSetup:
    """Without [captures], the demo runs the capture simulator in a thread and shows a code for each
    case in "Aufnahme holen"; the hand-over folder is the demo's temporary one."""
    from tresen.demo_devices import DemoCaptureTerminal
    from workstation.capture_setup import CaptureSetup
    from workstation.config import CaptureSettings
    from workstation.private_files import private_dir

    if config.captures.terminal_url or config.captures.cloud_url:
        return CaptureSetup(config.captures)
    folder = temp_dir / "aufnahmegeraet"
    private_dir(folder)
    terminal = DemoCaptureTerminal(folder)
    cleanup.callback(terminal.close)
    settings = CaptureSettings(
        terminal_url=terminal.url,
        terminal_certificate=terminal.terminal_certificate,
        cloud_url=terminal.url,
        cloud_certificate=terminal.cloud_certificate,
        export_dir=temp_dir / "aufnahmen-uebergabe",
    )
    return CaptureSetup(settings, hint=terminal.hint, organisation_key=DemoCaptureTerminal.ORGANISATION_KEY)


def demo_card_setup(config: Config, trust_folder: Path, cleanup: ExitStack) -> CardReadingSetup:
    """The demo reads a simulated ID card of the case's citizen from pcscd's virtual reader, trusting
    the test CSCA that signed it (written to a trust folder of the demo's own)."""
    from tresen.demo_devices import DEMO_READER, DemoCardDevices
    from workstation.card_setup import CardReadingSetup

    devices = DemoCardDevices(trust_folder)
    cleanup.callback(devices.close)  # takes the card off and frees the virtual reader
    # vpcd offers two slots; the card goes into the first, so the dialog names just that one.
    return CardReadingSetup(trust_folder, config.card.reader or DEMO_READER, devices)
