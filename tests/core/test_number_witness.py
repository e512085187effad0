"""The desk-number witness outside the store: what a restored store continues after."""

from __future__ import annotations

import logging
import multiprocessing
import sqlite3
import stat
from contextlib import closing
from datetime import date
from typing import TYPE_CHECKING, Any

from workstation.db import LocalStore
from workstation.kassenzeichen_ranges import issue_kassenzeichen, reserve_range
from workstation.models import Desk, Office
from workstation.number_witness import NumberWitness

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

DAY = date(2026, 12, 2)


def test_it_keeps_the_highest_number_per_office_range_and_day(tmp_path: Path) -> None:
    witness = NumberWitness(tmp_path / "state" / "desk-numbers.json")
    witness.record("ba-mitte", "S3-07", DAY)
    witness.record("ba-mitte", "S3-05", DAY)  # a lower one (another process's late write) keeps 7
    witness.record("ba-mitte", "S4-02", DAY)
    witness.record("zul-sued", "S3-11", DAY)
    again = NumberWitness(witness.path)  # read back from the file, as after a restart
    assert again.highest("ba-mitte", "S3-", DAY) == 7
    assert again.highest("ba-mitte", "S4-", DAY) == 2
    assert again.highest("zul-sued", "S3-", DAY) == 11
    assert again.highest("ba-mitte", "S9-", DAY) == 0


def test_a_new_office_day_starts_the_range_again(tmp_path: Path) -> None:
    witness = NumberWitness(tmp_path / "desk-numbers.json")
    witness.record("ba-mitte", "S3-07", DAY)
    tomorrow = date(2026, 12, 3)
    assert witness.highest("ba-mitte", "S3-", tomorrow) == 0
    witness.record("ba-mitte", "S3-01", tomorrow)
    assert witness.highest("ba-mitte", "S3-", tomorrow) == 1
    assert witness.highest("ba-mitte", "S3-", DAY) == 0  # yesterday's entry is replaced


def test_the_file_is_private_and_never_half_written(tmp_path: Path) -> None:
    witness = NumberWitness(tmp_path / "state" / "desk-numbers.json")
    witness.record("ba-mitte", "S3-01", DAY)
    assert stat.S_IMODE(witness.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(witness.path.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in witness.path.parent.iterdir()) == [
        "desk-numbers.json",
        "desk-numbers.json.lock",
    ]


def test_a_damaged_file_counts_as_empty_and_is_rewritten(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    witness = NumberWitness(tmp_path / "desk-numbers.json")
    witness.path.write_text('{"ba-mitte S3-": {"day": "2026-12-02", "hig', encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert witness.highest("ba-mitte", "S3-", DAY) == 0
    assert "unreadable" in caplog.text
    witness.record("ba-mitte", "S3-04", DAY)
    assert witness.highest("ba-mitte", "S3-", DAY) == 4


def test_a_witness_that_cannot_be_written_does_not_stop_the_issue(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    witness = NumberWitness(blocker / "desk-numbers.json")
    with caplog.at_level(logging.WARNING):
        witness.record("ba-mitte", "S3-04", DAY)  # no exception
    assert "could not record the desk number" in caplog.text
    assert witness.highest("ba-mitte", "S3-", DAY) == 0


def _record_many(path: str, prefix: str, count: int, start: Any) -> None:
    """Records `count` numbers and exits with 1 if one of its own was ever lost: without the lock,
    the other writer's read-modify-write puts back an older entry of this range."""
    import sys
    from pathlib import Path

    witness = NumberWitness(Path(path))
    start.wait()  # both writers begin together, so their writes interleave
    lost = 0
    for n in range(1, count + 1):
        witness.record("ba-mitte", f"{prefix}{n:02d}", DAY)
        lost += witness.highest("ba-mitte", prefix, DAY) < n
    sys.exit(1 if lost else 0)


def test_two_processes_writing_at_once_lose_neither_entry(tmp_path: Path) -> None:
    path = tmp_path / "desk-numbers.json"
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Event()
    writers = [spawn.Process(target=_record_many, args=(str(path), p, 150, start)) for p in ("S3-", "S4-")]
    for writer in writers:
        writer.start()
    start.set()
    for writer in writers:
        writer.join()
        assert writer.exitcode == 0
    witness = NumberWitness(path)
    assert (witness.highest("ba-mitte", "S3-", DAY), witness.highest("ba-mitte", "S4-", DAY)) == (150, 150)


def test_a_store_restored_from_a_backup_issues_no_kassenzeichen_twice(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "desk.sqlite3")
    store.migrate()
    witness = NumberWitness(tmp_path / "state" / "desk-numbers.json")
    with store.write() as session:
        session.add(Office(id="o", name="Amt"))
        session.flush()
        session.add(Desk(id="d1", office_id="o", number=1, name="Schalter 1"))
        session.flush()
        reserve_range(session, "d1", "5101", 1000, 1999)
    backup = tmp_path / "desk.backup"
    with closing(sqlite3.connect(store.path)) as source, closing(sqlite3.connect(backup)) as copy:
        source.backup(copy)

    def issue() -> str:
        with store.write() as session:
            issued = issue_kassenzeichen(session, "d1", witness)
        witness.record_kassenzeichen(issued.prefix, issued.running_number)  # as the finish does
        return str(issued)

    before = [issue(), issue()]  # after the backup: lost with the disk
    store.dispose()
    for suffix in ("-wal", "-shm"):
        store.path.with_name(store.path.name + suffix).unlink(missing_ok=True)
    with closing(sqlite3.connect(backup)) as source, closing(sqlite3.connect(store.path)) as copy:
        source.backup(copy)
    after = [issue(), issue()]
    assert len(set(before + after)) == 4, (before, after)
    assert [int(k.split("-")[1]) for k in after] > [int(k.split("-")[1]) for k in before]
