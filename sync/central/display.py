"""The waiting room's pages, served by the central service: the call display (`/display/{office}`) and
the citizen's status page behind the ticket's QR code (`/q/{token}`).

Plain server-rendered HTML (no build step, no CDN, no external fonts). Each page renders its live part
once, in Python; a server-sent event carries the re-rendered part after every change of the office
and a few lines of inline JavaScript swap it in. EventSource reconnects by itself; the page keeps the
last state and says "Verbindung unterbrochen" meanwhile.

Every open page of an office shares one `OfficeBoard` per change (`BoardCache`), so thousands of
phones cost one database read per change. Streams end after `STREAM_LIFETIME_SECONDS` (the browser
reconnects at once) and at once when `StreamHub.close()` is called on shutdown.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from sqlalchemy.exc import SQLAlchemyError

from sync.central import display_config, waiting_room
from sync.central.auth import DISPLAY_COOKIE, WORKSTATION, Authenticator
from sync.central.credentials import TokenKind
from sync.central.display_config import MAX_COLUMNS, DisplaySettings
from sync.central.display_texts import DISPLAY_TEXTS, TEXTS
from sync.central.waiting_room import OfficeBoard, StatusKind, TicketStatus
from sync.clock import OFFICE_ZONE
from sync.protocol import STATUS_PAGE_PATH

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from fastapi import FastAPI

    from sync.central.changes import ChangeNotifier
    from sync.central.store import CentralStore
    from sync.clock import Clock
    from sync.waiting import WaitEstimate

log = logging.getLogger(__name__)

__all__ = [
    "TEXTS",
    "BoardCache",
    "DisplayOptions",
    "ScreenQuery",
    "StreamHub",
    "close_streams",
    "demo_addresses",
    "display_router",
    "display_url",
    "status_page_url",
]

STREAM_LIFETIME_SECONDS = 300.0  # then the browser reconnects: bounds a stream even without close()
REFRESH_SECONDS = 5.0  # re-read without a wake-up: another process may write, highlights expire
BOARD_MAX_AGE_SECONDS = 2.0
RECONNECT_MILLISECONDS = 1000
PING_SECONDS = 15.0
HIGHLIGHT_SECONDS = 60

OfficePath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
TokenPath = Annotated[str, Path(min_length=1, max_length=64)]
GroupsQuery = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9,]*$")]
CallsQuery = Annotated[int | None, Query(ge=1, le=50)]
ColumnsQuery = Annotated[int | None, Query(ge=1, le=MAX_COLUMNS)]
RotateQuery = Annotated[int | None, Query(ge=1, le=300)]
LangQuery = Annotated[str | None, Query(max_length=40, pattern=r"^[a-z,]*$")]


def status_page_url(central_url: str, token: str) -> str:
    """The address printed in the ticket slip's QR code."""
    return central_url.rstrip("/") + STATUS_PAGE_PATH.format(token=token)


def display_url(central_url: str, office_id: str) -> str:
    return f"{central_url.rstrip('/')}/display/{office_id}"


def demo_addresses(central: CentralStore, central_url: str, office_id: str) -> tuple[str, str | None]:
    """For `tresen demo` to print: the office's call display (with a new display token, which the
    first visit turns into a cookie) and the status page of its longest waiting ticket today (None
    when nobody waits)."""
    from sync.central import credentials
    from sync.clock import utc_now

    with central.write() as session:
        key = credentials.create_token(session, TokenKind.DISPLAY, office_id, utc_now(), label="demo display")
        token = waiting_room.first_waiting_token(session, office_id)
    display = f"{display_url(central_url, office_id)}?key={key}"
    return display, status_page_url(central_url, token) if token else None


def close_streams(app: FastAPI) -> None:
    """End every open waiting-room stream of `app` at once; call it just before telling uvicorn to
    exit (uvicorn drains open responses before the lifespan ends, and a stream never ends by itself
    sooner than `STREAM_LIFETIME_SECONDS`). Thread-safe; browsers reconnect once the service is back."""
    hub: StreamHub = app.state.display_streams
    hub.close()


