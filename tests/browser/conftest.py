"""A real headless browser (Debian's chromium through Playwright, no browser download) against the
central service running in this process on a real socket, seeded with the generated day."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from sync.central.credentials import TokenKind
from sync.central.embedded import EmbeddedCentral, start_embedded
from sync.central.seed import generate_day, seed_central
from sync.central.store import CentralStore
from tests.central.conftest import DAY, OFFICE, OPENING, MovableClock
from tests.credentials import token, workstation_auth
from tests.services import service_missing

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, Page

AXE_JS = Path(__file__).parent / "data" / "axe.min.js"


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        service_missing("chromium is not installed (installer/browser.sh installs it)", "browser")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Playwright's sync API runs its own event loop in this thread while it is open: kept per module
    (the browser tests run together, one xdist group), so the asyncio tests after them find no loop."""
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="de-DE")
    opened = context.new_page()
    yield opened
    context.close()


WORKSTATION = "ws-browser"


@dataclass
class Central:
    """The central service, restartable on the same port and database."""

    db_url: str
    clock: MovableClock
    running: EmbeddedCentral | None = None
    port: int = 0
    http: httpx.Client = field(init=False)

    def start(self) -> None:
        self.running = start_embedded(self.db_url, port=self.port, clock=self.clock)
        self.port = int(self.running.url.rsplit(":", 1)[1])
        # A workstation of the office (tickets, calls) beside the browser, which shows the pages.
        auth = workstation_auth(self.running.store, WORKSTATION, OFFICE)
        self.http = httpx.Client(base_url=self.running.url, timeout=10, auth=auth)

    def display_url(self) -> str:
        """The office display's set-up address: its key, which the first visit turns into a cookie."""
        assert self.running is not None
        return f"{self.url}/display/{OFFICE}?key={token(self.running.store, TokenKind.DISPLAY, OFFICE)}"

    def stop(self) -> None:
        assert self.running is not None
        self.http.close()
        self.running.stop()
        self.running = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    db_url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    store = CentralStore(db_url)
    store.create_schema()
    with store.write() as session:
        seed_central(session, generate_day(DAY, seed=3, now=OPENING + timedelta(minutes=30)))
    store.dispose()
    service = Central(db_url, MovableClock(OPENING + timedelta(hours=1)))
    service.start()
    yield service
    if service.running is not None:
        service.stop()
