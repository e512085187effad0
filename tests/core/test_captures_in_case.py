"""Captures in the case, against the capture simulator over real HTTP: fetched, checked, stored only
encrypted, the outbox and the audit trail without a byte of them, exported 0600, purged once the
finish is synced (and on the schedule), and every bad input attaching nothing."""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from devices.captures.simulator import CloudVariant, RunningSimulator, Variant, start_simulator
from tests.ui.support import NOW, Desk, filled_store, make_counter
from workstation.capture_setup import CaptureSetup
from workstation.captures import PHOTO_DOCUMENT_PREFIX, CaptureDesk, CaptureRefused
from workstation.config import CaptureSettings
from workstation.errors import CommandRefused
from workstation.models import (
    AuditEvent,
    CaseCapture,
    CaseService,
    OperationStatus,
    OutboxOperation,
    Service,
)
from workstation.retention import RetentionPolicy, purge_personal_data, purge_synced_captures

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from workstation.counter import Counter


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningSimulator]:
    with start_simulator(seed=21) as running:
        yield running


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return filled_store(tmp_path / "tresen.sqlite3", appointments=20, waiting=3)


def capture_desk(desk: Desk, sim: RunningSimulator, tmp_path: Path, **settings: Any) -> CaptureDesk:
    """Built the way `tresen run` builds it: from [captures] settings and the pinned certificate file."""
    certificate = tmp_path / "terminal.pem"
    certificate.write_bytes(sim.state.terminal_cert_pem)
    values: dict[str, Any] = {
        "terminal_url": sim.url,
        "terminal_certificate": certificate,
        "export_dir": tmp_path / "export",
    } | settings
    return CaptureSetup(CaptureSettings(**values)).for_desk(desk.store, desk.ctx, clock=lambda: NOW)


def open_passport_case(desk: Desk) -> tuple[Counter, str]:
    counter = make_counter(desk)
    with desk.store.session() as session:
        service_id = session.scalars(select(Service.id).where(Service.code == "PA")).first()
    assert service_id is not None
    counter.issue_walk_in([service_id], priority=1)
    counter.call_next()
    return counter, counter.citizen_arrived().case_id


def fresh_code(sim: RunningSimulator, variant: Variant = Variant.GOOD) -> str:
    from devices.captures.simulator import add_ready_capture

    return add_ready_capture(sim.state, variant)


def captures_of(desk: Desk) -> int:
    with desk.store.session() as session:
        return int(session.scalar(select(func.count()).select_from(CaseCapture)) or 0)


def test_an_accepted_capture_is_stored_encrypted_and_central_gets_only_reference_and_hash(
    desk: Desk, simulator: RunningSimulator, tmp_path: Path
) -> None:
    captures = capture_desk(desk, simulator, tmp_path)
    _counter, case_id = open_passport_case(desk)
    code = fresh_code(simulator)
    fetched = captures.fetch(case_id, code)
    assert fetched.passed, [line.text for line in fetched.checks]
    assert any(line.text.startswith("✓ Bildgröße") for line in fetched.checks)
    photo = fetched.bundle.photo.data
    assert captures_of(desk) == 0  # nothing stored before the clerk accepts

    result = captures.attach(case_id, fetched)
    assert captures.acknowledge(fetched)
    assert not simulator.state.has_capture(code)  # the terminal deleted its copy after our commit

    with desk.store.session() as session:
        row = session.get(CaseCapture, result.capture_id)
        assert row is not None
        assert photo not in row.payload
        assert photo[:64] not in row.payload
        assert not row.payload.startswith(b"\xff\xd8")  # not a JPEG at rest
        [operation] = session.scalars(
            select(OutboxOperation).where(OutboxOperation.kind == "capture.attach")
        ).all()
        assert operation.args["sha256"] == fetched.bundle.bundle_sha256
        assert operation.args["items"] == ["photo", "signature", "fingerprints"]
        assert len(json.dumps(operation.args)) < 1000  # a reference and a hash, never the images
        checked = session.scalars(select(CaseService.documents_checked).where(CaseService.case_id == case_id))
        assert any(doc.startswith(PHOTO_DOCUMENT_PREFIX) for docs in checked for doc in docs)
    database = (
        desk.store.path.read_bytes() + desk.store.path.with_name(desk.store.path.name + "-wal").read_bytes()
    )
    assert photo[1000:1064] not in database  # neither the file nor its WAL hold a plain slice of it
    assert result.documents_ticked

    shown = captures.photo(case_id, purpose="compare")
    assert shown is not None
    assert shown.data == photo


