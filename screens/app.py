"""The Textual application: login, the desk's screens, key bindings and command palette, and the
workers that run every call into the core (`workstation.counter.Counter`) and the sync engine off
the UI thread.

The core comes in by injection (login service or an open workplace, clock, card setup, retention),
so the entry point, the tests and the demo decide what is real. The App is the screens' `DeskPort`.
Screens are imported lazily: `import screens.app` stays cheap for the cold start, and binding labels
are translated after the language has been chosen.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.worker import Worker, WorkerState, get_current_worker

from screens.bindings import bindings_for
from screens.command_queue import CommandQueue
from screens.failures import describe_failure
from screens.heap import START_PAUSE_SECONDS, HeapPolicy
from sync.clock import utc_now
from workstation.actions import ScreenId
from workstation.i18n import _, ngettext

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from datetime import datetime

    from textual.message_pump import MessagePump
    from textual.screen import Screen

    from forms.preview import PagePreview
    from screens.messages import CommandCompleted
    from screens.supervisor import SupervisorPort
    from screens.widgets.status_bar import SyncStatusLine
    from sync.client import SwitchableTransport
    from workstation.capture_setup import CaptureSetup
    from workstation.captures import CaptureDesk
    from workstation.card_reading import CardReading
    from workstation.card_setup import CardReadingSetup
    from workstation.commands import IssueResult
    from workstation.counter import Counter
    from workstation.documents import (
        DocumentDesk,
        DocumentOutcome,
        DocumentSetup,
        FinishRequest,
        PendingDocument,
    )
    from workstation.login import LoginChoices, Workplace
    from workstation.queries import CurrentTicket
    from workstation.retention import RetentionSchedule
    from workstation.sync_engine import SyncReport, SyncStatus

log = logging.getLogger(__name__)

SYNC_INTERVAL_SECONDS = 1.0  # pause between sync rounds while online
LONG_POLL_SECONDS = 3.0  # short enough that quitting never waits long for a pending poll

Result = TypeVar("Result")


class LoginService(Protocol):
    """What the App needs of `workstation.login.DeskLogin`."""

    def choices(self) -> LoginChoices: ...

    def open(self, clerk_id: str, desk_id: str, pin: str | None = None) -> Workplace: ...

    def log_out(self) -> None: ...


class PushWanted(Message):
    """A clerk action committed an operation: push it now rather than after the long poll."""


@dataclass
class SyncReported(Message):
    """The sync worker finished a round."""

    status: SyncStatus
    pulled_changes: bool


@dataclass
class CommandFailed(Message):
    """A clerk action was refused or failed; nothing was changed."""

    action: str
    error: Exception


@dataclass
class _DocumentsPending(Message):
    """A finish (or a walk-in) decided on documents: render, seal and print them in a worker."""

    produce: Callable[[DocumentDesk], list[DocumentOutcome]]


@dataclass
class _DocumentsProduced(Message):
    outcomes: list[DocumentOutcome]


@dataclass
class _ReprintOffered(Message):
    case_id: str | None
    kinds: list[str]


@dataclass
class ActionConfirmed(Message):
    """What a clerk action did, in one line for the clerk."""

    text: str


@dataclass
class _OpenTicketChecked(Message):
    """Before quitting or logging out: the desk's current ticket (None: nothing open)."""

    current: CurrentTicket | None
    verb: str  # what the clerk wants to do, for the question
    then: Callable[[], object]


_KEY_NAMES = {"escape": "Esc", "enter": "Enter", "tab": "Tab", "space": _("Leertaste"), "delete": _("Entf")}
_MODIFIERS = {"ctrl": _("Strg"), "shift": _("Umschalt"), "alt": "Alt"}


def key_label(key: str) -> str:
    """'ctrl+n' → 'Strg+N', 'f2' → 'F2', 'escape,f1' → 'Esc'; the first of several keys."""
    *modifiers, name = key.split(",", maxsplit=1)[0].split("+")
    shown = _KEY_NAMES.get(name, name.upper() if len(name) <= 3 else name.capitalize())
    return "+".join([*(_MODIFIERS.get(m, m) for m in modifiers), shown])


