"""The Textual application: screens, key bindings, command palette, status bar and the workers
that run every call into the domain (`workstation.counter.Counter`) and the sync engine off the UI
thread.

Domain objects come in by injection (counter, sync engine, clock), so tests and the demo decide what
is real. Screens are imported lazily: `import workstation.app` stays cheap for the cold start, and
the binding labels are translated after the language has been chosen.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.card_setup import CardReadingSetup
    from workstation.counter import Counter
    from workstation.retention import RetentionSchedule

log = logging.getLogger(__name__)

SCREENS_DIR = Path(__file__).resolve().parent.parent / "screens"
SYNC_INTERVAL_SECONDS = 1.0  # pause between sync rounds while online
LONG_POLL_SECONDS = 3.0  # short enough that quitting never waits long for a pending poll
GC_FULL_INTERVAL_SECONDS = 20.0  # full garbage collections run on this timer …
GC_QUIET_SECONDS = 2.0  # … when no key was pressed for this long
GC_NO_AUTOMATIC_FULL = 1_000_000  # gen-2 threshold that the allocator never reaches
GC_START_PAUSE_SECONDS = 5.0  # the collector rests while the first screen fills, at most this long


def utc_now() -> datetime:
    return datetime.now(UTC)


class SyncEngineLike(Protocol):
    """What the app needs of `workstation.sync_engine.SyncEngine`."""

    @property
    def is_online(self) -> bool: ...

    def sync_once(self, wait: float = 0.0) -> Any: ...

    def push_pending(self) -> Any: ...

    def status(self) -> Any: ...

    def retry_delay(self) -> float: ...


@dataclass(frozen=True)
class Workplace:
    """A logged-in desk: the domain facade, its sync engine (None: local only), and its label."""

    counter: Counter
    sync_engine: SyncEngineLike | None
    place_label: str


@dataclass(frozen=True)
class LoginChoices:
    clerks: Sequence[tuple[str, str]]  # (id, name)
    desks: Sequence[tuple[str, str]]


class LoginService(Protocol):
    def choices(self) -> LoginChoices: ...

    def open(self, clerk_id: str, desk_id: str) -> Workplace: ...


class PushWanted(Message):
    """A clerk action committed an operation: push it now rather than after the long poll."""


@dataclass
class SyncReported(Message):
    """The sync worker finished a round; `status` is the engine's `SyncStatus`."""

    status: Any
    pulled_changes: bool


