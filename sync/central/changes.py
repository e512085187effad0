"""The changes feed: an office's rows with `version > cursor`, in commit order, in pages.

Versions are unique within an office (see `store.stamp`), so a page cuts at an exact row and the next
page starts right after it. Page, cursor and the workstation's acknowledged sequence come from one
read snapshot. `ChangeNotifier` wakes long-polling requests when a write commits.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import bindparam, exists, literal_column, select, union_all
from sqlalchemy.dialects import postgresql

from sync.central import store
from sync.central.errors import NotFound
from sync.protocol import (
    AppointmentSnapshot,
    CallSnapshot,
    ChangesPage,
    ClerkSnapshot,
    DeskSnapshot,
    OfficeSnapshot,
    ServiceSnapshot,
    TicketSnapshot,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy import CompoundSelect, Connection, Engine, Select
    from sqlalchemy.orm import InstrumentedAttribute, Session

    from sync.central.loop_checks import LoopChecks

    Reader = Connection | Session  # the page's queries are Core statements: either runs them

SnapshotT = TypeVar("SnapshotT", bound=BaseModel)
_SnapshotT_co = TypeVar("_SnapshotT_co", bound=BaseModel, covariant=True)


@dataclass(frozen=True)
class _Feed(Generic[_SnapshotT_co]):
    """One table of the feed: its rows, the column naming their office, and the snapshot they become."""

    model: type[store.Versioned]
    owner: InstrumentedAttribute[str]
    snapshot: type[_SnapshotT_co]


_OFFICES = _Feed(store.Office, store.Office.id, OfficeSnapshot)
_SERVICES = _Feed(store.Service, store.Service.office_id, ServiceSnapshot)
_DESKS = _Feed(store.Desk, store.Desk.office_id, DeskSnapshot)
_CLERKS = _Feed(store.Clerk, store.Clerk.office_id, ClerkSnapshot)
_APPOINTMENTS = _Feed(store.Appointment, store.Appointment.office_id, AppointmentSnapshot)
_TICKETS = _Feed(store.Ticket, store.Ticket.office_id, TicketSnapshot)
_CALLS = _Feed(store.Call, store.Call.office_id, CallSnapshot)
_FEEDS: tuple[_Feed[BaseModel], ...] = (_OFFICES, _SERVICES, _DESKS, _CLERKS, _APPOINTMENTS, _TICKETS, _CALLS)


def _rows_after(feed: _Feed[BaseModel], *, up_to_cut: bool) -> Select[Any]:
    """A feed's rows (not ORM objects: cheaper) after the cursor, up to the page's cut if any; built
    once (see `_HEAD_AND_ACKED`)."""
    model = feed.model
    query = select(*model.__table__.columns).where(
        feed.owner == bindparam("office_id"), model.version > bindparam("cursor")
    )
    if up_to_cut:
        query = query.where(model.version <= bindparam("cut"))
    return query.order_by(model.version)


_ROWS_AFTER = {feed: _rows_after(feed, up_to_cut=False) for feed in _FEEDS}
_FEEDS_AFTER: CompoundSelect[Any] = union_all(
    *(
        select(literal_column(str(index))).where(
            exists().where(feed.owner == bindparam("office_id"), feed.model.version > bindparam("cursor"))
        )
        for index, feed in enumerate(_FEEDS)
    )
)


def _feeds_with_rows(session: Reader, office_id: str, cursor: int) -> set[_Feed[BaseModel]]:
    """The feeds with rows of the office after `cursor` (index-only on `(office_id, version)`)."""
    found = session.scalars(_FEEDS_AFTER, {"office_id": office_id, "cursor": cursor})
    return {_FEEDS[int(index)] for index in found}


_ROWS_UP_TO_CUT = {feed: _rows_after(feed, up_to_cut=True) for feed in _FEEDS}


@dataclass(frozen=True)
class PageRequest:
    """What a desk asks of the changes feed: the page after `cursor` of its office, at most `limit`
    rows, with `workstation_id`'s acknowledged sequence (none for an administrator's read)."""

    epoch: str
    office_id: str
    workstation_id: str | None
    cursor: int
    limit: int

    def key(self, head: int) -> PageKey:
        """The page's key among `RecentPages`: the same for every desk of the office at this head."""
        return (self.epoch, self.office_id, self.cursor, self.limit, head)