# --- language ---------------------------------------------------------------------------------------


def choose_language(lang: str | None, accept_language: str | None) -> str:
    """`?lang=` wins; else the first language of Accept-Language we have; else German."""
    if lang in TEXTS:
        return lang
    ranked: list[tuple[float, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality + index * 1e-6, tag.split("-")[0].lower()))
    for _, code in sorted(ranked):
        if code in TEXTS:
            return code
    return "de"


# --- escape-safe rendering --------------------------------------------------------------------------


class Html(str):
    """Markup made here; `render` inserts it as is. Every other value is escaped."""

    __slots__ = ()


def esc(value: object) -> Html:
    return value if isinstance(value, Html) else Html(html.escape(str(value), quote=True))


def render(template: Template, **values: object) -> Html:
    return Html(template.substitute({name: esc(value) for name, value in values.items()}))


def _asset(name: str) -> str:
    return (resources.files("sync.central") / "templates" / name).read_text(encoding="utf-8")


_PAGE = Template(_asset("page.html"))
_DISPLAY_CSS = _asset("display.css")
_STATUS_CSS = _asset("status.css")
_LIVE_JS = _asset("live.js")


def _page(lang: str, title: str, css: str, body: Html, stream: str | None, offline: str) -> Html:
    return render(
        _PAGE,
        lang=lang,
        title=title,
        css=Html(css),
        body=body,
        stream=stream or "",
        offline=offline,
        script=Html(_LIVE_JS) if stream else Html(""),
    )


def _wait_text(estimate: WaitEstimate, texts: dict[str, str]) -> str:
    if estimate.low is None or estimate.high is None:
        return texts["unknown_wait"]
    return texts["minutes"].format(low=estimate.low, high=estimate.high)


@dataclass(frozen=True)
class DisplayOptions:
    """What one screen shows: the office's stored settings (`DisplaySettings`) with the screen's own
    URL query over them (`ScreenQuery`). `groups`: only these service groups (ticket prefixes) and
    their calls; `calls` rows in `columns` columns; the fixed labels in `languages`, one after the
    other every `rotate_seconds`."""

    groups: frozenset[str] | None = None
    calls: int = waiting_room.CALLS_SHOWN
    columns: int = 1
    languages: tuple[str, ...] = ("de",)
    rotate_seconds: int = 10

    @classmethod
    def from_settings(cls, settings: DisplaySettings) -> DisplayOptions:
        return cls(
            frozenset(settings.groups) or None,
            settings.calls,
            settings.columns,
            tuple(settings.languages),
            settings.rotate_seconds,
        )


@dataclass(frozen=True)
class ScreenQuery:
    """One screen's own choices from its URL (`?groups=A,B&calls=6&columns=2&lang=de,en&rotate=8`),
    each overriding the office's stored setting for this screen alone. `lang` lists the languages to
    rotate through as given (one: no rotation); unknown codes are ignored."""

    groups: str | None = None
    calls: int | None = None
    columns: int | None = None
    lang: str | None = None
    rotate: int | None = None

    def over(self, settings: DisplaySettings) -> DisplayOptions:
        stored = DisplayOptions.from_settings(settings)
        groups = frozenset(g.strip() for g in self.groups.split(",") if g.strip()) if self.groups else None
        languages = tuple(
            dict.fromkeys(code for code in (self.lang or "").split(",") if code in DISPLAY_TEXTS)
        )
        return DisplayOptions(
            groups or stored.groups,
            min(max(self.calls or stored.calls, 1), waiting_room.CALLS_SHOWN),
            min(max(self.columns or stored.columns, 1), MAX_COLUMNS),
            languages or stored.languages,
            self.rotate or stored.rotate_seconds,
        )

    def query(self) -> str:
        """The same choices for the page's stream (which reads the stored settings again)."""
        parts = {name: value for name, value in dataclasses.asdict(self).items() if value is not None}
        return urlencode(parts)