class TresenApp(App[int]):
    TITLE = "Tresen"
    CSS_PATH: ClassVar[list[str | PurePath]] = [SCREENS_DIR / "global.tcss"]
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
        card_reading: CardReadingSetup | None = None,
        retention: RetentionSchedule | None = None,
    ) -> None:
        if workplace is None and login is None:
            raise ValueError("TresenApp needs a workplace or a login service")
        super().__init__()
        self.workplace = workplace
        self.login = login
        self.now = now
        self.sync_interval = sync_interval
        self.long_poll = long_poll
        self.card_reading = card_reading  # read by `screens.card_read.card_reading_of`
        self.retention = retention
        self._keymap_overrides = dict(keymap or {})
        self._command_lock = threading.Lock()  # one clerk action at a time, in key-press order
        self._sync_wakeup = threading.Event()
        self._stopping = False
        self.sync_line: Any = None  # the last SyncStatusLine, for status bars mounted later
        self._saved_gc_threshold: tuple[int, int, int] | None = None
        self._heap_frozen = False
        self._collector_was_enabled = True
        self._last_key_at = 0.0

    # -- bindings and palette -------------------------------------------------------------------------

    # Labels are translated when the class body runs: the CLI sets the language before importing us.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", _("Hilfe"), id="help"),
        Binding("ctrl+q", "quit", _("Beenden"), id="quit", show=False),
    ]

    def on_mount(self) -> None:
        # What is loaded by now (Textual, SQLAlchemy, the models) lives as long as the process: out of
        # the collector's sight. And no collections while the first screen fills: its widgets and the
        # day's rows all stay, so collecting would only scan them (~100 ms of the start). `freeze_heap`
        # resumes the collector once the day is on screen, a timer at the latest.
        gc.freeze()
        self._heap_frozen = True
        self._collector_was_enabled = gc.isenabled()
        gc.disable()
        self.set_timer(GC_START_PAUSE_SECONDS, self._resume_collector)
        if self._keymap_overrides:
            self.set_keymap(self._keymap_overrides)
        if self.retention is not None:
            self.retention.attach(self)  # purge personal data now and hourly, in a thread worker
        if self.workplace is not None:
            self._enter(self.workplace)
        else:
            self._ask_login()

    def _ask_login(self) -> None:
        from screens.login import LoginScreen

        assert self.login is not None
        self.push_screen(LoginScreen(self.login.choices()), self._logged_in)

    def _logged_in(self, chosen: tuple[str, str] | None) -> None:
        if chosen is None:
            self.exit(0)
            return
        assert self.login is not None
        clerk_id, desk_id = chosen
        self.run_worker(
            partial(self.login.open, clerk_id, desk_id),
            name="login",
            group="login",
            thread=True,
            exit_on_error=False,
        )

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.SUCCESS and worker.group == "login":
            self._enter(worker.result)
        elif event.state == WorkerState.ERROR:
            if worker.group == "login":
                # The login screen is gone already: bring it back beneath the message, so the clerk
                # can choose again instead of facing an empty screen.
                self._ask_login()
            self._show_failure(worker.name, worker.error)

    def _enter(self, workplace: Workplace) -> None:
        from screens.counter import CounterScreen

        self.workplace = workplace
        self.sub_title = workplace.place_label
        self.push_screen(CounterScreen())
        if workplace.sync_engine is not None:
            self.run_worker(self._sync_loop, name="sync", group="sync", thread=True, exit_on_error=False)

    def _show_failure(self, name: str, error: BaseException | None) -> None:
        from screens.dialogs import MessageDialog

        user_message = getattr(error, "user_message", None)
        if user_message is None:
            # Not a situation the clerk can act on: keep the details in the log, not on the screen.
            log.error("worker %s failed", name, exc_info=error)
            user_message = _(
                "Ein unerwarteter Fehler ist aufgetreten. Die Aktion wurde nicht ausgeführt; "
                "bitte erneut versuchen oder die IT informieren."
            )
            title = _("Fehler")
        else:
            title = _("Nicht möglich") if type(error).__name__ == "CommandRefused" else _("Fehler")
        self.push_screen(MessageDialog(title, _(user_message)))

    def freeze_heap(self) -> None:
        """Once the day's rows are on screen, keep full garbage collections off key presses: they scan
        thousands of rows (100 ms and more). The start-up heap leaves the collector's sight, and the
        full collections run on a timer, skipped while the clerk is typing."""
        if self._saved_gc_threshold is not None:
            return
        gc.collect()
        gc.freeze()
        self._saved_gc_threshold = gc.get_threshold()
        young, middle, _old = self._saved_gc_threshold
        gc.set_threshold(young, middle, GC_NO_AUTOMATIC_FULL)
        self.set_interval(GC_FULL_INTERVAL_SECONDS, self._collect_between_keys)
        self._resume_collector()

    def _resume_collector(self) -> None:
        if self._collector_was_enabled:
            gc.enable()

    def _collect_between_keys(self) -> None:
        if time.monotonic() - self._last_key_at > GC_QUIET_SECONDS:
            gc.collect()

    def on_key(self) -> None:
        self._last_key_at = time.monotonic()

    @property
    def place_label(self) -> str:
        return self.workplace.place_label if self.workplace else ""

    @property
    def counter(self) -> Counter:
        assert self.workplace is not None, "no desk logged in"
        return self.workplace.counter

    def action_command_palette(self) -> None:
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(placeholder=_("Befehl suchen …"), id="--command-palette"))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """German system commands, and every action of the current screen by its German name."""
        for binding in screen.BINDINGS:
            if isinstance(binding, Binding) and binding.id:
                yield SystemCommand(
                    binding.description,
                    _("Taste {key}").format(key=self.get_key_display(binding)),
                    partial(screen.run_action, binding.action),
                )
        yield SystemCommand(_("Hilfe"), _("Tastenbelegung anzeigen (F1)"), self.action_help)
        yield SystemCommand(_("Farbschema"), _("Farbschema wechseln"), self.action_change_theme)
        yield SystemCommand(
            _("Bildschirmfoto"),
            _("Den Bildschirm als SVG-Datei speichern"),
            lambda: self.set_timer(0.1, self.deliver_screenshot),
        )
        yield SystemCommand(_("Beenden"), _("Tresen beenden"), self.action_quit)

    def action_help(self) -> None:
        from screens.help import HelpScreen

        keys = [
            (self.get_key_display(binding), binding.description)
            for binding in self.screen.BINDINGS
            if isinstance(binding, Binding) and binding.id
        ]
        keys.append(("Strg+P", _("Befehlspalette")))
        keys.append(("Strg+Q", _("Beenden")))
        self.push_screen(HelpScreen(keys))

    def show_case(self, case_id: str | None) -> None:
        from screens.case import CaseScreen

        if case_id is None:
            self.notify(_("Zu dieser Wartenummer ist kein Vorgang geöffnet."), severity="warning")
            return
        self.push_screen(CaseScreen(case_id))

    # -- workers: every call into the domain runs off the UI thread ------------------------------

    def run_command(self, action: str, command: Callable[[Counter], Any], reply_to: MessagePump) -> None:
        """Run one clerk action; the result comes back to `reply_to` as `CommandDone`."""
        self.run_worker(
            partial(self._command_in_thread, action, command, reply_to),
            name=action,
            group="command",
            thread=True,
            exit_on_error=False,
        )

    def _command_in_thread(
        self, action: str, command: Callable[[Counter], Any], reply_to: MessagePump
    ) -> None:
        from screens.messages import CommandDone

        with self._command_lock:
            result = command(self.counter)
            current = self.counter.current_ticket(self.now())
        reply_to.post_message(CommandDone(action, result, current))
        self.post_message(PushWanted())  # posting never blocks this thread on the UI

    def fetch(self, what: str, query: Callable[[Counter, datetime], Any], reply_to: MessagePump) -> None:
        """Load a read model; a newer request of the same kind supersedes an older one."""
        self.run_worker(
            partial(self._fetch_in_thread, what, query, reply_to),
            name=what,
            group=f"fetch-{what}",
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )

    def _fetch_in_thread(
        self, what: str, query: Callable[[Counter, datetime], Any], reply_to: MessagePump
    ) -> None:
        from screens.messages import Loaded

        data = query(self.counter, self.now())
        if not get_current_worker().is_cancelled:
            reply_to.post_message(Loaded(what, data))

    def _sync_loop(self) -> None:
        """Pull (long-polling while online) and push until the app stops; report after each round."""
        engine = self.workplace.sync_engine if self.workplace else None
        worker = get_current_worker()
        while engine is not None and not worker.is_cancelled and not self._stopping:
            report = engine.sync_once(wait=self.long_poll if engine.is_online else 0.0)  # never raises
            self.post_message(SyncReported(engine.status(), report.pulled > 0))
            self._sync_wakeup.wait(self.sync_interval if report.online else max(1.0, engine.retry_delay()))
            self._sync_wakeup.clear()

    @on(PushWanted)
    def _push_now(self) -> None:
        """Push a fresh operation at once, without waiting for a long poll in progress."""
        engine = self.workplace.sync_engine if self.workplace else None
        if engine is not None:
            self.run_worker(self._push_in_thread, name="push", group="push", thread=True, exit_on_error=False)

    def _push_in_thread(self) -> None:
        engine = self.workplace.sync_engine if self.workplace else None
        if engine is not None:
            engine.push_pending()  # never raises
            self.post_message(SyncReported(engine.status(), False))

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
        )
        self.sync_line = line
        for bar in self.screen.query(SyncStatusBar):
            bar.show(line)
        if message.pulled_changes:
            for screen in self.screen_stack:
                screen.post_message(StoreChanged())

    def on_unmount(self) -> None:
        self._stopping = True
        self._sync_wakeup.set()
        if self._saved_gc_threshold is not None:  # leave the process as we found it
            gc.set_threshold(*self._saved_gc_threshold)
        if self._heap_frozen:
            gc.unfreeze()
        self._resume_collector()