def read_changes(central: store.CentralStore, request: PageRequest, recent: RecentPages) -> ChangesPage:
    """The page after `cursor` with the workstation's acknowledged sequence (NotFound for an unknown
    office).

    First one statement (office, head, acknowledged sequence: one snapshot) on the autocommit
    engine (`CentralStore.check_engine`): one round trip where a read transaction took five
    (bench/central_load.py). That is the whole answer when the desk is at the head (a long poll
    about to wait) or when another desk of the office read this page at this head (the long polls
    one write woke), also while that read is still under way in another thread. Otherwise the page
    is read in a snapshot (`changes_page`) and shared. A cursor past the head (a restored central
    database) is answered with `cursor_ahead`."""
    head, acked_seq = _head_and_acked(central.check_engine, request.office_id, request.workstation_id)
    if head <= request.cursor:
        return _at_head(request, head, acked_seq)
    key = request.key(head)
    page = recent.get_or_join(key)
    if page is not None:
        return page.model_copy(update={"acked_seq": acked_seq})
    with recent.reading(key):
        return _read_in_snapshot(central, request, recent)


async def read_changes_in_loop(
    checks: LoopChecks, central: store.CentralStore, request: PageRequest, recent: RecentPages
) -> ChangesPage:
    """`read_changes` from the event loop (PostgreSQL): the first statement on the loop's
    connections (`loop_checks`), so a desk at the head or one whose page another desk read needs no
    worker thread; only a page to read goes to one. The same answers as `read_changes`."""
    parameters = {"office_id": request.office_id, "workstation_id": request.workstation_id}
    row = await checks.first(_HEAD_AND_ACKED_SQL, parameters)
    head, acked_seq = _head_and_acked_of(row, request.office_id)
    if head <= request.cursor:
        return _at_head(request, head, acked_seq)
    key = request.key(head)
    page = await recent.get_or_join_in_loop(key)
    if page is not None:
        return page.model_copy(update={"acked_seq": acked_seq})
    with recent.reading(key):  # marked in the loop: desks woken with this one join, not read again
        return await run_in_threadpool(_read_in_snapshot, central, request, recent)


def _at_head(request: PageRequest, head: int, acked_seq: int) -> ChangesPage:
    """The answer to a desk at or past the head (`head <= request.cursor`)."""
    epoch, cursor = request.epoch, request.cursor
    if head < cursor:
        # Said at once, with the head as the cursor: a long poll ends (its cursor moved), and the
        # notifier learns the real head, not the desk's.
        return ChangesPage(epoch=epoch, cursor=head, has_more=False, acked_seq=acked_seq, cursor_ahead=True)
    return ChangesPage(epoch=epoch, cursor=cursor, has_more=False, acked_seq=acked_seq)


def _read_in_snapshot(central: store.CentralStore, request: PageRequest, recent: RecentPages) -> ChangesPage:
    with central.read_connection() as connection:
        # The snapshot's head may be newer than `head`: its page and acknowledged sequence belong
        # together, and the page is shared under its own head.
        return changes_page(
            connection,
            request.epoch,
            request.office_id,
            request.workstation_id,
            request.cursor,
            request.limit,
            recent,
        )


# Built once with bound parameters: SQLAlchemy adapts a cached statement's result columns to every
# new statement object it is given, and that adaptation was most of this query's cost (py-spy).
_HEAD_AND_ACKED = select(
    store.Office.id,
    select(store.OfficeCounter.last_version)
    .where(store.OfficeCounter.office_id == bindparam("office_id"))
    .scalar_subquery(),
    select(store.Workstation.last_seq)
    .where(store.Workstation.id == bindparam("workstation_id"))
    .scalar_subquery(),
).where(store.Office.id == bindparam("office_id"))


# The same statement for psycopg's async connections (`read_changes_in_loop`), compiled once.
_HEAD_AND_ACKED_SQL = str(_HEAD_AND_ACKED.compile(dialect=postgresql.psycopg.dialect()))  # type: ignore[no-untyped-call]


_ACKED_SEQ = select(store.Workstation.last_seq).where(store.Workstation.id == bindparam("workstation_id"))


def _head_and_acked(engine: Engine, office_id: str, workstation_id: str | None) -> tuple[int, int]:
    with engine.connect() as connection:
        row = connection.execute(
            _HEAD_AND_ACKED, {"office_id": office_id, "workstation_id": workstation_id}
        ).first()
    return _head_and_acked_of(None if row is None else tuple(row), office_id)