def test_the_operation_validates_against_the_protocol(
    desk: Desk, simulator: RunningSimulator, tmp_path: Path
) -> None:
    from sync.protocol import OPERATION_ARGS, OperationKind

    captures = capture_desk(desk, simulator, tmp_path)
    _counter, case_id = open_passport_case(desk)
    captures.attach(case_id, captures.fetch(case_id, fresh_code(simulator)))
    with desk.store.session() as session:
        args = session.scalars(
            select(OutboxOperation.args).where(OutboxOperation.kind == "capture.attach")
        ).one()
    OPERATION_ARGS[OperationKind.CAPTURE_ATTACH].model_validate(args)


def test_every_view_is_audited_without_code_or_bytes(
    desk: Desk, simulator: RunningSimulator, tmp_path: Path
) -> None:
    captures = capture_desk(desk, simulator, tmp_path)
    _counter, case_id = open_passport_case(desk)
    code = fresh_code(simulator)
    fetched = captures.fetch(case_id, code)
    captures.attach(case_id, fetched)
    captures.photo(case_id, purpose="compare")
    captures.export(case_id)
    with desk.store.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("capture.%"))).all()
    assert [event.action for event in events] == [
        "capture.view",
        "capture.attach",
        "capture.view",
        "capture.export",
    ]
    text = json.dumps([event.detail for event in events])
    assert code not in text
    assert fetched.bundle.reference in text
    assert fetched.bundle.photo.sha256 not in text


def test_the_export_is_private_and_complete(desk: Desk, simulator: RunningSimulator, tmp_path: Path) -> None:
    captures = capture_desk(desk, simulator, tmp_path)
    _counter, case_id = open_passport_case(desk)
    fetched = captures.fetch(case_id, fresh_code(simulator))
    captures.attach(case_id, fetched)
    handed = captures.hand_over(case_id, fetched)
    assert handed.acknowledged
    assert handed.exported_to is not None
    folder = handed.exported_to
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    files = sorted(path.name for path in folder.iterdir())
    assert files == ["capture.json", "fingerprint-02.png", "fingerprint-07.png", "photo.jpg", "signature.png"]
    assert all(stat.S_IMODE((folder / name).stat().st_mode) == 0o600 for name in files)
    assert (folder / "photo.jpg").read_bytes() == fetched.bundle.photo.data
    description = json.loads((folder / "capture.json").read_text())
    assert description["bundle_sha256"] == fetched.bundle.bundle_sha256
    assert description["checks_passed"]


@pytest.mark.parametrize(
    ("variant", "words"),
    [
        (Variant.HASH_MISMATCH, "Prüfsumme falsch"),
        (Variant.BAD_SIGNATURE, "Signatur der Aufnahme ist ungültig"),
        (Variant.OVERSIZED, "zu groß"),
        (Variant.OVERSIZED_STREAM, "zu groß"),
        (Variant.EXPIRED, "abgelaufen"),
        (Variant.CUT_TRANSFER, "unterbrochen"),
    ],
)
def test_a_bad_answer_is_told_in_german_and_attaches_nothing(
    desk: Desk, simulator: RunningSimulator, tmp_path: Path, variant: Variant, words: str
) -> None:
    captures = capture_desk(desk, simulator, tmp_path)
    _counter, case_id = open_passport_case(desk)
    with pytest.raises(CaptureRefused) as refused:
        captures.fetch(case_id, simulator.state.terminal_code(variant))
    assert words in refused.value.user_message
    assert captures_of(desk) == 0


def refusal(captures: CaptureDesk, case_id: str, code: str) -> str:
    with pytest.raises(CaptureRefused) as refused:
        captures.fetch(case_id, code)
    return refused.value.user_message


