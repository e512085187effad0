"""The "Ausweis lesen" dialog: reader status, CAN/MRZ entry, progress per step, the chip's data with
the photo, and the authenticity verdict next to the appointment comparison.

All card I/O runs in thread workers of the group "card"; the workers hand results back through
`call_from_thread`. The dialog holds no rule of its own: it shows what `workstation.card_reading`
decides (name comparison, expiry warning, verdict wording).
"""

from __future__ import annotations

import io
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, RadioButton, RadioSet, Static, TextArea
from textual.worker import Worker, WorkerState

from devices.card.errors import CardError
from screens.bindings import bindings_for
from workstation.actions import ScreenId
from workstation.card_reading import (
    AccessKind,
    CardReading,
    CardReadOutcome,
    Photo,
    ReaderStatus,
    make_access_key,
)
from workstation.card_verdict import VerdictStatus
from workstation.errors import TresenError
from workstation.i18n import N_, _, format_date, format_number

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date

    from textual.app import App, ComposeResult
    from textual.binding import BindingType
    from textual.widget import Widget

    from devices.card.access import AccessKey
    from devices.card.service import ReadProgress

log = logging.getLogger(__name__)

# Steps in the order the chip is read; PACE and BAC are alternatives.
STEP_ORDER = ("PACE", "BAC", "COM", "DG1", "DG2", "SOD", "PA")
STEP_LABELS = {  # German source strings, translated where shown
    "PACE": "PACE",
    "BAC": "BAC",
    "COM": "EF.COM",
    "DG1": N_("DG1 (Daten)"),
    "DG2": N_("DG2 (Lichtbild)"),
    "SOD": "EF.SOD",
    "PA": N_("Echtheitsprüfung"),
}
_ACCESS_BY_BUTTON = {
    "access-can": AccessKind.CAN,
    "access-mrz": AccessKind.MRZ,
    "access-doc": AccessKind.DOCUMENT_DATA,
}


class _PhotoSupport:
    """What the terminal can draw, found out once (`prepare_photo_support`)."""

    image_widget: type[Widget] | None = None


_photo_support = _PhotoSupport()
_TERMINAL_PROBE = "textual_image.renderable"  # importing it asks the terminal what it can draw


def prepare_photo_support() -> bool:
    """Find out whether the terminal can show the photo as pixels (sixel, kitty, half cells).

    textual-image probes the terminal with escape sequences when it is imported, which only works
    before Textual takes the terminal over: the CLI imports it before `App.run()`
    (`tresen.terminal.probe_terminal_graphics`), and the dialog calls this once that happened.
    Until then (and in tests, where stdout is no terminal) the photo is described in text. Returns
    True for pixels.
    """
    try:
        from textual_image import renderable
        from textual_image.widget import Image
    except Exception:  # no usable terminal (e.g. stdout closed): the text fallback is shown
        log.debug("textual-image unavailable", exc_info=True)
        return False
    if renderable.Image is renderable.UnicodeImage:
        return False  # not a terminal: nothing but text to show
    _photo_support.image_widget = Image
    return True


def photo_widget(data: bytes, description: str, widget_id: str) -> Widget:
    """The photo as pixels where the terminal can draw them (textual-image), else its description;
    ids `<widget_id>-image` / `<widget_id>-text`. The capture dialog shows both photos with it."""
    if _photo_support.image_widget is None and _TERMINAL_PROBE in sys.modules:
        prepare_photo_support()  # the CLI probed the terminal before Textual took it over
    image_widget = _photo_support.image_widget
    if image_widget is not None:
        try:
            from PIL import Image as PilImage

            picture = PilImage.open(io.BytesIO(data))
            picture.load()
        except Exception:  # noqa: BLE001 - an undecodable image is shown as text, never a crash
            log.warning("photo could not be decoded for display")
        else:
            return image_widget(picture, id=f"{widget_id}-image")  # type: ignore[arg-type]  # textual-image takes a PIL image
    return Static(description, id=f"{widget_id}-text")


def _day(value: date | None) -> str:
    return format_date(value) if value else "–"


def _date_input(placeholder: str, widget_id: str) -> Input:
    return Input(placeholder=placeholder, restrict=r"[0-9]*", max_length=6, id=widget_id)


