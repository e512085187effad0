"""The demo's simulated devices: an ID card of the case's citizen on pcscd's virtual reader.

When the clerk opens "Ausweis lesen" in `tresen demo`, `DemoCardDevices.prepare_card` generates a
test ID card (fictional test data) carrying the names and birth date of the case's appointment and
puts it on the vsmartcard reader through the card emulator's own process. The test CSCA that signed
it goes into the demo's trust folder, so passive authentication says "Echtheit bestätigt". The CAN
printed on the simulated card is returned as the dialog's hint — a demo has no card to look at.

Everything demo-only about devices lives here; the screens only show the hint.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from contextlib import ExitStack
from multiprocessing import resource_tracker
from typing import TYPE_CHECKING

from devices.card.emulator.process import EmulatorProcess, EmulatorProcessError
from devices.card.emulator.vpcd import DEFAULT_PORT, exclusive_reader
from workstation.i18n import _

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date
    from pathlib import Path

    from devices.card.emulator.personalization import TestHolder
    from workstation.card_reading import BookedCitizen

log = logging.getLogger(__name__)

VIRTUAL_READER_PREFIX = "Virtual PCD"  # how pcscd names the vsmartcard readers
DEMO_READER = "Virtual PCD 00 00"  # vpcd's first slot, TCP 35963, where the emulator plugs in
DEMO_CSCA_FILE = "demo-csca.der"
DEMO_FACE_BYTES = 15_000  # a typical German ID card photo


class ReaderBusy(Exception):
    """Someone else (a test run, `python -m devices.card.emulator`) holds the virtual reader."""


def holder_for(citizen: BookedCitizen) -> TestHolder:
    """The simulated card's holder: the booked citizen, or the specimen holder for a walk-in.

    Unknown parts (a booking without a birth date) keep the specimen's values; the dialog's name
    comparison then shows that they do not match the appointment, as it would for a real card."""
    from devices.card.emulator.personalization import TestHolder  # Pillow and the curves: only now

    specimen = TestHolder()  # Erika Mustermann
    if not citizen.family_name:
        return specimen
    return TestHolder(
        surname=citizen.family_name,
        given_names=citizen.given_name or specimen.given_names,
        birth_date=citizen.birth_date or specimen.birth_date,
        sex="X",  # the booking does not say; the MRZ then carries '<'
    )


def seed_for(case_id: str) -> int:
    """A document per case (its own CAN and number), the same one again for the same case."""
    return int.from_bytes(hashlib.sha256(case_id.encode()).digest()[:4], "big")


def virtual_reader_present() -> bool:
    """True when pcscd runs and lists the vsmartcard reader (`bash installer/pcsc.sh` starts both)."""
    from devices.card.errors import CardError
    from devices.card.transport import list_readers

    try:
        return any(name.startswith(VIRTUAL_READER_PREFIX) for name in list_readers())
    except CardError:
        return False


def _refuse_busy() -> None:
    raise ReaderBusy()


class DemoCardDevices:
    """The demo's card on the virtual reader: one emulator process for the case being served.

    `prepare_card` matches `workstation.card_reading.CardPreparer`; it blocks for the emulator's
    start (a second or two), so the dialog calls it from a worker. `close` takes the card off."""

    def __init__(
        self,
        trust_folder: Path,
        *,
        port: int = DEFAULT_PORT,
        reader_present: Callable[[], bool] = virtual_reader_present,
        expiry: date | None = None,
    ) -> None:
        self.trust_folder = trust_folder
        self._port = port
        self._reader_present = reader_present
        self._expiry = expiry
        self._lock = threading.Lock()  # two dialogs (or a dialog and close) never race on the reader
        self._reader_hold = ExitStack()
        self._holding_reader = False
        self._process: EmulatorProcess | None = None
        self._case_id: str | None = None
        # multiprocessing starts its helper process with our stderr; once Textual has replaced
        # sys.stderr (no file descriptor) that start fails. Construct this before the app runs.
        resource_tracker.ensure_running()

    def prepare_card(self, case_id: str, citizen: BookedCitizen) -> str | None:
        with self._lock:
            if self._process is not None and self._case_id == case_id:
                return self._hint(self._process.printed.can)
            self._take_card_off()
            if not self._reader_present():
                log.warning("demo card not prepared: no virtual reader (pcscd not running?)")
                return _("Demo: Kein virtueller Kartenleser – pcscd läuft nicht (bash installer/pcsc.sh).")
            try:
                self._hold_reader()
            except ReaderBusy:
                log.warning("demo card not prepared: the virtual reader is held by another process")
                return _(
                    "Demo: Der virtuelle Kartenleser ist belegt (laufen gerade Tests?). "
                    "Strg+R versucht es erneut."
                )
            try:
                process = self._start_emulator(case_id, citizen)
            except (EmulatorProcessError, OSError) as error:
                log.error("demo card emulator failed: %s", type(error).__name__)
                return _("Demo: Der simulierte Ausweis konnte nicht gestartet werden.")
            self._process, self._case_id = process, case_id
            log.info("demo card on the virtual reader")
            return self._hint(process.printed.can)

    def close(self) -> None:
        with self._lock:
            self._take_card_off()
            self._reader_hold.close()
            self._holding_reader = False

    @staticmethod
    def _hint(can: str) -> str:
        return _("Demo: CAN {can} (steht vorn auf dem simulierten Ausweis)").format(can=can)

    def _hold_reader(self) -> None:
        """Take the virtual reader's lock for the rest of the demo, so test runs on this machine wait
        instead of plugging a second card into the same slot."""
        if not self._holding_reader:
            self._reader_hold.enter_context(exclusive_reader(self._port, on_wait=_refuse_busy))
            self._holding_reader = True

    def _start_emulator(self, case_id: str, citizen: BookedCitizen) -> EmulatorProcess:
        options: dict[str, object] = {
            "kind": "td1",
            "holder": holder_for(citizen),
            "seed": seed_for(case_id),
            "face_bytes": DEMO_FACE_BYTES,
        }
        if self._expiry is not None:
            options["expiry"] = self._expiry
        process = EmulatorProcess(options, port=self._port)
        try:
            self.trust_folder.mkdir(parents=True, exist_ok=True)
            (self.trust_folder / DEMO_CSCA_FILE).write_bytes(process.printed.csca_der)
            process.insert()
        except BaseException:
            process.close()
            raise
        return process

    def _take_card_off(self) -> None:
        if self._process is not None:
            try:
                self._process.remove()
            except EmulatorProcessError:
                log.warning("demo card emulator did not answer on remove")
            self._process.close()
            self._process, self._case_id = None, None


class DemoCaptureTerminal:
    """The capture simulator (`devices.captures.simulator`) in a thread for the demo: one ready
    capture per case, its code shown in the "Aufnahme holen" dialog like the card's CAN."""

    ORGANISATION_KEY = "demo-organisation"

    def __init__(self, folder: Path) -> None:
        from devices.captures.simulator import start_simulator, write_certificates

        self._running = start_simulator()
        self.url = self._running.url
        self.terminal_certificate, self.cloud_certificate = write_certificates(self._running.state, folder)
        self._codes: dict[str, str] = {}
        self._lock = threading.Lock()

    def hint(self, case_id: str) -> str:
        from devices.captures.codes import display_capture_code
        from devices.captures.simulator import add_ready_capture

        with self._lock:
            code = self._codes.get(case_id)
            if code is None or not self._running.state.has_capture(code):
                code = self._codes[case_id] = add_ready_capture(self._running.state)
        return _("Demo: Aufnahme-Code {code} (vom simulierten Aufnahmegerät)").format(
            code=display_capture_code(code)
        )

    def close(self) -> None:
        self._running.stop()