def render_display_board(board: OfficeBoard, options: DisplayOptions) -> Html:
    """The display's live part in each of its languages, German first; all but the first hidden, the
    page's script shows one after the other (`live.js`)."""
    return Html(
        "".join(
            render(
                Template('<div class="board" data-lang="$code" lang="$code"$hidden>$part</div>'),
                code=code,
                hidden=Html(" hidden" if index else ""),
                part=render_display_live(board, DISPLAY_TEXTS[code], options),
            )
            for index, code in enumerate(options.languages)
        )
    )


def rotating_text(key: str, languages: tuple[str, ...]) -> Html:
    """A fixed label outside the live part (the offline notice) in each language, as the board."""
    return Html(
        "".join(
            render(
                Template('<span data-lang="$code" lang="$code"$hidden>$text</span>'),
                code=code,
                hidden=Html(" hidden" if index else ""),
                text=DISPLAY_TEXTS[code][key],
            )
            for index, code in enumerate(languages)
        )
    )


def render_display_live(
    board: OfficeBoard, texts: dict[str, str], options: DisplayOptions = DisplayOptions()
) -> Html:
    """The display's live part: calls (newest first) and the queue per service group."""
    shown_groups = [g for g in board.groups if options.groups is None or g.prefix in options.groups]
    prefixes = {g.prefix for g in shown_groups}
    calls_shown = [
        call for call in board.calls if options.groups is None or _prefix(call.number) in prefixes
    ][: options.calls]
    rows = [
        render(
            Template(
                '<tr class="call" data-call-id="$id" data-called-at="$at">'
                '<td class="number">$number</td><td class="arrow" aria-hidden="true">→</td>'
                '<td class="desk"><span class="visually-hidden">$desk_word </span>$desk</td></tr>'
            ),
            id=call.call_id,
            at=int(call.called_at.timestamp() * 1000),
            number=call.number,
            desk_word=texts["desk"],
            desk=call.desk_number,
        )
        for call in calls_shown
    ]
    table = Template(
        '<table class="calls"><caption class="visually-hidden">$caption</caption>'
        '<thead><tr><th scope="col">$number</th>'
        '<th scope="col"><span class="visually-hidden">→</span></th>'
        '<th scope="col">$desk</th></tr></thead><tbody>$rows</tbody></table>'
    )
    per_column = -(-len(rows) // options.columns) if rows else 1  # newest first, down each column
    tables = "".join(
        render(
            table,
            caption=texts["calls"],
            number=texts["number"],
            desk=texts["desk"],
            rows=Html("".join(rows[start : start + per_column])),
        )
        for start in range(0, len(rows), per_column)
    )
    calls = (
        render(
            Template('<div class="call-columns columns-$columns">$tables</div>'),
            columns=options.columns,
            tables=Html(tables),
        )
        if calls_shown
        else render(Template('<p class="no-calls">$text</p>'), text=texts["no_calls"])
    )
    groups = "".join(
        render(
            Template(
                '<li class="group" data-prefix="$prefix"><span class="prefix">$prefix</span>'
                '<span class="names">$names</span>'
                '<span class="count"><span class="waiting-count">$waiting</span> $waiting_word</span>'
                '<span class="estimate">$wait_word: <span class="wait">$wait</span></span></li>'
            ),
            prefix=group.prefix,
            names=", ".join(group.service_names),
            waiting=group.waiting,
            waiting_word=texts["waiting"],
            wait_word=texts["wait"],
            wait=_wait_text(group.estimate, texts),
        )
        for group in shown_groups
    )
    return render(
        Template(
            '<section class="calls-panel">$calls</section><section class="queue-panel">'
            '<h2>$queue</h2><ul class="groups">$groups</ul></section>'
        ),
        calls=calls,
        queue=texts["queue"],
        groups=Html(groups),
    )


def _prefix(number: str) -> str:
    """A ticket number's group: its leading non-digits (`A` of `A123`)."""
    match = re.match(r"\D*", number)
    return match.group(0) if match else ""


def render_status_live(status: TicketStatus, texts: dict[str, str]) -> Html:
    """The status page's live part: number, service, where the ticket stands."""
    kind = status.kind
    if kind == StatusKind.NEXT:
        message = texts["next"]
    elif kind == StatusKind.CALLED:
        message = (
            texts["called"].format(desk=status.desk_number) if status.desk_number else texts["called_no_desk"]
        )
    elif kind == StatusKind.WAITING:
        message = texts["waiting_status"]
    else:
        message = texts[kind.value]
    facts = ""
    if kind == StatusKind.WAITING:
        ahead = texts["ahead_one"] if status.ahead == 1 else texts["ahead_value"].format(count=status.ahead)
        facts = render(
            Template(
                '<div><dt>$ahead_word</dt><dd class="ahead" data-ahead="$count">$ahead</dd></div>'
                '<div><dt>$estimate_word</dt><dd class="estimate">$estimate</dd></div>'
            ),
            ahead_word=texts["ahead"],
            count=status.ahead,
            ahead=ahead,
            estimate_word=texts["estimate"],
            estimate=_wait_text(status.estimate, texts),
        )
    photo = (
        render(Template('<p class="photo-station">$text</p>'), text=texts["photo_station"])
        if status.needs_photo and kind in (StatusKind.WAITING, StatusKind.NEXT)
        else Html("")
    )
    return render(
        Template(
            '<p class="message kind-$kind" role="status">$message</p>$photo'
            '<dl class="facts"><div><dt>$number_word</dt><dd class="number">$number</dd></div>'
            '<div><dt>$service_word</dt><dd class="service">$service</dd></div>$facts</dl>'
        ),
        kind=kind.value,
        message=message,
        photo=photo,
        number_word=texts["number"],
        number=status.number,
        service_word=texts["service"],
        service=", ".join(status.service_names),
        facts=Html(facts),
    )


# --- shared reads and streams -----------------------------------------------------------------------


@dataclass
class _Cached:
    generation: int
    read_at: float
    board: OfficeBoard | None


@dataclass
class BoardCache:
    """One `OfficeBoard` per office and change, shared by every open page of the office."""

    central: CentralStore
    clock: Clock
    _boards: dict[str, _Cached] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def get(self, office_id: str, generation: int) -> OfficeBoard | None:
        lock = self._locks.setdefault(office_id, asyncio.Lock())
        async with lock:  # the first of many woken streams reads; the others take its board
            cached = self._boards.get(office_id)
            if (
                cached is not None
                and cached.generation == generation
                and time.monotonic() - cached.read_at < BOARD_MAX_AGE_SECONDS
            ):
                return cached.board
            board = await run_in_threadpool(self._read, office_id)
            self._boards[office_id] = _Cached(generation, time.monotonic(), board)
            return board

    def _read(self, office_id: str) -> OfficeBoard | None:
        with self.central.read() as session:
            return waiting_room.read_board(session, office_id, self.clock())


@dataclass
class _OfficeFeed:
    """One office's latest board and the streams following it. One reader task per office waits for
    changes and reads the board once; the streams only render. Display streams are woken first, so
    the waiting room's screen does not queue behind thousands of phones."""

    board: OfficeBoard | None = None
    version: int = 0  # bumped when the board's content (not its `now`) changed
    subscribers: int = 0
    task: asyncio.Task[None] | None = None
    # Plain futures, not asyncio.Event + wait_for: on Python 3.11 wait_for makes a task per wait,
    # which is what 2,000 streams would otherwise cost on every change.
    _display_waiters: set[asyncio.Future[bool]] = field(default_factory=set)
    _status_waiters: set[asyncio.Future[bool]] = field(default_factory=set)

    def publish(self) -> None:
        display, status = self._display_waiters, self._status_waiters
        self._display_waiters, self._status_waiters = set(), set()
        for future in (*display, *status):  # display streams are scheduled first
            _resolve(future)

    async def wait(self, *, display: bool, timeout: float) -> bool:
        """True when woken by `publish`, False on timeout."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        waiters = self._display_waiters if display else self._status_waiters
        waiters.add(future)
        timer = loop.call_later(timeout, _time_out, future)
        try:
            return await future
        finally:
            timer.cancel()
            waiters.discard(future)


def _resolve(future: asyncio.Future[bool]) -> None:
    if not future.done():
        future.set_result(True)


def _time_out(future: asyncio.Future[bool]) -> None:
    if not future.done():
        future.set_result(False)


class StreamHub:
    """The waiting-room streams of every office; `close()` ends them all (on shutdown), thread-safe."""

    def __init__(self, notifier: ChangeNotifier) -> None:
        self._notifier = notifier
        self._lock = threading.Lock()
        self._feeds: dict[str, _OfficeFeed] = {}
        self.closing = False

    @property
    def open_streams(self) -> int:
        with self._lock:
            return sum(feed.subscribers for feed in self._feeds.values())

    def close(self) -> None:
        self.closing = True
        with self._lock:
            offices = list(self._feeds)
        for office_id in offices:
            self._notifier.notify(office_id)  # wakes each office's reader, which sees `closing`

    async def _follow(self, office_id: str, feed: _OfficeFeed, cache: BoardCache) -> None:
        try:
            while not self.closing and feed.subscribers > 0:
                generation = self._notifier.generation(office_id)
                try:
                    board = await cache.get(office_id, generation)
                except SQLAlchemyError as error:  # the database is away: keep the last board, retry
                    log.warning("waiting-room board of %s unreadable: %s", office_id, type(error).__name__)
                    await self._notifier.wait(office_id, generation, REFRESH_SECONDS)
                    continue
                if feed.version == 0 or not _same_board(board, feed.board):
                    feed.board = board
                    feed.version += 1
                    feed.publish()
                # Re-read now and then without a wake-up: another process may write too.
                await self._notifier.wait(office_id, generation, REFRESH_SECONDS)
        finally:
            feed.publish()  # streams see `closing` (or a restarted reader) at once
            with self._lock:
                if self._feeds.get(office_id) is feed and (self.closing or feed.subscribers == 0):
                    del self._feeds[office_id]

    def _join(self, office_id: str, cache: BoardCache) -> _OfficeFeed:
        with self._lock:
            feed = self._feeds.setdefault(office_id, _OfficeFeed())
            feed.subscribers += 1
        if feed.task is None or feed.task.done():
            feed.task = asyncio.create_task(self._follow(office_id, feed, cache), name=f"board-{office_id}")
        return feed

    async def stream(
        self,
        office_id: str,
        cache: BoardCache,
        render_part: Callable[[OfficeBoard], Html],
        *,
        display: bool = False,
    ) -> AsyncIterator[bytes]:
        """Events `state` with the re-rendered part ({"html", "now"}) whenever it changed, as
        `text/event-stream` bytes; a comment every `PING_SECONDS` keeps proxies and the browser sure
        the link is alive (and tells the server when a phone has gone)."""
        feed = self._join(office_id, cache)
        try:
            yield f"retry: {RECONNECT_MILLISECONDS}\n: open\n\n".encode()
            deadline = time.monotonic() + STREAM_LIFETIME_SECONDS
            seen = 0
            last: Html | None = None
            while not self.closing:
                if feed.version != seen:
                    seen = feed.version
                    if feed.board is None:  # the office is gone: the page reloads into "unbekannt"
                        yield GONE_EVENT
                        return
                    part = render_part(feed.board)
                    if part != last:
                        last = part
                        now_ms = int(cache.clock().timestamp() * 1000)
                        yield _event("state", {"html": str(part), "now": now_ms})
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                if feed.task is None or feed.task.done():  # its reader ended (no subscribers for a moment)
                    feed = self._rejoin(office_id, cache, feed)
                    seen = 0
                    continue
                if not await feed.wait(display=display, timeout=min(remaining, PING_SECONDS)):
                    yield PING
        finally:
            with self._lock:
                feed.subscribers -= 1

    def _rejoin(self, office_id: str, cache: BoardCache, old: _OfficeFeed) -> _OfficeFeed:
        with self._lock:
            old.subscribers -= 1
        return self._join(office_id, cache)


def _event(name: str, data: object) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


GONE_EVENT: Final = _event("gone", {})
PING: Final = b": ping\n\n"


def _same_board(new: OfficeBoard | None, old: OfficeBoard | None) -> bool:
    if new is None or old is None:
        return new is old
    return dataclasses.replace(new, now=old.now) == old


# --- routes -----------------------------------------------------------------------------------------


def display_router(
    central: CentralStore, notifier: ChangeNotifier, clock: Clock, hub: StreamHub, auth: Authenticator
) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    cache = BoardCache(central, clock)

    async def may_show(request: Request, office_id: str) -> None:
        """The office's display token (its cookie), a workstation of the office, or an administrator."""
        caller = await auth.authenticate(request)
        caller.allow(TokenKind.DISPLAY, WORKSTATION, TokenKind.ADMIN).office(office_id)

    def texts_for(request: Request, lang: str | None) -> tuple[str, dict[str, str]]:
        code = choose_language(lang, request.headers.get("accept-language"))
        return code, TEXTS[code]

    def unknown_page(lang: str, texts: dict[str, str]) -> HTMLResponse:
        body = render(
            Template("<main><h1>$title</h1><p>$body</p></main>"),
            title=texts["unknown_title"],
            body=texts["unknown_body"],
        )
        page = _page(lang, texts["unknown_title"], _STATUS_CSS, body, None, texts["offline"])
        return HTMLResponse(page, status_code=404, headers=_NO_STORE)

    async def settings_of(office_id: str) -> DisplaySettings:
        def read() -> DisplaySettings:
            with central.read() as session:
                return display_config.read_settings(session, office_id)

        return await run_in_threadpool(read)

    @router.get("/display/{office_id}", response_class=HTMLResponse, response_model=None)
    async def display_page(
        request: Request,
        office_id: OfficePath,
        lang: LangQuery = None,
        groups: GroupsQuery = None,
        calls: CallsQuery = None,
        columns: ColumnsQuery = None,
        rotate: RotateQuery = None,
        key: Annotated[str | None, Query(max_length=200)] = None,
    ) -> HTMLResponse | RedirectResponse:
        if key is not None:
            # Set up once with the display token in the URL: it becomes an HttpOnly cookie and the
            # browser goes on to the URL without it, so the token stays out of history and logs.
            caller = await run_in_threadpool(auth.token_principal, key)
            caller.allow(TokenKind.DISPLAY, TokenKind.ADMIN).office(office_id)
            query = urlencode({k: v for k, v in request.query_params.items() if k != "key"})
            target = f"/display/{office_id}" + (f"?{query}" if query else "")
            redirect = RedirectResponse(target, status_code=303)
            redirect.set_cookie(
                DISPLAY_COOKIE,
                key,
                httponly=True,
                samesite="strict",
                path=f"/display/{office_id}",
                secure=request.url.scheme == "https",
            )
            return redirect
        await may_show(request, office_id)
        # The office's screen speaks the office's languages (its stored settings, German first) unless
        # its URL says otherwise: a kiosk browser's Accept-Language says nothing about the people there.
        screen = ScreenQuery(groups, calls, columns, lang, rotate)
        options = screen.over(await settings_of(office_id))
        code = options.languages[0]
        texts = DISPLAY_TEXTS[code]
        board = await cache.get(office_id, notifier.generation(office_id))
        if board is None:
            return unknown_page("de", TEXTS["de"])
        body = render(
            Template(
                '<header><h1>$office</h1><p class="clock" data-offset="0"><time id="clock" data-now="$now">'
                "$time</time></p></header>"
                '<main id="live" class="display-live" data-highlight="$highlight" data-rotate="$rotate">'
                "$live</main>"
            ),
            office=board.office_name,
            now=int(board.now.timestamp() * 1000),
            time=board.now.astimezone(OFFICE_ZONE).strftime("%H:%M"),
            highlight=HIGHLIGHT_SECONDS,
            rotate=options.rotate_seconds if len(options.languages) > 1 else 0,
            live=render_display_board(board, options),
        )
        stream = f"/display/{office_id}/events?{screen.query()}"
        return HTMLResponse(
            _page(
                code,
                f"{texts['display_title']} – {board.office_name}",
                _DISPLAY_CSS,
                body,
                stream,
                rotating_text("offline", options.languages),
            )
        )

    @router.get("/display/{office_id}/events")
    async def display_events(
        request: Request,
        office_id: OfficePath,
        lang: LangQuery = None,
        groups: GroupsQuery = None,
        calls: CallsQuery = None,
        columns: ColumnsQuery = None,
        rotate: RotateQuery = None,
    ) -> StreamingResponse:
        await may_show(request, office_id)
        # The stored settings are read at each (re)connect: a changed setting reaches an open screen
        # within a stream's lifetime.
        options = ScreenQuery(groups, calls, columns, lang, rotate).over(await settings_of(office_id))
        events = hub.stream(
            office_id, cache, lambda board: render_display_board(board, options), display=True
        )
        return _event_stream(events)

    async def lookup(token: str) -> tuple[str, str, str] | None:
        def read() -> tuple[str, str, str] | None:
            with central.read() as session:
                return waiting_room.ticket_by_token(session, token)

        return await run_in_threadpool(read)

    def status_part(board: OfficeBoard, ticket_id: str, number: str) -> TicketStatus:
        return board.tickets.get(ticket_id) or TicketStatus(number, (), StatusKind.EXPIRED)

    @router.get("/q/{token}", response_class=HTMLResponse)
    async def status_page(request: Request, token: TokenPath, lang: str | None = None) -> HTMLResponse:
        code, texts = texts_for(request, lang)
        found = await lookup(token)
        board = await cache.get(found[0], notifier.generation(found[0])) if found else None
        if found is None or board is None:
            return unknown_page(code, texts)
        _office, ticket_id, number = found
        status = status_part(board, ticket_id, number)
        body = render(
            Template(
                '<header><p class="office">$office</p><h1>$title</h1>'
                '<a class="lang" href="?lang=$other" hreflang="$other" lang="$other">$language</a></header>'
                '<main><div id="live" class="status-live" aria-live="polite" aria-atomic="true">$live</div>'
                '<p class="note">$note</p></main>'
            ),
            office=board.office_name,
            title=texts["status_title"],
            other=texts["other_lang"],
            language=texts["language"],
            live=render_status_live(status, texts),
            note=texts["order_note"],
        )
        stream = f"{STATUS_PAGE_PATH.format(token=token)}/events?lang={code}"
        page = _page(
            code, f"{texts['status_title']} {status.number}", _STATUS_CSS, body, stream, texts["offline"]
        )
        return HTMLResponse(page, headers=_NO_STORE)

    @router.get("/q/{token}/events")
    async def status_events(token: TokenPath, lang: str | None = None) -> StreamingResponse:
        texts = TEXTS[choose_language(lang, None)]
        found = await lookup(token)
        if found is None:
            return _event_stream(_once(GONE_EVENT))
        office_id, ticket_id, number = found
        return _event_stream(
            hub.stream(
                office_id,
                cache,
                lambda board: render_status_live(status_part(board, ticket_id, number), texts),
            )
        )

    return router


def _event_stream(events: AsyncIterator[bytes]) -> StreamingResponse:
    # A plain streaming response: FastAPI's EventSourceResponse adds a task group, two memory
    # streams and a timer per stream, which thousands of open phones pay for on every change.
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


async def _once(event: bytes) -> AsyncIterator[bytes]:
    yield event


# The token is the only key: keep the pages out of caches and away from referrers.
_NO_STORE: Final = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
