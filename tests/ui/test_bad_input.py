"""Bad input at start-up and while working: a malformed config file, a corrupt local database and an
unreachable central service each end as a German sentence — on stderr or on screen — never a
traceback."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select
from textual.widgets import Static

from devices.secret_store import KEYRING_FILE_ENV, file_backend
from screens.app import TresenApp
from screens.dialogs import MessageDialog
from screens.widgets.status_bar import SyncStatusBar
from sync.client import CentralClient
from tests.credentials import enrolled_identity
from tests.ui.support import NOW, Desk, filled_store, settle, wait_until
from tresen import cli
from workstation.commands import DeskContext
from workstation.counter import Counter
from workstation.db import LocalStore
from workstation.login import Workplace
from workstation.models import OperationStatus, OutboxOperation
from workstation.sync_engine import SyncEngine

if TYPE_CHECKING:
    from pathlib import Path

SIZE = (160, 50)


def _closed_port_url() -> str:
    """An address where nothing listens (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "tresen.toml"
    path.write_text(body, encoding="utf-8")
    return path


def _garbage_file(path: Path) -> Path:
    path.write_bytes(b"this is not an SQLite database\n" * 64)
    return path


@pytest.fixture(autouse=True)
def german(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRESEN_LANG", raising=False)


@pytest.mark.parametrize("command", ["run", "demo"])
def test_malformed_config_names_file_and_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, '[workstation]\nid = "ws-1"\noffice_id = \n')
    assert cli.main(["--config", str(config), command]) == 2
    err = capsys.readouterr().err
    assert f"Die Konfigurationsdatei {config} ist fehlerhaft (Zeile 3)" in err
    assert "Traceback" not in err


def test_a_workstation_not_enrolled_is_told_how(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, f'[store]\npath = "{tmp_path / "local.sqlite3"}"\n')
    assert cli.main(["--config", str(config), "run", "--central", _closed_port_url(), "--office", "x"]) == 2
    err = capsys.readouterr().err
    assert "nicht eingerichtet" in err
    assert "tresen enroll --central URL --code CODE" in err


def test_corrupt_local_database_is_named_not_traced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = _garbage_file(tmp_path / "local.sqlite3")
    config = _config(tmp_path, f'[store]\npath = "{store}"\n')
    assert cli.main(["--config", str(config), "run", "--office", "ba-mitte"]) == 2
    err = capsys.readouterr().err
    assert f"Die lokale Datenbank {store} ist beschädigt" in err
    assert "Traceback" not in err


def test_unreachable_central_with_an_empty_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _closed_port_url()
    monkeypatch.setenv(KEYRING_FILE_ENV, str(tmp_path / "keyring.cfg"))
    backend = file_backend(tmp_path / "keyring.cfg")
    enrolled_identity(tmp_path / "local.sqlite3", "ws-1", "ba-mitte", url, backend)
    config = _config(tmp_path, f'[store]\npath = "{tmp_path / "local.sqlite3"}"\n')
    assert cli.main(["--config", str(config), "run", "--central", url, "--office", "ba-mitte"]) == 2
    err = capsys.readouterr().err
    assert f"Die Zentrale {url} ist nicht erreichbar und der lokale Bestand ist leer." in err
    assert "Traceback" not in err


def test_unknown_desk_is_refused_in_german(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    desk = filled_store(tmp_path / "local.sqlite3")
    desk.store.dispose()
    config = _config(tmp_path, f'[store]\npath = "{tmp_path / "local.sqlite3"}"\n')
    argv = ["--config", str(config), "run", "--office", "ba-mitte", "--desk", "nope", "--clerk", "x"]
    assert cli.main(argv) == 2
    assert "Den Schalter nope gibt es in dieser Dienststelle nicht." in capsys.readouterr().err


async def test_unreachable_central_shows_offline_and_the_desk_keeps_working(tmp_path: Path) -> None:
    desk: Desk = filled_store(tmp_path / "local.sqlite3")
    engine = SyncEngine(desk.store, CentralClient(_closed_port_url(), timeout=1.0), desk.ctx)
    counter = Counter(desk.store, desk.ctx, remote=engine, clock=lambda: NOW)
    app = TresenApp(
        workplace=Workplace(counter, engine, "Schalter · Test"), now=lambda: NOW, sync_interval=0.1
    )

    def bar() -> str:
        return str(app.screen.query_one(SyncStatusBar).content)

    async with app.run_test(size=SIZE) as pilot:
        # The sync worker's first round fails at once (connection refused).
        await wait_until(pilot, lambda: "offline" in bar(), "the status bar says offline")
        await pilot.press("f2")  # falls back to the local queue
        await settle(pilot)
        await wait_until(pilot, lambda: "ausstehend: 1" in bar(), "the pending call is counted")
        assert "offline" in bar()
        assert "Die Zentrale ist nicht erreichbar" in bar()
        assert not isinstance(app.screen, MessageDialog)
        with desk.store.session() as session:
            pending = session.scalar(
                select(func.count())
                .select_from(OutboxOperation)
                .where(OutboxOperation.status == OperationStatus.PENDING)
            )
        assert pending == 1  # the call committed locally and waits for the central service


async def test_a_corrupt_store_in_use_becomes_a_dialog(tmp_path: Path) -> None:
    path = _garbage_file(tmp_path / "local.sqlite3")
    counter = Counter(LocalStore(path), DeskContext("ws", "ba-mitte", "d1", "c1"), clock=lambda: NOW)
    app = TresenApp(workplace=Workplace(counter, None, "Schalter · Test"), now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, MessageDialog)
        message = str(dialog.query_one("#message", Static).content)
        assert "ist beschädigt oder keine Tresen-Datenbank" in message
