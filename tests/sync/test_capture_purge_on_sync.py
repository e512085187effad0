"""A case's capture leaves the workstation in the push that gets its finish accepted — against the
embedded central service and the capture simulator, both over real HTTP; the central service holds
only the reference and the hash."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from devices.captures.simulator import add_ready_capture, start_simulator
from sync.central import store as central_store
from tests.sync.test_sync_engine import _a_service, _ctx, engine, network  # noqa: F401  (fixtures)
from workstation.capture_setup import CaptureSetup
from workstation.config import CaptureSettings
from workstation.counter import Counter
from workstation.models import AuditEvent, CaseCapture

if TYPE_CHECKING:
    from pathlib import Path

    from sync.central.embedded import EmbeddedCentral
    from sync.central.seed import SeedDay
    from workstation.db import LocalStore
    from workstation.sync_engine import SyncEngine


def captures(local_store: LocalStore) -> int:
    with local_store.session() as session:
        return int(session.scalar(select(func.count()).select_from(CaseCapture)) or 0)


def test_the_capture_goes_with_the_accepted_finish(
    engine: SyncEngine,  # noqa: F811  (the fixture imported above)
    local_store: LocalStore,
    central: EmbeddedCentral,
    seed_day: SeedDay,
    tmp_path: Path,
) -> None:
    assert engine.sync_once().online
    counter = Counter(local_store, _ctx())
    service = _a_service(seed_day)
    counter.issue_walk_in([service], priority=1)
    counter.call_next()
    case_id = counter.citizen_arrived().case_id
    with start_simulator(seed=41) as sim:
        certificate = tmp_path / "terminal.pem"
        certificate.write_bytes(sim.state.terminal_cert_pem)
        desk = CaptureSetup(CaptureSettings(terminal_url=sim.url, terminal_certificate=certificate)).for_desk(
            local_store, _ctx()
        )
        fetched = desk.fetch(case_id, add_ready_capture(sim.state))
        desk.attach(case_id, fetched)
    report = engine.sync_once()
    assert (report.online, report.rejected) == (True, 0)
    assert captures(local_store) == 1  # attached and synced, but the case is still open
    with central.store.read() as session:
        [record] = session.scalars(select(central_store.TicketCapture)).all()
        assert (record.sha256, record.case_id) == (fetched.bundle.bundle_sha256, case_id)

    counter.finish({service: "completed"})
    assert captures(local_store) == 1  # finished, not yet accepted centrally
    report = engine.sync_once()
    assert (report.online, report.rejected) == (True, 0)
    assert captures(local_store) == 0
    with local_store.session() as session:
        assert "capture.purged" in session.scalars(select(AuditEvent.action)).all()
