"""The "Aufnahme holen" dialog: the clerk types or scans the capture code (the terminal's code, or
the DataMatrix text of a photographer's printout); the photo, its checks and — when the card was
read in this case — the chip's photo beside it; "Übernehmen" attaches it to the case.

The fetch runs in a thread worker (httpx, Pillow, the signature checks); the UI never waits. The
dialog holds no rule of its own: `workstation.captures` decides (checks, what is refused, storage,
audit). Accepting is a clerk command (`DeskPort.run_command`, key-press order); the export and the
acknowledgement to the terminal follow in a worker only after it committed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState

from screens.bindings import bindings_for
from screens.card_read import photo_widget
from screens.messages import CaptureAttached
from workstation.actions import ScreenId
from workstation.errors import TresenError
from workstation.i18n import _

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import App, ComposeResult
    from textual.binding import BindingType
    from textual.widget import Widget

    from screens.desk import DeskPort
    from workstation.captures import AttachResult, CaptureDesk, FetchedCapture, HandOver
    from workstation.card_reading import Photo

log = logging.getLogger(__name__)

MAX_CODE_TEXT = 1024  # a DataMatrix text is far shorter; a scanner stuck on repeat is cut here


class CaptureFetchScreen(ModalScreen["AttachResult | None"]):
    """Modal "Aufnahme holen" for one case; dismisses with what was attached (or None)."""

    CSS_PATH = Path(__file__).with_suffix(".tcss")
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(ScreenId.CAPTURE_FETCH)

    def __init__(self, desk: DeskPort, case_id: str, chip_photo: Photo | None) -> None:
        super().__init__(classes="dialog")
        self._desk = desk
        self._case_id = case_id
        self._chip_photo = chip_photo
        self._captures: CaptureDesk | None = None
        self.fetched: FetchedCapture | None = None
        self.attached: AttachResult | None = None
        self._host_app: App[Any]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="capture-body"):
            yield Label(_("Aufnahme holen"), classes="dialog-title")
            yield Static("", id="capture-hint", classes="hidden")
            yield Input(
                placeholder=_("Aufnahme-Code eingeben oder DataMatrix-Code des Fotostudios scannen"),
                max_length=MAX_CODE_TEXT,
                id="capture-code",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Abrufen"), variant="primary", id="capture-fetch")
                yield Button(_("Übernehmen"), variant="success", id="capture-accept", disabled=True)
                yield Button(_("Schließen"), id="capture-close")
            yield Static("", id="capture-status")
            yield Static("", id="capture-checks")
            with Horizontal(id="capture-photos", classes="hidden"):
                with Vertical(id="capture-new"):
                    yield Label(_("Neue Aufnahme"), classes="photo-caption")
                    yield Vertical(id="capture-new-photo")
                with Vertical(id="capture-chip"):
                    yield Label(_("Lichtbild vom Chip"), classes="photo-caption")
                    yield Vertical(id="capture-chip-photo")

    def on_mount(self) -> None:
        self._host_app = self.app
        self.query_one("#capture-code", Input).focus()
        self.prepare()

    def _from_worker(self, callback: Callable[..., None], *args: Any) -> None:
        def deliver() -> None:
            if self.is_attached:
                callback(*args)

        self._host_app.call_from_thread(deliver)

    @work(thread=True, exclusive=True, group="capture", exit_on_error=False)
    def prepare(self) -> None:
        """Build the desk's capture service (imports httpx, Pillow …) and ask for the demo's code."""
        try:
            captures = self._desk.captures()
            hint = captures.hint(self._case_id)
        except TresenError as error:
            self._from_worker(self._show_status, error.user_message, True)
            return
        self._captures = captures
        self._from_worker(self._show_hint, hint or "")

    def _show_hint(self, hint: str) -> None:
        widget = self.query_one("#capture-hint", Static)
        widget.set_class(not hint, "hidden")
        widget.update(hint)

    def _show_status(self, message: str, problem: bool = False) -> None:
        widget = self.query_one("#capture-status", Static)
        widget.set_class(problem, "problem")
        widget.update(message)

    # -- fetch ---------------------------------------------------------------------------------

    @on(Input.Submitted, "#capture-code")
    @on(Button.Pressed, "#capture-fetch")
    def action_fetch(self) -> None:
        if self.query_one("#capture-fetch", Button).disabled:
            return  # one fetch at a time
        code = self.query_one("#capture-code", Input).value
        if not code.strip():
            self._show_status(_("Bitte den Code eingeben oder scannen."), True)
            return
        self.fetched = None
        self.query_one("#capture-accept", Button).disabled = True
        self.query_one("#capture-fetch", Button).disabled = True
        self.query_one("#capture-checks", Static).update("")
        self.query_one("#capture-photos").add_class("hidden")
        self._show_status(_("Aufnahme wird abgerufen und geprüft …"))
        self.fetch(code)

    @work(thread=True, exclusive=True, group="capture", exit_on_error=False)
    def fetch(self, code: str) -> None:
        try:
            captures = self._captures or self._desk.captures()
            fetched = captures.fetch(self._case_id, code)
        except TresenError as error:
            self._from_worker(self._show_refusal, error.user_message)
            return
        self._from_worker(self._show_fetched, fetched)

    def _show_refusal(self, message: str) -> None:
        self.query_one("#capture-fetch", Button).disabled = False
        self._show_status(_("Nicht übernommen: {message}").format(message=message), True)

    def _show_fetched(self, fetched: FetchedCapture) -> None:
        self.fetched = fetched
        self.query_one("#capture-fetch", Button).disabled = False
        if fetched.passed:
            self._show_status(
                _(
                    "Aufnahme geprüft ({source}): alle Prüfungen bestanden. "
                    "Bitte mit dem Bürger vergleichen, dann „Übernehmen“."
                ).format(source=fetched.source_label)
            )
        else:
            self._show_status(
                _("Die Aufnahme hat Prüfungen nicht bestanden und kann nicht übernommen werden."), True
            )
        self.query_one("#capture-checks", Static).update("\n".join(line.text for line in fetched.checks))
        self.query_one("#capture-accept", Button).disabled = not fetched.passed
        self.query_one("#capture-photos").remove_class("hidden")
        chip = (
            photo_widget(self._chip_photo.data, self._chip_photo.description, "chip-photo")
            if self._chip_photo is not None
            else Static(
                _("Ausweis in diesem Vorgang nicht gelesen (F9): kein Vergleichsbild."), id="chip-photo-text"
            )
        )
        self._replace_photos(
            photo_widget(fetched.photo.data, fetched.photo.description, "capture-photo"), chip
        )

    @work(exclusive=True, group="capture-photo")
    async def _replace_photos(self, new: Widget, chip: Widget) -> None:
        """Old photos leave before new ones come (a second fetch would otherwise mount twice an id)."""
        for selector, widget in (("#capture-new-photo", new), ("#capture-chip-photo", chip)):
            container = self.query_one(selector, Vertical)
            await container.remove_children()
            await container.mount(widget)

    # -- accept --------------------------------------------------------------------------------

    @on(Button.Pressed, "#capture-accept")
    def action_accept(self) -> None:
        fetched, captures = self.fetched, self._captures
        if fetched is None or captures is None or self.query_one("#capture-accept", Button).disabled:
            return
        if not fetched.passed:
            return
        self.query_one("#capture-accept", Button).disabled = True
        case_id = self._case_id
        self._desk.run_command(
            lambda _counter: captures.attach(case_id, fetched), CaptureAttached, reply_to=self
        )

    @on(CaptureAttached)
    def _attached(self, message: CaptureAttached) -> None:
        self.attached = message.result
        fetched = self.fetched
        self._show_status(_("Übernommen. Übergabe an die Fachanwendung …"))
        if fetched is not None:
            self.hand_over(fetched)

    @work(thread=True, exclusive=True, group="capture", exit_on_error=False)
    def hand_over(self, fetched: FetchedCapture) -> None:
        assert self._captures is not None
        handed = self._captures.hand_over(self._case_id, fetched)
        self._from_worker(self._show_handed_over, handed)

    def _show_handed_over(self, handed: HandOver) -> None:
        lines = [_("Aufnahme in den Vorgang übernommen."), *handed.messages]
        self._show_status("\n".join(lines), not handed.acknowledged)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.group == "capture":
            log.error("capture worker failed: %s", type(event.worker.error).__name__)
            self.query_one("#capture-fetch", Button).disabled = False
            self._show_status(_("Unerwarteter Fehler beim Abrufen. Bitte erneut versuchen."), True)
            event.stop()

    @on(Button.Pressed, "#capture-close")
    def action_close(self) -> None:
        self.dismiss(self.attached)
