"""The store instance id (`workstation.store_instance`): a copied or moved store file is told apart
from the instance kept for its place; a reopened or restored one is not."""

from __future__ import annotations

import itertools
import sqlite3
import stat
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from workstation import replica, store_instance
from workstation.commands import DeskContext, append_operation
from workstation.db import LocalStore
from workstation.kassenzeichen_ranges import reserve_range
from workstation.models import DeskLease, KassenzeichenRangeRow, OutboxOperation, StoreInstance
from workstation.store_instance import InstanceRegistry, check_instance

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
CTX = DeskContext("ws-one", "ba-mitte", "ba-mitte-d3", "ba-mitte-c1")


def _open(path: Path) -> LocalStore:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    store = LocalStore(path)
    store.migrate()
    return store


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copy:
        original.backup(copy)


def _row(store: LocalStore) -> StoreInstance:
    with store.session() as session:
        return session.scalars(select(StoreInstance)).one()


def _with_work(store: LocalStore) -> None:
    """An operation, a sync position, a lease and a Kassenzeichen range, as a desk in use holds."""
    with store.write() as session:
        append_operation(session, CTX, "ticket.issue", {"ticket_id": "t1"}, None, created_at=NOW)
        replica.sync_state(session, "ws-enrolled-before", CTX.office_id)
        session.add(DeskLease(ticket_id="t9", desk_id=CTX.desk_id, token=3, valid_until=NOW))
        reserve_range(session, CTX.desk_id, "MIT", 1, 100)


@contextmanager
def _opened(path: Path) -> Iterator[LocalStore]:
    store = _open(path)
    try:
        yield store
    finally:
        store.dispose()


def test_a_store_reopened_at_its_place_is_the_same_instance(tmp_path: Path) -> None:
    registry = InstanceRegistry(tmp_path / "state" / "store-instances.json")
    with _opened(tmp_path / "data" / "desk.sqlite3") as store:
        first = check_instance(store, registry, NOW)
        again = check_instance(store, registry, NOW)
        assert first.copied_from is None
        assert again == first
        assert _row(store).instance_id == first.instance_id
        assert _row(store).number_mark is None


def test_a_copied_file_becomes_a_new_instance_that_retires_the_identities_it_held(tmp_path: Path) -> None:
    registry = InstanceRegistry(tmp_path / "state" / "store-instances.json")
    original_path, copy_path = tmp_path / "data" / "desk.sqlite3", tmp_path / "elsewhere" / "desk.sqlite3"
    with _opened(original_path) as store:
        original = check_instance(store, registry, NOW)
        _with_work(store)
    _copy(original_path, copy_path)
    with _opened(copy_path) as copy:
        found = check_instance(copy, registry, NOW)
        assert found.copied_from == original.instance_id
        assert found.instance_id != original.instance_id
        row = _row(copy)
        assert row.copied_at == NOW
        assert row.retired_workstation_ids == ["ws-enrolled-before", "ws-one"]
        assert row.number_mark is not None
        assert row.number_mark in store_instance.NUMBER_MARKS
        assert copy.instance == found
        assert found.retired_workstation_ids == ("ws-enrolled-before", "ws-one")
        assert found.number_mark == row.number_mark
        with copy.session() as session:
            # The original's leases and Kassenzeichen range are not the copy's to use.
            assert session.scalar(select(func.count()).select_from(DeskLease)) == 0
            assert session.scalar(select(func.count()).select_from(KassenzeichenRangeRow)) == 0
        assert check_instance(copy, registry, NOW).copied_from is None  # found once, then its own
    with _opened(original_path) as store:
        assert check_instance(store, registry, NOW) == original  # the original is untouched
        with store.session() as session:
            assert session.scalar(select(func.count()).select_from(DeskLease)) == 1


def test_a_copy_of_a_store_that_never_synced_retires_the_identity_beside_it(tmp_path: Path) -> None:
    """A disk image cloned after the enrollment, before the first sync: only the identity file
    names the original's identity."""
    path = tmp_path / "data" / "desk.sqlite3"
    with _opened(path) as store:
        check_instance(store, InstanceRegistry(tmp_path / "one" / "ids.json"), NOW, enrolled_as="ws-one")
        found = check_instance(
            store, InstanceRegistry(tmp_path / "other" / "ids.json"), NOW, enrolled_as="ws-one"
        )
        assert found.retired_workstation_ids == ("ws-one",)


def test_a_copy_on_another_machine_is_found_without_the_original_place(tmp_path: Path) -> None:
    """The same path on another machine: its own registry holds nothing for the file."""
    path = tmp_path / "data" / "desk.sqlite3"
    with _opened(path) as store:
        original = check_instance(store, InstanceRegistry(tmp_path / "one" / "ids.json"), NOW)
        found = check_instance(store, InstanceRegistry(tmp_path / "other" / "ids.json"), NOW)
        assert found.copied_from == original.instance_id


def test_a_copy_of_a_copy_marks_its_numbers_with_another_letter(tmp_path: Path) -> None:
    registry = InstanceRegistry(tmp_path / "state" / "store-instances.json")
    paths = [tmp_path / name / "desk.sqlite3" for name in ("a", "b", "c")]
    with _opened(paths[0]) as store:
        check_instance(store, registry, NOW)
    marks = []
    for source, target in itertools.pairwise(paths):
        _copy(source, target)
        with _opened(target) as copy:
            assert check_instance(copy, registry, NOW).copied_from is not None
            marks.append(_row(copy).number_mark)
    assert marks[0] != marks[1]


def test_a_store_restored_from_a_backup_at_its_place_is_no_copy(tmp_path: Path) -> None:
    registry = InstanceRegistry(tmp_path / "state" / "store-instances.json")
    path, backup = tmp_path / "data" / "desk.sqlite3", tmp_path / "backup" / "desk.sqlite3"
    with _opened(path) as store:
        original = check_instance(store, registry, NOW)
    _copy(path, backup)
    path.unlink()
    _copy(backup, path)
    with _opened(path) as store:
        assert check_instance(store, registry, NOW) == original


def test_a_copy_enrolled_anew_takes_its_outbox_to_the_new_identity(tmp_path: Path) -> None:
    registry = InstanceRegistry(tmp_path / "state" / "store-instances.json")
    original_path, copy_path = tmp_path / "data" / "desk.sqlite3", tmp_path / "elsewhere" / "desk.sqlite3"
    with _opened(original_path) as store:
        check_instance(store, registry, NOW)
        _with_work(store)
    _copy(original_path, copy_path)
    with _opened(copy_path) as copy:
        check_instance(copy, registry, NOW)
        with copy.write() as session:
            assert (
                store_instance.adopt_identity(session, store_instance.retired_identities(copy), "ws-copy")
                == 1
            )
        with copy.session() as session:
            assert set(session.scalars(select(OutboxOperation.workstation_id))) == {"ws-copy"}


def test_the_registry_is_private(tmp_path: Path) -> None:
    registry = InstanceRegistry(tmp_path / "state" / "store-instances.json")
    with _opened(tmp_path / "data" / "desk.sqlite3") as store:
        check_instance(store, registry, NOW)
    assert stat.S_IMODE(registry.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(registry.path.parent.stat().st_mode) == 0o700