@dataclass
class _StepState:
    done: int = 0
    total: int | None = None

    @property
    def finished(self) -> bool:
        return self.total is not None and self.done >= self.total


def describe_steps(steps: dict[str, _StepState], *, failed: bool = False) -> str:
    """One line per step: ✓ when done, bytes for files, … while running (✗ once the read failed:
    a step that did not finish then is not running any more)."""
    lines = []
    for step in STEP_ORDER:
        state = steps.get(step)
        if state is None:
            continue
        mark = "✓" if state.finished else "✗" if failed else "…"
        amount = ""
        if step in ("COM", "DG1", "DG2", "SOD") and state.total:
            amount = "  " + _("{done} / {total} Bytes").format(
                done=format_number(state.done), total=format_number(state.total)
            )
        lines.append(f"{mark} {_(STEP_LABELS[step])}{amount}")
    return "\n".join(lines)


class CardReadScreen(ModalScreen["CardReadOutcome | None"]):
    """Modal "Ausweis lesen" for one case; dismisses with the last successful read (or None)."""

    CSS_PATH = Path(__file__).with_suffix(".tcss")
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(ScreenId.CARD_READ)

    def __init__(self, reading: CardReading, case_id: str) -> None:
        super().__init__(classes="dialog")
        self._reading = reading
        self._case_id = case_id
        self._steps: dict[str, _StepState] = {}
        self._reader: str | None = None
        self.outcome: CardReadOutcome | None = None
        self._host_app: App[Any]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="card-read-body"):
            yield Label(_("Ausweis lesen"), classes="dialog-title")
            yield Static(_("Suche Kartenleser …"), id="reader-status")
            yield Static("", id="card-hint", classes="hidden")
            with Horizontal(id="access-row"):
                with RadioSet(id="access-kind"):
                    yield RadioButton(_("CAN"), value=True, id="access-can")
                    yield RadioButton(_("MRZ"), id="access-mrz")
                    yield RadioButton(_("Dokumentdaten"), id="access-doc")
                with Vertical(id="access-inputs"):
                    yield Input(
                        placeholder=_("CAN (6 Ziffern, vorn auf dem Ausweis)"),
                        restrict=r"[0-9]*",
                        max_length=6,
                        id="can",
                    )
                    yield TextArea(id="mrz", classes="hidden", soft_wrap=False)
                    with Horizontal(id="document-data", classes="hidden"):
                        yield Input(placeholder=_("Dokumentnummer"), id="document-number")
                        yield _date_input(_("Geburt JJMMTT"), "birth")
                        yield _date_input(_("Ablauf JJMMTT"), "expiry")
            yield Static("", id="input-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Lesen"), variant="primary", id="read")
                yield Button(_("Schließen"), id="close")
            yield Static("", id="progress-steps")
            yield ProgressBar(total=100, show_eta=False, id="progress-bar", classes="hidden")
            with Vertical(id="result", classes="hidden"):
                yield Static("", id="verdict")
                yield Static("", id="verdict-steps")
                yield Static("", id="names")
                yield Static("", id="expiry-warning")
                with Horizontal(id="result-columns"):
                    yield Static("", id="fields")
                    yield Vertical(id="photo")
                yield Static("", id="figures")

    def on_mount(self) -> None:
        self._host_app = self.app
        if _photo_support.image_widget is None and _TERMINAL_PROBE in sys.modules:
            prepare_photo_support()  # the CLI probed the terminal before Textual took it over
        self.query_one("#can", Input).focus()
        if self._reading.prepares_cards:
            self._show_hint(_("Demo: Ausweis wird auf den virtuellen Leser gelegt …"))
            self.prepare_card()
        else:
            self.check_readers()
        self.load_previous_read()

    @work(thread=True, exclusive=True, group="card-store", exit_on_error=False)
    def load_previous_read(self) -> None:
        """Show the case's last read (the chip data stays with the case) until a new one is made."""
        previous = self._reading.latest(self._case_id)
        if previous is not None:
            self._from_worker(self._show_previous, previous)

    def _show_previous(self, previous: CardReadOutcome) -> None:
        if self.outcome is None:
            self._show_outcome(previous, _("Zuletzt gelesen"))

    def _from_worker(self, callback: Callable[..., None], *args: Any) -> None:
        """Hand a worker's result to the UI thread; dropped when the dialog was closed meanwhile."""

        def deliver() -> None:
            if self.is_attached:
                callback(*args)

        # The app as seen at mount: a closed dialog no longer knows its app, but a late read must
        # still finish (it is kept with the case) without raising in the worker thread.
        self._host_app.call_from_thread(deliver)

    # Reader status -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="card", exit_on_error=False)
    def prepare_card(self) -> None:
        """Let the preparer (the demo's simulated card) put the document on the reader, then look
        for readers: the virtual one only answers once the card process runs."""
        try:
            hint = self._reading.prepare(self._case_id)
        except TresenError as error:
            hint = error.user_message
        self._from_worker(self._show_hint, hint or "")
        status = self._reading.reader_status()
        self._from_worker(self._show_reader_status, status)

    def _show_hint(self, hint: str) -> None:
        widget = self.query_one("#card-hint", Static)
        widget.set_class(not hint, "hidden")
        widget.update(hint)

    def action_refresh_readers(self) -> None:
        if self._reading.prepares_cards:
            self.prepare_card()  # the demo's card may not have been placed yet (reader busy)
        else:
            self.check_readers()

    @work(thread=True, exclusive=True, group="card", exit_on_error=False)
    def check_readers(self) -> None:
        status = self._reading.reader_status()
        self._from_worker(self._show_reader_status, status)

    def _show_reader_status(self, status: ReaderStatus) -> None:
        widget = self.query_one("#reader-status", Static)
        widget.set_class(not status.available, "problem")
        self._reader = status.readers[0] if len(status.readers) == 1 else None
        hint = _("Ausweis auflegen, CAN eingeben, dann „Lesen“.") if status.available else ""
        widget.update(f"{status.message}\n{hint}".strip())

    # Access input ------------------------------------------------------------------------------

    @on(RadioSet.Changed, "#access-kind")
    def _access_kind_changed(self, _event: RadioSet.Changed) -> None:
        kind = self._access_kind()
        self.query_one("#can").set_class(kind is not AccessKind.CAN, "hidden")
        self.query_one("#mrz").set_class(kind is not AccessKind.MRZ, "hidden")
        self.query_one("#document-data").set_class(kind is not AccessKind.DOCUMENT_DATA, "hidden")
        first = {AccessKind.CAN: "#can", AccessKind.MRZ: "#mrz", AccessKind.DOCUMENT_DATA: "#document-number"}
        self.query_one(first[kind]).focus()

    def _access_kind(self) -> AccessKind:
        pressed = self.query_one("#access-kind", RadioSet).pressed_button
        return _ACCESS_BY_BUTTON.get(pressed.id if pressed and pressed.id else "", AccessKind.CAN)

    @on(Input.Submitted)
    @on(Button.Pressed, "#read")
    def action_read(self) -> None:
        if self.query_one("#read", Button).disabled:
            return  # a read is running; a thread on the card cannot be interrupted, so never start a second
        try:
            key = make_access_key(
                self._access_kind(),
                can=self.query_one("#can", Input).value,
                mrz=self.query_one("#mrz", TextArea).text,
                document_number=self.query_one("#document-number", Input).value,
                birth=self.query_one("#birth", Input).value,
                expiry=self.query_one("#expiry", Input).value,
            )
        except CardError as error:
            self._show_input_error(error.user_message)
            return
        self._show_input_error("")
        self._steps = {}
        self.query_one("#read", Button).disabled = True
        self.query_one("#progress-steps", Static).update(_("Warte auf den Ausweis … bitte auflegen."))
        bar = self.query_one("#progress-bar", ProgressBar)
        bar.remove_class("hidden")
        bar.update(total=100, progress=0)
        self.read_card(key)

    def _show_input_error(self, message: str) -> None:
        self.query_one("#input-error", Static).update(message)

    # The read ----------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="card", exit_on_error=False)
    def read_card(self, key: AccessKey) -> None:
        def progress(update: ReadProgress) -> None:
            self._from_worker(self._show_progress, update)

        try:
            outcome = self._reading.read(self._case_id, key, progress, reader=self._reader)
        except CardError as error:
            self._from_worker(self._show_failure, error.user_message)
            return
        except TresenError as error:  # the case is gone, the local store failed
            self._from_worker(self._show_failure, error.user_message)
            return
        self._from_worker(self._show_outcome, outcome, None)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.group in ("card", "card-store"):
            log.error("card worker failed: %s", type(event.worker.error).__name__)
            self._show_failure(_("Unerwarteter Fehler beim Lesen. Bitte erneut versuchen."))
            event.stop()

    def _show_progress(self, update: ReadProgress) -> None:
        state = self._steps.setdefault(update.step, _StepState())
        state.done, state.total = update.done, update.total
        self.query_one("#progress-steps", Static).update(describe_steps(self._steps))
        seen = [step for step in STEP_ORDER if step in self._steps and self._steps[step].finished]
        self.query_one("#progress-bar", ProgressBar).update(total=6, progress=len(seen))

    def _show_failure(self, message: str) -> None:
        self.query_one("#read", Button).disabled = False
        self.query_one("#progress-bar", ProgressBar).add_class("hidden")
        steps = describe_steps(self._steps, failed=True)
        self.query_one("#progress-steps", Static).update(f"{steps}\n✗ {message}".strip())

    def _show_outcome(self, outcome: CardReadOutcome, caption: str | None) -> None:
        self.outcome = outcome
        self.query_one("#read", Button).disabled = False
        self.query_one("#progress-bar", ProgressBar).add_class("hidden")
        self.query_one("#result").remove_class("hidden")

        verdict = outcome.verdict
        banner = self.query_one("#verdict", Static)
        for status in VerdictStatus:
            banner.set_class(verdict.status is status, f"verdict-{status.value.lower().replace('_', '-')}")
        banner.update(f"{caption}: {verdict.headline}" if caption else verdict.headline)
        step_lines = [
            f"{'✓' if step.ok else '✗' if step.ok is False else '–'} {step.label}" for step in verdict.steps
        ]
        self.query_one("#verdict-steps", Static).update("\n".join(step_lines))

        names = self.query_one("#names", Static)
        names.set_class(outcome.names.mismatch, "mismatch")
        names.update(outcome.names.message)
        expiry = self.query_one("#expiry-warning", Static)
        expiry.set_class(outcome.expiry is None, "hidden")
        expiry.update(outcome.expiry.message if outcome.expiry else "")

        chip = outcome.chip
        rows = [
            (_("Familienname"), chip.surname),
            (_("Vornamen"), chip.given_names),
            (_("Geburtsdatum"), _day(chip.birth_date)),
            (_("Dokumentnummer"), chip.document_number),
            (_("Dokumentart"), f"{chip.document_code} ({chip.issuing_state})"),
            (_("Gültig bis"), _day(chip.expiry_date)),
            (_("Staatsangehörigkeit"), chip.nationality),
            (_("Zugang"), outcome.access_protocol),
        ]
        self.query_one("#fields", Static).update("\n".join(f"{label:<20} {value}" for label, value in rows))
        self._show_photo(outcome.photo)
        figures = outcome.figures
        text = ""
        if figures is not None:
            seconds = f"{figures.wall_seconds:.1f}".replace(".", ",")
            text = _("{apdus} APDUs, {seconds} s").format(apdus=figures.apdus, seconds=seconds)
        self.query_one("#figures", Static).update(text)

    def _show_photo(self, photo: Photo | None) -> None:
        self._replace_photo(self._photo_widget(photo))

    @work(exclusive=True, group="card-photo")
    async def _replace_photo(self, widget: Widget) -> None:
        """The old photo leaves before the new one comes: a second read in the same dialog would
        otherwise mount a second widget with the same id while the first is still being removed."""
        container = self.query_one("#photo", Vertical)
        await container.remove_children()
        await container.mount(widget)

    @staticmethod
    def _photo_widget(photo: Photo | None) -> Widget:
        if photo is None:
            return Static(_("Kein Lichtbild auf dem Chip."), id="photo-text")
        return photo_widget(photo.data, photo.description, "photo")

    # Closing -----------------------------------------------------------------------------------

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(self.outcome)