def test_unknown_code_and_unreachable_terminal(
    desk: Desk, simulator: RunningSimulator, tmp_path: Path
) -> None:
    captures = capture_desk(desk, simulator, tmp_path)
    _counter, case_id = open_passport_case(desk)
    assert (
        refusal(captures, case_id, "ZZZZZZZZ0101")
        == "Zu diesem Code gibt es keine Aufnahme. Bitte den Code prüfen."
    )
    assert "Code ist ungültig" in refusal(captures, case_id, "nonsense")
    gone = capture_desk(desk, simulator, tmp_path, terminal_url="http://127.0.0.1:9")
    assert "Aufnahmegerät ist nicht erreichbar" in refusal(gone, case_id, fresh_code(simulator))
    assert captures_of(desk) == 0


def test_a_truncated_or_poor_photo_fails_its_checks_and_is_refused(
    desk: Desk, simulator: RunningSimulator, tmp_path: Path
) -> None:
    captures = capture_desk(desk, simulator, tmp_path)
    _counter, case_id = open_passport_case(desk)
    for variant in (Variant.TRUNCATED_IMAGE, Variant.POOR_QUALITY):
        fetched = captures.fetch(case_id, simulator.state.terminal_code(variant))
        assert not fetched.passed
        assert any(
            line.text.startswith("✗") and "Foto neu aufnehmen lassen." in line.text for line in fetched.checks
        )
        with pytest.raises(CommandRefused, match="nicht bestanden"):
            captures.attach(case_id, fetched)
    assert captures_of(desk) == 0


def test_captures_go_once_the_finish_is_synced_and_on_the_schedule(
    desk: Desk, simulator: RunningSimulator, tmp_path: Path
) -> None:
    captures = capture_desk(desk, simulator, tmp_path)
    counter, case_id = open_passport_case(desk)
    captures.attach(case_id, captures.fetch(case_id, fresh_code(simulator)))
    with desk.store.session() as session:
        services = session.scalars(select(CaseService.service_id).where(CaseService.case_id == case_id)).all()
    counter.finish(dict.fromkeys(services, "completed"))
    with desk.store.write() as session:
        assert purge_synced_captures(session, NOW) == 0  # finished, but not synced yet: kept
        finish = session.scalars(select(OutboxOperation).where(OutboxOperation.kind == "case.finish")).one()
        finish.status = OperationStatus.APPLIED  # as the push answer marks it
    with desk.store.write() as session:
        assert purge_synced_captures(session, NOW) == 1
    assert captures_of(desk) == 0
    with desk.store.session() as session:
        assert (
            session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc())).first()
            == "capture.purged"
        )

    # The schedule's backstop: a case left open keeps no capture beyond the citizen data.
    _counter2, open_case = open_passport_case(desk)
    captures.attach(open_case, captures.fetch(open_case, fresh_code(simulator)))
    report = purge_personal_data(desk.store, NOW + timedelta(days=1), RetentionPolicy())
    assert report.captures == 0  # the citizen data's day and the next
    report = purge_personal_data(desk.store, NOW + timedelta(days=3), RetentionPolicy())
    assert report.captures == 1
    assert captures_of(desk) == 0


def test_a_cloud_code_is_fetched_from_the_configured_cloud(
    desk: Desk, simulator: RunningSimulator, tmp_path: Path, suite_keyring: Any
) -> None:
    from workstation.capture_setup import ORGANISATION_KEY_SERVICE, ORGANISATION_KEY_USER

    suite_keyring.set_password(ORGANISATION_KEY_SERVICE, ORGANISATION_KEY_USER, "org-test-0001")
    cloud_pem = tmp_path / "cloud.pem"
    cloud_pem.write_bytes(simulator.state.cloud_cert_pem)
    captures = capture_desk(desk, simulator, tmp_path, cloud_url=simulator.url, cloud_certificate=cloud_pem)
    _counter, case_id = open_passport_case(desk)
    fetched = captures.fetch(case_id, simulator.state.cloud_code(CloudVariant.GOOD))
    assert fetched.bundle.source == "cloud"
    assert "nicht entschlüsselt" in refusal(
        captures, case_id, simulator.state.cloud_code(CloudVariant.WRONG_KEY)
    )
