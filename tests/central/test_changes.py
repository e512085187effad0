"""The changes feed: commit order, exact pages, the acknowledged sequence, and long-poll wake-ups."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import httpx
import pytest

from sync.central import auth as auth_module
from sync.central import changes, store
from sync.central.changes import ChangeNotifier, PageRequest, RecentPages
from sync.central.credentials import TokenKind
from sync.central.embedded import EmbeddedCentral, start_embedded
from sync.central.seed import generate_day, seed_central
from sync.protocol import ChangesPage, DeskSnapshot
from tests.central.conftest import DAY, OFFICE, WORKSTATION
from tests.credentials import bearer, workstation_auth

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from fastapi.testclient import TestClient

    from sync.central.loop_checks import LoopChecks
    from tests.central.postgres_server import PostgresServer

CHANGES = "/api/v1/sync/changes"


class _Versioned(Protocol):
    @property
    def version(self) -> int: ...


def all_versions(page: ChangesPage) -> list[int]:
    rows: list[_Versioned] = [
        *page.offices,
        *page.services,
        *page.desks,
        *page.clerks,
        *page.appointments,
        *page.tickets,
        *page.calls,
    ]
    return sorted(row.version for row in rows)


def test_paging_through_the_day_sees_every_row_once(client: TestClient) -> None:
    cursor, seen, pages = 0, [], 0
    while True:
        page = ChangesPage.model_validate(
            client.get(CHANGES, params={"office_id": OFFICE, "cursor": cursor, "limit": 37}).json()
        )
        versions = all_versions(page)
        assert all(v > cursor for v in versions)
        assert len(versions) <= 37  # the last page too: it may only skip the cut when all fits
        assert not page.has_more or len(versions) == 37
        seen += versions
        cursor, pages = page.cursor, pages + 1
        if not page.has_more:
            break
    # 1 office + 7 services + 8 desks + 10 clerks + 120 appointments + the office's waiting walk-ins
    assert len(seen) == len(set(seen))
    assert pages > 4
    assert seen == sorted(seen)
    assert cursor == seen[-1]
    assert len(seen) > 146
    empty = client.get(CHANGES, params={"office_id": OFFICE, "cursor": cursor}).json()
    assert empty["cursor"] == cursor
    assert empty["tickets"] == []
    assert not empty["has_more"]


def test_a_change_after_the_cursor_comes_alone_with_a_higher_version(
    client: TestClient, signed_as: Callable[[str, str], TestClient]
) -> None:
    cursor = client.get(CHANGES, params={"office_id": OFFICE, "limit": 5000}).json()["cursor"]
    ticket = client.post("/api/v1/tickets", json={"office_id": OFFICE, "service_ids": ["ba-mitte-mb"]}).json()
    page = client.get(CHANGES, params={"office_id": OFFICE, "cursor": cursor}).json()
    assert [t["id"] for t in page["tickets"]] == [ticket["id"]]
    assert page["tickets"][0]["version"] == page["cursor"] == cursor + 1
    assert client.get(CHANGES, params={"office_id": "zl-sued"}).status_code == 403  # not its office
    zl = signed_as("zl-sued", "ws-zl")
    other_office = zl.get(CHANGES, params={"office_id": "zl-sued", "cursor": 0, "limit": 5000}).json()
    assert ticket["id"] not in {t["id"] for t in other_office["tickets"]}


def _push_one_operation(client: TestClient) -> None:
    """Seq 1 of WORKSTATION, refused on apply (no such ticket) but acknowledged all the same."""
    op = {
        "op_id": "op-1",
        "seq": 1,
        "kind": "ticket.no_show",
        "args": {"ticket_id": "nope", "at": "2026-03-02T08:00:00Z"},
        "created_at": "2026-03-02T08:00:00Z",
    }
    client.post(
        "/api/v1/sync/push", json={"workstation_id": WORKSTATION, "office_id": OFFICE, "operations": [op]}
    )


def test_the_page_carries_the_workstations_acknowledged_sequence(
    client: TestClient, signed_as: Callable[[str, str], TestClient]
) -> None:
    _push_one_operation(client)
    page = client.get(CHANGES, params={"office_id": OFFICE, "workstation_id": WORKSTATION}).json()
    assert page["acked_seq"] == 1
    new = signed_as(OFFICE, "ws-new")
    assert new.get(CHANGES, params={"office_id": OFFICE, "workstation_id": "ws-new"}).json()["acked_seq"] == 0
    # Another workstation's outcomes are its own; another office is not this workstation's.
    assert client.get(CHANGES, params={"office_id": OFFICE, "workstation_id": "ws-new"}).status_code == 403
    assert client.get(CHANGES, params={"office_id": "nowhere"}).status_code == 403


@pytest.fixture
def served(db_url: str) -> Iterator[EmbeddedCentral]:
    seeding = store.CentralStore(db_url)
    seeding.create_schema()
    with seeding.write() as session:
        seed_central(session, generate_day(DAY, waiting=0))
    seeding.dispose()
    central = start_embedded(db_url)
    yield central
    central.stop()


@dataclass
class WaitSpy:
    """Records each wait of the long-poll on the real notifier: entered, and why it ended."""

    entered: threading.Event = field(default_factory=threading.Event)
    outcomes: list[bool] = field(default_factory=list)  # True: woken by a change, False: timed out
    timeouts: list[float] = field(default_factory=list)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> WaitSpy:
    spy = WaitSpy()
    real_wait = ChangeNotifier.wait

    async def recording_wait(
        self: ChangeNotifier, office_id: str, since_generation: int, timeout: float
    ) -> bool:
        spy.timeouts.append(timeout)
        spy.entered.set()
        woken = await real_wait(self, office_id, since_generation, timeout)
        spy.outcomes.append(woken)
        return woken

    monkeypatch.setattr(ChangeNotifier, "wait", recording_wait)
    return spy


def _long_poll_from_the_head(http: httpx.Client) -> tuple[threading.Thread, list[dict[str, Any]], int]:
    """Pull the office, then long-poll from its head (returned too) in a thread; its answer lands
    in the list."""
    cursor = http.get(CHANGES, params={"office_id": OFFICE, "limit": 5000}).json()["cursor"]
    answers: list[dict[str, Any]] = []

    def poll() -> None:
        answers.append(http.get(CHANGES, params={"office_id": OFFICE, "cursor": cursor, "wait": 20}).json())

    poller = threading.Thread(target=poll)
    poller.start()
    return poller, answers, cursor


def test_long_poll_wakes_when_a_kiosk_ticket_is_issued(served: EmbeddedCentral, waits: WaitSpy) -> None:
    auth = workstation_auth(served.store, "ws-poll", OFFICE)
    with httpx.Client(base_url=served.url, timeout=30, auth=auth) as http:
        poller, answers, _cursor = _long_poll_from_the_head(http)
        # The ticket comes only once the poll found nothing and waits: it really waited.
        assert waits.entered.wait(timeout=20), "the long-poll never started waiting"
        assert not answers
        with httpx.Client(
            base_url=served.url, headers=bearer(served.store, TokenKind.KIOSK, OFFICE)
        ) as kiosk:
            ticket = kiosk.post("/api/v1/tickets", json={"office_id": OFFICE, "service_ids": ["ba-mitte-pa"]})
        poller.join(timeout=25)
    assert not poller.is_alive(), "the long-poll did not answer"
    assert answers
    assert [t["id"] for t in answers[0]["tickets"]] == [ticket.json()["id"]]
    # Woken by the ticket's commit, not by its wait (20 s) or its periodic re-read (5 s) running out.
    assert waits.outcomes == [True]


def test_long_poll_returns_empty_after_its_wait(served: EmbeddedCentral, waits: WaitSpy) -> None:
    auth = workstation_auth(served.store, "ws-poll", OFFICE)
    with httpx.Client(base_url=served.url, timeout=30, auth=auth) as http:
        cursor = http.get(CHANGES, params={"office_id": OFFICE, "limit": 5000}).json()["cursor"]
        page = http.get(CHANGES, params={"office_id": OFFICE, "cursor": cursor, "wait": 2}).json()
    # It waited, within its 2 s, until that ran out (every wait timed out, none was cut short), then
    # answered empty.
    assert waits.outcomes
    assert not any(waits.outcomes)
    assert all(0 < timeout <= 2 for timeout in waits.timeouts)
    assert page["cursor"] == cursor
    assert page["tickets"] == []


@pytest.mark.postgres
def test_a_long_poll_wakes_for_a_change_made_through_another_central_process(
    postgres_server: PostgresServer, waits: WaitSpy
) -> None:
    """Two central services on one PostgreSQL stand for two processes: a ticket issued through one
    wakes a long poll waiting at the other (LISTEN/NOTIFY), not its periodic re-read."""
    db_url = postgres_server.create_database()
    seeding = store.CentralStore(db_url)
    seeding.create_schema()
    with seeding.write() as session:
        seed_central(session, generate_day(DAY, waiting=0))
    seeding.dispose()
    with start_embedded(db_url) as one, start_embedded(db_url) as other:
        assert other.app.state.change_listener.listening.wait(timeout=10)
        auth = workstation_auth(other.store, "ws-poll", OFFICE)
        with httpx.Client(base_url=other.url, timeout=30, auth=auth) as http:
            poller, answers, _cursor = _long_poll_from_the_head(http)
            assert waits.entered.wait(timeout=20), "the long-poll never started waiting"
            kiosk = bearer(one.store, TokenKind.KIOSK, OFFICE)
            with httpx.Client(base_url=one.url, headers=kiosk) as through_one:
                ticket = through_one.post(
                    "/api/v1/tickets", json={"office_id": OFFICE, "service_ids": ["ba-mitte-pa"]}
                ).json()
            poller.join(timeout=25)
        assert not poller.is_alive()
    assert [t["id"] for t in answers[0]["tickets"]] == [ticket["id"]]
    assert waits.outcomes[0] is True  # woken by the other process's commit, not by a timeout


def test_a_long_poll_past_the_head_is_told_so_at_once_with_the_head(
    served: EmbeddedCentral, waits: WaitSpy
) -> None:
    """A central restored from an older backup: a desk's cursor lies past the office's head. The
    answer says so with the head as its cursor, and a long poll gives it without waiting, in any
    process (the head is read from the database), nor does the notifier take the desk's cursor for
    the head."""
    auth = workstation_auth(served.store, "ws-poll", OFFICE)
    with httpx.Client(base_url=served.url, timeout=30, auth=auth) as http:
        head = http.get(CHANGES, params={"office_id": OFFICE, "limit": 5000}).json()["cursor"]
        at_head = ChangesPage.model_validate(
            http.get(CHANGES, params={"office_id": OFFICE, "cursor": head}).json()
        )
        ahead = ChangesPage.model_validate(
            http.get(
                CHANGES,
                params={"office_id": OFFICE, "workstation_id": "ws-poll", "cursor": head + 5, "wait": 20},
            ).json()
        )
    assert not at_head.cursor_ahead
    assert ahead.cursor_ahead
    assert (ahead.cursor, ahead.has_more, ahead.acked_seq) == (head, False, 0)
    assert all_versions(ahead) == []
    assert waits.timeouts == []  # answered without waiting for a change
    notifier: ChangeNotifier = served.app.state.notifier
    assert notifier.generation_at(OFFICE, head + 5) is None


def test_desks_woken_by_one_write_share_its_page_and_each_gets_its_own_acknowledgement(
    client: TestClient, signed_as: Callable[[str, str], TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    other = signed_as(OFFICE, "ws-other")
    cursor = client.get(CHANGES, params={"office_id": OFFICE, "limit": 5000}).json()["cursor"]
    _push_one_operation(client)
    ticket = client.post("/api/v1/tickets", json={"office_id": OFFICE, "service_ids": ["ba-mitte-mb"]}).json()
    reads: list[int] = []
    real_office_page = changes._office_page

    def counted(*args: Any) -> ChangesPage:
        reads.append(1)
        return real_office_page(*args)

    monkeypatch.setattr(changes, "_office_page", counted)

    def page_of(who: TestClient, workstation_id: str) -> dict[str, Any]:
        params = {"office_id": OFFICE, "workstation_id": workstation_id, "cursor": cursor}
        answer: dict[str, Any] = who.get(CHANGES, params=params).json()
        return answer

    mine, theirs = page_of(client, WORKSTATION), page_of(other, "ws-other")

    assert [t["id"] for t in mine["tickets"]] == [t["id"] for t in theirs["tickets"]] == [ticket["id"]]
    assert (mine["acked_seq"], theirs["acked_seq"]) == (1, 0)
    assert len(reads) == 1  # the second desk's page came from the first's read
    second = client.post("/api/v1/tickets", json={"office_id": OFFICE, "service_ids": ["ba-mitte-mb"]}).json()
    after = page_of(other, "ws-other")  # the head moved: read anew
    assert [t["id"] for t in after["tickets"]] == [ticket["id"], second["id"]]
    assert len(reads) == 2


def test_on_postgresql_a_desk_whose_page_another_desk_read_is_answered_without_a_worker_thread(
    client: TestClient,
    signed_as: Callable[[str, str], TestClient],
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = signed_as(OFFICE, "ws-other")
    cursor = client.get(CHANGES, params={"office_id": OFFICE, "limit": 5000}).json()["cursor"]
    other.get(CHANGES, params={"office_id": OFFICE, "cursor": cursor})  # its key is now kept
    _push_one_operation(client)
    ticket = client.post("/api/v1/tickets", json={"office_id": OFFICE, "service_ids": ["ba-mitte-mb"]}).json()
    hops: list[str] = []

    def counting(module: Any) -> None:
        real = module.run_in_threadpool

        async def hop(function: Callable[..., Any], *args: Any) -> Any:
            hops.append(function.__name__)
            return await real(function, *args)

        monkeypatch.setattr(module, "run_in_threadpool", hop)

    counting(changes)
    counting(auth_module)
    params = {"office_id": OFFICE, "cursor": cursor}
    mine = client.get(CHANGES, params={**params, "workstation_id": WORKSTATION}).json()
    read_by_mine = list(hops)
    theirs = other.get(CHANGES, params={**params, "workstation_id": "ws-other"}).json()

    assert [t["id"] for t in mine["tickets"]] == [t["id"] for t in theirs["tickets"]] == [ticket["id"]]
    assert (mine["acked_seq"], theirs["acked_seq"]) == (1, 0)  # each its own, read at its request
    if db_url.startswith("postgresql"):
        assert read_by_mine == ["_read_in_snapshot"]  # the page itself; the signature check in the loop
        assert hops == read_by_mine  # the second desk: signature check, head and page all in the loop
    else:  # SQLite keeps the thread path
        assert "_signed_principal" in hops[len(read_by_mine) :]


def test_a_coroutine_asking_for_a_page_another_thread_is_reading_awaits_that_read() -> None:
    recent = changes.RecentPages()
    key = ("e", OFFICE, 6, 500, 7)
    page = _page_of_desks(3)

    async def join_while_a_thread_reads() -> ChangesPage | None:
        loop = asyncio.get_running_loop()
        assert await recent.get_or_join_in_loop(key) is None  # nobody reads it: the caller reads it
        started, finish = threading.Event(), threading.Event()

        def read() -> None:
            with recent.reading(key):
                started.set()
                finish.wait(5)
                recent.put(key, page)

        reader = loop.run_in_executor(None, read)
        await loop.run_in_executor(None, started.wait, 5)
        joining = asyncio.ensure_future(recent.get_or_join_in_loop(key))
        await asyncio.sleep(0)  # the coroutine is waiting on the read now
        assert not joining.done()
        finish.set()
        await reader
        return await joining

    assert asyncio.run(join_while_a_thread_reads()) is page


def _page_of_desks(count: int) -> ChangesPage:
    desks = [
        DeskSnapshot(id=f"d{n}", office_id=OFFICE, number=n, name=f"Schalter {n}", service_ids=[], version=n)
        for n in range(1, count + 1)
    ]
    return ChangesPage(epoch="e", cursor=count, has_more=False, acked_seq=0, desks=desks)


def test_recent_pages_forget_old_and_large_pages_and_keep_a_bounded_number() -> None:
    now = [0.0]
    recent = changes.RecentPages(monotonic=lambda: now[0])
    page = _page_of_desks(3)
    recent.put(("e", OFFICE, 6, 500, 7), page)
    assert recent.get(("e", OFFICE, 6, 500, 7)) is page
    assert recent.get(("e", OFFICE, 6, 500, 8)) is None  # another head: another page
    now[0] += changes.RecentPages.MAX_AGE_SECONDS + 0.1
    assert recent.get(("e", OFFICE, 6, 500, 7)) is None  # too old (a purge deletes without stamping)

    recent.put(("e", OFFICE, 0, 500, 99), _page_of_desks(changes.RecentPages.MAX_ROWS + 1))
    assert recent.get(("e", OFFICE, 0, 500, 99)) is None  # a first pull's citizen data is not kept

    for n in range(changes.RecentPages.MAX_PAGES + 10):
        recent.put(("e", OFFICE, n, 500, n + 1), page)
    assert len(recent) == changes.RecentPages.MAX_PAGES
    assert recent.get(("e", OFFICE, 0, 500, 1)) is None  # the oldest went first


def test_a_desk_asking_for_a_page_another_thread_is_reading_waits_for_that_read() -> None:
    recent = changes.RecentPages()
    key = ("e", OFFICE, 6, 500, 7)
    page = _page_of_desks(3)
    joined: list[ChangesPage | None] = []
    asking = threading.Event()

    def join() -> None:
        asking.set()
        joined.append(recent.get_or_join(key))

    assert recent.get_or_join(key) is None  # nobody reads it: the caller reads it itself
    with recent.reading(key):
        waiter = threading.Thread(target=join)
        waiter.start()
        assert asking.wait(5)
        recent.put(key, page)
    waiter.join(5)
    assert joined == [page]
    with recent.reading(key), recent.reading(key):  # a second reader of the same key just reads too
        pass
    assert recent.get_or_join(("e", OFFICE, 6, 500, 8)) is None


def test_a_long_poll_back_at_the_head_waits_before_reading_and_still_wakes(
    served: EmbeddedCentral, waits: WaitSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    real_read, real_read_in_loop = changes.read_changes, changes.read_changes_in_loop

    def counted(central: store.CentralStore, request: PageRequest, recent: RecentPages) -> ChangesPage:
        reads.append(request.cursor)
        return real_read(central, request, recent)

    async def counted_in_loop(  # PostgreSQL reads from the event loop
        checks: LoopChecks, central: store.CentralStore, request: PageRequest, recent: RecentPages
    ) -> ChangesPage:
        reads.append(request.cursor)
        return await real_read_in_loop(checks, central, request, recent)

    monkeypatch.setattr("sync.central.app.read_changes", counted)
    monkeypatch.setattr("sync.central.app.read_changes_in_loop", counted_in_loop)
    auth = workstation_auth(served.store, "ws-poll", OFFICE)
    with httpx.Client(base_url=served.url, timeout=30, auth=auth) as http:
        poller, answers, cursor = _long_poll_from_the_head(http)
        assert waits.entered.wait(timeout=20), "the long-poll never started waiting"
        assert reads == [0]  # only the first pull read: the poll at its head waits at once
        with httpx.Client(
            base_url=served.url, headers=bearer(served.store, TokenKind.KIOSK, OFFICE)
        ) as kiosk:
            ticket = kiosk.post("/api/v1/tickets", json={"office_id": OFFICE, "service_ids": ["ba-mitte-pa"]})
        poller.join(timeout=25)
    assert not poller.is_alive(), "the long-poll did not answer"
    assert [t["id"] for t in answers[0]["tickets"]] == [ticket.json()["id"]]
    assert waits.outcomes == [True]
    assert reads == [0, cursor]


def test_the_notifier_knows_the_head_its_latest_read_found_until_a_commit() -> None:
    notifier = ChangeNotifier()
    assert notifier.generation_at(OFFICE, 7) is None  # never read
    notifier.note_head(OFFICE, notifier.generation(OFFICE), 7)
    assert notifier.generation_at(OFFICE, 7) == 0
    assert notifier.generation_at(OFFICE, 6) is None  # another cursor: read it
    notifier.notify(OFFICE)
    assert notifier.generation_at(OFFICE, 7) == 0  # a wait on generation 0 now returns at once
    notifier.note_head(OFFICE, 1, 9)
    notifier.note_head(OFFICE, 0, 7)  # an older read finishing late does not win
    assert notifier.generation_at(OFFICE, 9) == 1
