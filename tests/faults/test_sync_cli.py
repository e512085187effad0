"""`tresen sync status` and `tresen sync now` on a real store, with the central service reachable,
refused, and reachable again."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import select

from devices.secret_store import KEYRING_FILE_ENV, file_backend
from tests.credentials import enrolled_identity
from tests.faults.conftest import CTX, WORKSTATION
from tests.sync.support import DESK
from tresen.cli import main as tresen
from workstation.counter import Counter
from workstation.models import OperationStatus, OutboxOperation
from workstation.sync_engine import LEASES_PER_DESK

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from sync.central.embedded import EmbeddedCentral
    from sync.central.seed import SeedDay
    from tests.faults.proxy import FaultProxy
    from workstation.db import LocalStore
    from workstation.sync_engine import SyncEngine


def _status(config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert tresen(["--config", str(config), "sync", "status", "--json"]) == 0
    answer: dict[str, object] = json.loads(capsys.readouterr().out)
    return answer


def test_sync_status_and_sync_now_tell_the_administrator_what_the_desk_holds(
    engine: SyncEngine,
    proxy: FaultProxy,
    local_store: LocalStore,
    seed_day: SeedDay,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    central: EmbeddedCentral,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert engine.sync_once().online
    service = next(d for d in seed_day.desks if d.id == DESK).service_ids[0]
    counter = Counter(local_store, CTX)
    counter.issue_walk_in([service], 0)
    assert engine.sync_once().online
    with local_store.write() as session:  # as if the central service had refused it
        first = session.scalars(select(OutboxOperation).order_by(OutboxOperation.seq)).first()
        assert first is not None
        first.status, first.last_error = OperationStatus.REJECTED, "ticket already called by another desk"
    counter.issue_walk_in([service], 0)  # not sent yet: pending
    backend = file_backend(tmp_path / "keyring.cfg")
    monkeypatch.setenv(KEYRING_FILE_ENV, str(tmp_path / "keyring.cfg"))
    enrolled_identity(
        tmp_path / "tresen.sqlite3", WORKSTATION, CTX.office_id, proxy.url, backend, central.store
    )
    config = tmp_path / "tresen.toml"
    config.write_text(
        f'[store]\npath = "{tmp_path / "tresen.sqlite3"}"\n\n'
        f'[workstation]\nid = "{WORKSTATION}"\noffice_id = "{CTX.office_id}"\n\n'
        f'[central]\nurl = "{proxy.url}"\n'
    )

    status = _status(config, capsys)
    assert status["workstation_id"] == WORKSTATION
    leases = status["leases"]
    assert isinstance(leases, list)
    assert len(leases) == LEASES_PER_DESK
    assert all(lease["desk_id"] == CTX.desk_id and lease["token"] >= 1 for lease in leases)
    assert status["office_id"] == CTX.office_id
    assert isinstance(status["cursor"], int)
    assert status["cursor"] > 0
    assert status["pending"] == 1
    assert status["rejected"] == [
        {
            "seq": 1,
            "kind": "ticket.issue",
            "created_at": first.created_at.isoformat(),
            "reason": first.last_error,
        }
    ]
    assert tresen(["--config", str(config), "sync", "status"]) == 0
    said = capsys.readouterr().out
    assert "Ausstehend: 1" in said
    assert "Vorbehaltene Wartenummern (Leases): tkt-" in said

    proxy.refuse()
    assert tresen(["--config", str(config), "sync", "now"]) == 2
    assert "nicht erreichbar" in capsys.readouterr().err
    assert _status(config, capsys)["pending"] == 1  # nothing lost by the failed attempt

    proxy.healthy()
    assert tresen(["--config", str(config), "sync", "now"]) == 0
    assert "1 gesendet" in capsys.readouterr().out
    assert _status(config, capsys)["pending"] == 0