class TresenApp(App[int]):
    TITLE = "Tresen"
    CSS_PATH = "global.tcss"
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        *,
        workplace: Workplace | None = None,
        login: LoginService | None = None,
        now: Callable[[], datetime] = utc_now,
        keymap: Mapping[str, str] | None = None,
        sync_interval: float = SYNC_INTERVAL_SECONDS,
        long_poll: float = LONG_POLL_SECONDS,
        card_reading: CardReadingSetup | CardReading | None = None,
        retention: RetentionSchedule | None = None,
        link: SwitchableTransport | None = None,
        office_overview: Callable[[], SupervisorPort] | None = None,
        documents: DocumentSetup | None = None,
        captures: CaptureSetup | None = None,
    ) -> None:
        if workplace is None and login is None:
            raise ValueError("TresenApp needs a workplace or a login service")
        super().__init__()
        self.workplace = workplace
        self.login = login
        self._clock = now
        self.sync_interval = sync_interval
        self.long_poll = long_poll
        self._card_reading_offered = card_reading
        self._card_reading: CardReading | None = None
        self._captures_offered = captures
        self._captures: CaptureDesk | None = None
        self.retention = retention
        self._retention_attached = False
        self.link = link  # the demo's switchable connection to the central service
        self._office_overview = office_overview  # the central service's figures, for supervisors
        self._keymap_overrides = dict(keymap or {})
        self.documents = documents  # None: this desk prints nothing (tests, workstations without printers)
        self.commands = CommandQueue()
        # A load that ran while a command committed may hold the state from before it: it only
        # delivers if no command result was delivered since it started (else it reads again), and
        # delivering happens under this lock, so a screen never sees older data after newer.
        self._delivery = threading.Lock()
        self._commands_delivered = 0
        self.heap = HeapPolicy()
        self._sync_stop = threading.Event()
        self._sync_wakeup = threading.Event()
        self._sync_line: SyncStatusLine | None = None
        self._restores_told = (0, 0)  # the desk's engine's resyncs for a restored central, and resent

    # Labels are translated when the class body runs: the CLI sets the language before importing us.
    BINDINGS: ClassVar[list[BindingType]] = [
        *bindings_for(ScreenId.APP),
        # Textual adds an English one ("palette") unless the app binds the palette itself.
        Binding("ctrl+p", "command_palette", _("Befehle"), show=False, priority=True),
    ]

    # -- start, login, desk -------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.heap.starting(self.set_timer)
        if self._keymap_overrides:
            self.set_keymap(self._keymap_overrides)
        if self.retention is not None:
            # The first purge waits for the day on screen (`started`) or the start pause's end: its
            # thread would compete with the first frame for the interpreter.
            self.set_timer(START_PAUSE_SECONDS, self._attach_retention)
        self.run_worker(self.commands.drain, name="commands", group="commands", thread=True)
        if self.workplace is not None:
            self._enter(self.workplace)
        else:
            self._ask_login()

    def _ask_login(self) -> None:
        from screens.login import LoginScreen

        assert self.login is not None
        self.push_screen(LoginScreen(self.login.choices()), self._logged_in)

    def _logged_in(self, chosen: tuple[str, str, str] | None) -> None:
        if chosen is None:
            self.exit(0)
            return
        assert self.login is not None
        clerk_id, desk_id, pin = chosen
        self.run_worker(
            partial(self.login.open, clerk_id, desk_id, pin),
            name="login",
            group="login",
            thread=True,
            exit_on_error=False,
        )

    def _enter(self, workplace: Workplace) -> None:
        from screens.counter import CounterScreen

        self.workplace = workplace
        self._card_reading = None
        self._captures = None
        self.sub_title = workplace.place_label
        self.push_screen(CounterScreen(self))
        engine = workplace.sync_engine
        if engine is not None:
            self._restores_told = (0, 0)  # an engine per opened desk: its counts start anew
            self._sync_stop = threading.Event()
            self._sync_wakeup = threading.Event()

            def sync_rounds(stop: threading.Event, wakeup: threading.Event) -> None:
                engine.run(
                    stop,
                    long_poll=self.long_poll,
                    idle=self.sync_interval,
                    wakeup=wakeup,
                    on_round=self._report_sync,
                )

            self.run_worker(
                partial(sync_rounds, self._sync_stop, self._sync_wakeup),
                name="sync",
                group="sync",
                thread=True,
                exit_on_error=False,
            )

    def _report_sync(self, report: SyncReport) -> None:
        engine = self.workplace.sync_engine if self.workplace else None
        if engine is not None:
            self.post_message(SyncReported(engine.status(), report.pulled > 0))

    def _stop_sync(self) -> None:
        self._sync_stop.set()
        self._sync_wakeup.set()

    def action_logout(self) -> None:
        if self.login is None:
            self.notify(_("Abmelden ist an diesem Arbeitsplatz nicht vorgesehen."), severity="warning")
            return
        self._unless_a_ticket_is_open(_("abmelden"), self._logout)

    def _logout(self) -> None:
        self._stop_sync()
        if self.login is not None:  # tells the central service: I/O, so in a worker
            self.run_worker(
                self.login.log_out, name="logout", group="logout", thread=True, exit_on_error=False
            )
        self.workplace = None
        self.sub_title = ""
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self._ask_login()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:  # noqa: ARG002
        if action == "toggle_link":
            return self.link is not None  # demo only: a real desk has no switch for its network
        if action == "supervisor":
            return self._sees_the_office
        return True

    @property
    def _sees_the_office(self) -> bool:
        """A supervisor at a desk with a central service: the office overview is there for them."""
        return self._office_overview is not None and self.workplace is not None and self.workplace.supervisor

    def action_supervisor(self) -> None:
        """The live office and the day's figures (Teamleitung only: the binding is off for others)."""
        from screens.supervisor import SupervisorScreen

        if self._office_overview is not None and self._sees_the_office:
            self.push_screen(SupervisorScreen(self._office_overview()))

    def action_toggle_link(self) -> None:
        if self.link is None:
            return
        if self.link.toggle():
            self.notify(
                _("Demo: Verbindung zur Zentrale wiederhergestellt – die offene Arbeit wird übertragen.")
            )
        else:
            self.notify(
                _("Demo: Verbindung zur Zentrale getrennt – der Schalter arbeitet lokal weiter."),
                severity="warning",
            )
        self._sync_wakeup.set()  # try at once instead of after the retry pause

    async def action_quit(self) -> None:
        self._unless_a_ticket_is_open(_("beenden"), self.exit)

    def _unless_a_ticket_is_open(self, verb: str, then: Callable[[], object]) -> None:
        """Run `then`, after asking when the desk still has a called or served ticket."""
        if self.workplace is None:
            then()
            return
        self.load(
            lambda counter: counter.current_ticket(),
            lambda current: _OpenTicketChecked(current, verb, then),
            reply_to=self,
            group="open-ticket",
        )

    @on(_OpenTicketChecked)
    def _open_ticket_checked(self, message: _OpenTicketChecked) -> None:
        from screens.dialogs import ConfirmDialog

        if message.current is None:
            message.then()
            return
        question = _(
            "Wartenummer {number} ist noch aufgerufen oder in Bearbeitung. Trotzdem {verb}? "
            "Sie bleibt dann für diesen Schalter offen."
        ).format(number=message.current.number, verb=message.verb)

        def decided(confirmed: bool | None) -> None:
            if confirmed:
                message.then()

        self.push_screen(ConfirmDialog(question, message.verb.capitalize()), decided)

    # -- the screens' DeskPort -------------------------------------------------------------------------

    @property
    def place_label(self) -> str:
        return self.workplace.place_label if self.workplace else ""

    @property
    def sync_line(self) -> SyncStatusLine | None:
        return self._sync_line

    def now(self) -> datetime:
        return self._clock()

    @property
    def counter(self) -> Counter:
        assert self.workplace is not None, "no desk logged in"
        return self.workplace.counter

    def run_command(
        self,
        command: Callable[[Counter], Result],
        done: Callable[[Result, CurrentTicket | None], CommandCompleted],
        reply_to: MessagePump,
    ) -> None:
        """Queue one clerk action behind those before it; its result reaches `reply_to` as `done`
        makes it, a refusal or failure becomes the German dialog (`CommandFailed`)."""
        counter = self.counter
        action = done.__name__ if isinstance(done, type) else "command"  # for the log only

        def job() -> None:
            try:
                result = command(counter)
                current = counter.current_ticket()
            except Exception as error:  # noqa: BLE001 - the command boundary: every failure is shown
                self.post_message(CommandFailed(action, error))
                return
            message = done(result, current)
            with self._delivery:
                self._commands_delivered += 1
                reply_to.post_message(message)
            if message.confirmation:
                self.post_message(ActionConfirmed(message.confirmation))
            self.post_message(PushWanted())  # posting never blocks this thread on the UI

        self.commands.submit(job)

    def load(
        self,
        query: Callable[[Counter], Result],
        loaded: Callable[[Result], Message],
        reply_to: MessagePump,
        *,
        group: str,
    ) -> None:
        counter = self.counter

        def fetch() -> None:
            worker = get_current_worker()
            while not worker.is_cancelled:
                seen = self._commands_delivered
                data = query(counter)
                with self._delivery:
                    if seen == self._commands_delivered and not worker.is_cancelled:
                        reply_to.post_message(loaded(data))
                        return

        self.run_worker(
            fetch, name=group, group=f"load-{group}", exclusive=True, thread=True, exit_on_error=False
        )

    def finish_visit(self, request: FinishRequest, reply_to: MessagePump) -> None:
        """Finish the open case; with documents set up, its documents are decided in the same local
        transaction and printed afterwards in a worker (the finish never waits for a printer)."""
        from screens.messages import CaseFinished
        from workstation.documents import finish_with_documents

        setup = self.documents
        if setup is None:
            self.run_command(
                lambda counter: counter.finish(request.outcomes, request.notes), CaseFinished, reply_to
            )
            return

        def done(result: tuple[Any, list[PendingDocument]], current: CurrentTicket | None) -> CaseFinished:
            finished, pending = result
            if pending:
                self.post_message(_DocumentsPending(lambda desk: desk.produce(pending)))
            return CaseFinished(finished, current)

        self.run_command(
            lambda counter: finish_with_documents(counter, request, setup.letterhead), done, reply_to
        )

    def preview_finish(self, request: FinishRequest) -> list[tuple[str, PagePreview]]:
        from workstation.documents import preview_finish

        setup = self.documents
        if setup is None:
            return []  # no documents at this desk: the finish prints nothing
        return [(page.label, page.page) for page in preview_finish(self.counter, request, setup.letterhead)]

    def print_ticket_slip(self, issued: IssueResult) -> None:
        """The Wartenummer slip of a walk-in issued at the desk (Strg+N), on the thermal printer."""
        from workstation.documents import ticket_slip_of

        setup = self.documents
        if setup is None:
            return
        counter = self.counter
        self.post_message(
            _DocumentsPending(
                lambda desk: [desk.print_ticket(ticket_slip_of(counter, issued, setup.queue_status_url))]
            )
        )

    def offer_reprint(self) -> None:
        from workstation.documents import kept_kinds, reprint_case_of

        setup = self.documents
        if setup is None:
            self.notify(_("An diesem Arbeitsplatz ist kein Drucker eingerichtet."), severity="warning")
            return
        counter = self.counter

        def find() -> None:
            case_id = reprint_case_of(counter.store, counter.ctx.office_id, counter.ctx.desk_id)
            kinds = [kind.value for kind in kept_kinds(setup.kept, case_id)] if case_id else []
            self.post_message(_ReprintOffered(case_id, kinds))

        self.run_worker(find, name="reprint", group="reprint", thread=True, exit_on_error=False)

    @on(_ReprintOffered)
    def _reprint_offered(self, message: _ReprintOffered) -> None:
        from screens.dialogs import ReprintDialog
        from workstation.documents import DocumentKind

        case_id = message.case_id
        if case_id is None or not message.kinds:
            self.notify(_("Für den letzten Vorgang ist kein Dokument aufbewahrt."), severity="warning")
            return

        def chosen(kinds: list[str] | None) -> None:
            if kinds:
                self.post_message(
                    _DocumentsPending(
                        lambda desk: [desk.reprint(case_id, DocumentKind(kind)) for kind in kinds]
                    )
                )

        setup, counter = self.documents, self.counter
        assert setup is not None  # offered only with documents set up

        def preview(kind: str) -> PagePreview:  # in the preview's thread worker
            desk = setup.for_desk(counter.store, counter.ctx.clerk_id)
            return desk.preview(case_id, DocumentKind(kind))

        self.push_screen(ReprintDialog(message.kinds, preview), chosen)

    @on(_DocumentsPending)
    def _produce_documents(self, message: _DocumentsPending) -> None:
        assert self.documents is not None
        desk = self.documents.for_desk(self.counter.store, self.counter.ctx.clerk_id)

        def produce() -> None:
            self.post_message(_DocumentsProduced(message.produce(desk)))

        self.run_worker(produce, name="documents", group="documents", thread=True, exit_on_error=False)

    @on(_DocumentsProduced)
    def _documents_produced(self, message: _DocumentsProduced) -> None:
        for outcome in message.outcomes:
            self.notify(outcome.message, severity="information" if outcome.printed else "error", timeout=8)

    def card_reading(self) -> CardReading:
        if self._card_reading is None:
            from workstation.card_reading import CardReading
            from workstation.card_setup import CardReadingSetup

            offered = self._card_reading_offered
            if isinstance(offered, CardReading):
                self._card_reading = offered
            else:
                setup = offered if isinstance(offered, CardReadingSetup) else CardReadingSetup()
                self._card_reading = setup.for_desk(self.counter.store, self.counter.ctx)
        return self._card_reading

    def captures(self) -> CaptureDesk:
        if self._captures is None:
            from workstation.capture_setup import CaptureSetup

            setup = self._captures_offered or CaptureSetup()
            self._captures = setup.for_desk(self.counter.store, self.counter.ctx, clock=self._clock)
        return self._captures

    def open_case(self, case_id: str | None) -> None:
        from screens.case import CaseScreen

        if case_id is None:
            self.notify(_("Zu dieser Wartenummer ist kein Vorgang geöffnet."), severity="warning")
            return
        self.push_screen(CaseScreen(self, case_id))

    def started(self) -> None:
        self.heap.day_on_screen(self.set_interval)
        self._attach_retention()

    def _attach_retention(self) -> None:
        if self.retention is not None and not self._retention_attached:
            self._retention_attached = True
            self.retention.attach(self)  # purge personal data now and hourly, in a thread worker

    # -- results and failures ----------------------------------------------------------------------

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.SUCCESS and worker.group == "login" and worker.result is not None:
            self._enter(worker.result)
        elif event.state == WorkerState.ERROR and worker.error is not None:
            if worker.group == "login":
                # The login screen is gone already: bring it back beneath the message, so the clerk
                # can choose again instead of facing an empty screen.
                self._ask_login()
            self._show_failure(worker.name, worker.error)

    @on(CommandFailed)
    def _command_failed(self, message: CommandFailed) -> None:
        self._show_failure(message.action, message.error)

    def _show_failure(self, what: str, error: BaseException) -> None:
        from screens.dialogs import MessageDialog

        text = describe_failure(error, what)
        self.push_screen(MessageDialog(text.title, text.message))

    @on(ActionConfirmed)
    def _confirmed(self, message: ActionConfirmed) -> None:
        self.notify(message.text, timeout=4)

    def on_key(self) -> None:
        self.heap.key_pressed()

    # -- sync ----------------------------------------------------------------------------------------

    @on(PushWanted)
    def _push_now(self) -> None:
        """Push a fresh operation at once, without waiting for a long poll in progress."""
        engine = self.workplace.sync_engine if self.workplace else None
        if engine is not None:

            def push() -> None:
                engine.push_pending()  # never raises
                self.post_message(SyncReported(engine.status(), False))

            self.run_worker(push, name="push", group="push", thread=True, exit_on_error=False)

    @on(SyncReported)
    def _sync_reported(self, message: SyncReported) -> None:
        from screens.messages import StoreChanged
        from screens.widgets.status_bar import SyncStatusBar, SyncStatusLine

        status = message.status
        line = SyncStatusLine(
            online=status.online,
            pending_operations=status.pending_operations,
            last_sync_at=status.last_sync_at,
            last_error=_(status.last_error_de) if status.last_error_de else None,
            rejected_operations=status.rejected_operations,
            copied_store=status.copied_store,
        )
        if line.copied_store and line.last_error and not (self._sync_line and self._sync_line.copied_store):
            # The whole sentence, which the status bar may cut: the clerk's work stays here until
            # the copy is enrolled as a workstation of its own.
            self.notify(line.last_error, severity="error", timeout=30)
        before = self._sync_line.rejected_operations if self._sync_line is not None else 0
        if line.rejected_operations > before:
            # Told at once, not only in the bar: work the clerk did was refused (e.g. a ticket another
            # desk called first); `tresen sync status` lists each with its reason.
            self.notify(
                ngettext(
                    "Die Zentrale hat {count} Vorgang dieses Arbeitsplatzes abgelehnt (Statuszeile).",
                    "Die Zentrale hat {count} Vorgänge dieses Arbeitsplatzes abgelehnt (Statuszeile).",
                    line.rejected_operations - before,
                ).format(count=line.rejected_operations - before),
                severity="warning",
                timeout=10,
            )
        self._tell_central_restored(status)
        self._sync_line = line
        for bar in self.screen.query(SyncStatusBar):
            bar.show(line)
        if message.pulled_changes:
            for screen in self.screen_stack:
                screen.post_message(StoreChanged())

    def _tell_central_restored(self, status: SyncStatus) -> None:
        """Once per resync: the replica was loaded anew (the screens may have changed under the clerk)
        and work the restored central service had lost was sent again."""
        restores, resent_before = self._restores_told
        if status.central_restores <= restores:
            return
        self._restores_told = (status.central_restores, status.resent_after_restores)
        resent = status.resent_after_restores - resent_before
        if resent:
            text = ngettext(
                "Die Zentrale wurde aus einer Sicherung wiederhergestellt: Daten neu geladen, "
                "{count} Vorgang erneut gesendet.",
                "Die Zentrale wurde aus einer Sicherung wiederhergestellt: Daten neu geladen, "
                "{count} Vorgänge erneut gesendet.",
                resent,
            ).format(count=resent)
        else:
            text = _("Die Zentrale wurde aus einer Sicherung wiederhergestellt: Daten neu geladen.")
        self.notify(text, severity="warning", timeout=30)

    # -- palette and help -----------------------------------------------------------------------------

    def action_command_palette(self) -> None:
        from textual.command import CommandPalette

        from screens.textual_german import Palette

        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            self.push_screen(Palette(placeholder=_("Befehl suchen …"), id="--command-palette"))

    def get_key_display(self, binding: Binding) -> str:
        """Keys as they are printed on a German keyboard ("Strg+N", "F2", "Esc")."""
        return key_label(binding.key_display or binding.key)

    def bound_keys(self, screen: Screen[Any]) -> list[tuple[str, Binding]]:
        """Each action of `screen` and the app with the key it is bound to now (keymap applied)."""
        seen: set[str] = set()
        keys: list[tuple[str, Binding]] = []
        for active in screen.active_bindings.values():
            binding = active.binding
            if binding.id and binding.id not in seen and binding.description:
                seen.add(binding.id)
                keys.append((self.get_key_display(binding), binding))
        return keys

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every action of the current screen by its German name and current key, then the app's own."""
        for key, binding in self.bound_keys(screen):
            yield SystemCommand(
                binding.description,
                _("Taste {key}").format(key=key),
                partial(self.run_action, binding.action, screen),
            )
        yield SystemCommand(_("Farbschema"), _("Farbschema wechseln"), self.action_change_theme)
        yield SystemCommand(
            _("Bildschirmfoto"),
            _("Den Bildschirm als SVG-Datei speichern"),
            lambda: self.set_timer(0.1, self.deliver_screenshot),
        )

    def action_help(self) -> None:
        from screens.help import ExplainsRowKeys, HelpScreen

        keys = [(key, binding.description) for key, binding in self.bound_keys(self.screen)]
        if isinstance(self.screen, ExplainsRowKeys):
            keys.extend(self.screen.row_keys())
        keys.append((key_label("ctrl+p"), _("Befehlspalette")))
        self.push_screen(HelpScreen(keys))

    def on_unmount(self) -> None:
        self._stop_sync()
        self.commands.stop()
        self.heap.restore()