def _head_and_acked_of(row: tuple[Any, ...] | None, office_id: str) -> tuple[int, int]:
    if row is None:
        raise NotFound(f"unknown office {office_id!r}")
    return int(row[1] or 0), int(row[2] or 0)


def changes_page(
    session: Reader,
    epoch: str,
    office_id: str,
    workstation_id: str | None,
    cursor: int,
    limit: int,
    recent: RecentPages | None = None,
) -> ChangesPage:
    """The page after `cursor` with the workstation's acknowledged sequence. The office's part is
    taken from `recent` when another desk of the office read the same page at the same head."""
    head = store.current_version(session, office_id)
    key = (epoch, office_id, cursor, limit, head)
    page = recent.get(key) if recent is not None else None
    if page is None:
        page = _office_page(session, epoch, office_id, cursor, limit, head)
        if recent is not None:
            recent.put(key, page)
    acked_seq = session.scalar(_ACKED_SEQ, {"workstation_id": workstation_id}) if workstation_id else None
    return page.model_copy(update={"acked_seq": acked_seq or 0})


def _office_page(
    session: Reader, epoch: str, office_id: str, cursor: int, limit: int, head: int
) -> ChangesPage:
    # Versions are unique within an office, so at most `head - cursor` rows lie after the cursor: a
    # desk near the head (every long poll woken by a write) needs no page cut, and one at the head no
    # rows at all. That skips 7 of a woken long poll's 16 queries (bench/central_load.py).
    cut = _page_cut(session, office_id, cursor, limit) if head - cursor > limit else None
    has_more = cut is not None

    # A few rows after the cursor lie in one or two tables: ask which first (one statement for
    # seven), and read only those.
    feeds = _feeds_with_rows(session, office_id, cursor) if head > cursor and not has_more else set(_FEEDS)

    def rows(feed: _Feed[SnapshotT]) -> list[SnapshotT]:
        if head <= cursor or feed not in feeds:
            return []
        query = _ROWS_UP_TO_CUT[feed] if has_more else _ROWS_AFTER[feed]
        found = session.execute(query, {"office_id": office_id, "cursor": cursor, "cut": cut})
        return [feed.snapshot.model_validate(row) for row in found]

    # On the last page everything up to the counter is visible in this snapshot (rows re-stamped
    # since left gaps below it), so the cursor may jump to the counter.
    return ChangesPage(
        epoch=epoch,
        cursor=cut if cut is not None else max(cursor, head),
        has_more=has_more,
        acked_seq=0,
        offices=rows(_OFFICES),
        services=rows(_SERVICES),
        desks=rows(_DESKS),
        clerks=rows(_CLERKS),
        appointments=rows(_APPOINTMENTS),
        tickets=rows(_TICKETS),
        calls=rows(_CALLS),
    )


PageKey = tuple[str, str, int, int, int]  # epoch, office, cursor, limit, the office's head version


class RecentPages:
    """The office part of recent small pages, shared by the desks one write woke.

    A write wakes the long poll of every desk of its office, and each asks for the same page: same
    office, cursor and head. Within one office the head version only moves with a commit that stamps
    rows, so a page read at the same head holds the same rows (bench/central_load.py: the changes
    pages were 37 % of a central process's CPU under 100 desks). Only pages of a few rows are kept
    (those of the woken long polls; not a first pull with a day's citizen data), for a few seconds
    (a retention purge deletes without stamping), and only a bounded number."""

    MAX_ROWS = 50
    MAX_AGE_SECONDS = 5.0
    MAX_PAGES = 256
    JOIN_SECONDS = 1.0  # at most this long for another thread's read of the same page

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._pages: OrderedDict[PageKey, tuple[float, ChangesPage]] = OrderedDict()
        self._reading: dict[PageKey, _Reading] = {}

    def get(self, key: PageKey) -> ChangesPage | None:
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                return None
            stored_at, page = entry
            if self._monotonic() - stored_at > self.MAX_AGE_SECONDS:
                del self._pages[key]
                return None
            return page

    def get_or_join(self, key: PageKey) -> ChangesPage | None:
        """The page of `key`; while another thread reads it (`reading`), after that read (the desks
        one write woke ask at once, and would otherwise all miss)."""
        page = self.get(key)
        if page is not None:
            return page
        with self._lock:
            under_way = self._reading.get(key)
        if under_way is None or not under_way.done.wait(self.JOIN_SECONDS):
            return None
        return self.get(key)

    async def get_or_join_in_loop(self, key: PageKey) -> ChangesPage | None:
        """`get_or_join` for the event loop: it awaits the read under way instead of blocking."""
        page = self.get(key)
        if page is not None:
            return page
        loop = asyncio.get_running_loop()
        with self._lock:
            under_way = self._reading.get(key)
            if under_way is None:
                return None
            future: asyncio.Future[None] = loop.create_future()
            under_way.waiters.append((loop, future))
        try:
            await asyncio.wait_for(future, self.JOIN_SECONDS)
        except TimeoutError:
            return None
        return self.get(key)

    @contextmanager
    def reading(self, key: PageKey) -> Iterator[None]:
        """Mark `key` as being read by this thread until the block ends (it `put`s the page)."""
        with self._lock:
            mine = key not in self._reading
            if mine:
                self._reading[key] = _Reading()
        try:
            yield
        finally:
            if mine:
                with self._lock:
                    self._reading.pop(key).end()

    def put(self, key: PageKey, page: ChangesPage) -> None:
        if _row_count(page) > self.MAX_ROWS:
            return
        with self._lock:
            self._pages[key] = (self._monotonic(), page)
            self._pages.move_to_end(key)
            while len(self._pages) > self.MAX_PAGES:
                self._pages.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pages)


class _Reading:
    """A page being read: threads wait on `done`, coroutines on their futures."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def end(self) -> None:
        self.done.set()
        for loop, future in self.waiters:
            loop.call_soon_threadsafe(_resolve, future)


def _row_count(page: ChangesPage) -> int:
    return sum(
        len(rows)
        for rows in (
            page.offices,
            page.services,
            page.desks,
            page.clerks,
            page.appointments,
            page.tickets,
            page.calls,
        )
    )


def _page_cut(session: Reader, office_id: str, cursor: int, limit: int) -> int | None:
    """The version of the page's last row when more rows follow it; None when everything fits.

    Reads versions only (index-only on `(office_id, version)`), so the page's rows are loaded once."""
    versions: list[int] = []
    for feed in _FEEDS:
        model = feed.model
        versions += session.scalars(
            select(model.version)
            .where(feed.owner == office_id, model.version > cursor)
            .order_by(model.version)
            .limit(limit + 1)
        )
    if len(versions) <= limit:
        return None
    versions.sort()
    return versions[limit - 1]


class ChangeNotifier:
    """Wakes waiters of an office after a commit. Writers run in worker threads, waiters in the event
    loop, hence the thread-safe hand-over."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation: dict[str, int] = defaultdict(int)
        self._heads: dict[str, tuple[int, int]] = {}  # office: the latest read's generation and head
        self._waiters: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]] = defaultdict(
            list
        )

    def generation(self, office_id: str) -> int:
        """Read before querying; pass to `wait` so a commit in between is not missed."""
        with self._lock:
            return self._generation[office_id]

    def note_head(self, office_id: str, generation: int, head: int) -> None:
        """A read begun at `generation` found the office's changes up to `head` (the page's cursor)."""
        with self._lock:
            known = self._heads.get(office_id)
            if known is None or generation >= known[0]:
                self._heads[office_id] = (generation, head)

    def generation_at(self, office_id: str, head: int) -> int | None:
        """The generation the latest read of the office began at, when it found `head`: a long poll
        at that cursor can wait on it before reading anything, since every commit after that read
        (in this process, or announced by another) moves the generation on."""
        with self._lock:
            known = self._heads.get(office_id)
        return known[0] if known is not None and known[1] == head else None

    def notify(self, office_id: str) -> None:
        with self._lock:
            self._generation[office_id] += 1
            waiters = self._waiters.pop(office_id, [])
        for loop, future in waiters:
            loop.call_soon_threadsafe(_resolve, future)

    async def wait(self, office_id: str, since_generation: int, timeout: float) -> bool:
        """True when a change arrived after `since_generation`, False on timeout."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._generation[office_id] != since_generation:
                return True
            self._waiters[office_id].append((loop, future))
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                entries = self._waiters.get(office_id, [])
                if (loop, future) in entries:
                    entries.remove((loop, future))


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
