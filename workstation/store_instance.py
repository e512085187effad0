"""Which instance of the local store a file is, so that a copied file is told apart (issue 9, fault 12).

A random instance id is made when a store is first opened at a place (a machine and a path) and kept
twice: in the store (`StoreInstance`) and in a small file beside the user's state, keyed by the
place (`store-instances.json`, like the number witness). A file copied elsewhere carries its id but
finds another (or none) kept for its new place: it is a copy, and both copies would go on as one
workstation — the same sequence numbers, the same walk-in numbers, the same leases. So a copy

- becomes a new instance and retires the workstation identities it held: it syncs under none of
  them (the original may still use them) until it is enrolled as a workstation of its own; its
  outbox then goes out under the new identity, and what the central service applied before is
  answered by operation id (`sync.central.apply`);
- issues walk-in numbers with a letter of its own after the desk number (S3K-07), which the
  original's S3-07 and the number witness's ranges never meet;
- drops the leases and Kassenzeichen ranges it holds: they are the original's too.

A restored backup keeps its place and its id (the witness covers it). What cannot be told: a copy
of a store from before instance ids, and a copy made together with the user's state on a machine
with the same machine id (a cloned disk image).
"""

from __future__ import annotations

import logging
import secrets
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import CursorResult, delete, select, update

from workstation import state_files
from workstation.errors import TresenError
from workstation.i18n import _
from workstation.models import DeskLease, KassenzeichenRangeRow, OutboxOperation, StoreInstance, SyncState

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from workstation.db import LocalStore

log = logging.getLogger(__name__)

# Letters a copy's walk-in numbers carry; none that reads as a digit (I, O, Q) or as the S before.
NUMBER_MARKS = "ABCDEFGHJKLMNPRTUVWXYZ"
_MACHINE_ID_FILES = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))


class CopiedStore(TresenError):
    """The store is a copy and the workstation identity it would sync under is retired."""


@dataclass(frozen=True)
class InstanceCheck:
    instance_id: str
    copied_from: str | None  # set when this opening found the file to be a copy of that instance
    # The store's record, read once at the opening:
    retired_workstation_ids: tuple[str, ...] = ()
    number_mark: str | None = None


class InstanceRegistry:
    """The instance ids kept outside the stores, per place."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, place: str) -> str | None:
        value = state_files.read_entries(self.path).get(place)
        return value if isinstance(value, str) else None

    def put(self, place: str, instance_id: str) -> None:
        with state_files.locked(self.path):
            entries = state_files.read_entries(self.path)
            entries[place] = instance_id
            state_files.write_entries(self.path, entries)


def place_of(store_path: Path) -> str:
    """Where a store file is: the machine and the absolute path."""
    return f"{machine_id()} {store_path.resolve()}"


def machine_id() -> str:
    for path in _MACHINE_ID_FILES:
        try:
            value = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if value:
            return value
    return socket.gethostname()


def check_instance(
    store: LocalStore, registry: InstanceRegistry, now: datetime, *, enrolled_as: str | None = None
) -> InstanceCheck:
    """Tell whether the store at its place is the instance kept for that place; a copy becomes a new
    instance (see the module). Run when the store is opened, before any sync; the answer is kept as
    `store.instance` for the desk's commands and sync. `enrolled_as` is the identity beside the
    store: a copy retires it too, also when the store never synced under it (a disk image cloned
    after the enrollment)."""
    place = place_of(store.path)
    kept = registry.get(place)
    with store.write() as session:
        row = session.scalar(select(StoreInstance))
        copied_from = None
        if row is None:  # first opened here, or from before instance ids: nothing to compare
            row = StoreInstance(instance_id=kept or _new_id(), retired_workstation_ids=[])
            session.add(row)
        elif row.instance_id != kept:
            copied_from = row.instance_id
            _become_a_copy(session, row, now, store.path, enrolled_as)
        check = InstanceCheck(
            row.instance_id, copied_from, tuple(row.retired_workstation_ids), row.number_mark
        )
    if check.instance_id != kept:
        # After the store's commit: a crash in between only makes the next opening see a copy
        # again, which costs a letter and a new id, nothing else.
        registry.put(place, check.instance_id)
    store.instance = check
    return check


def _become_a_copy(
    session: Session, row: StoreInstance, now: datetime, path: Path, enrolled_as: str | None
) -> None:
    held = set(session.scalars(select(OutboxOperation.workstation_id).distinct()))
    held |= set(session.scalars(select(SyncState.workstation_id)))
    if enrolled_as is not None:
        held.add(enrolled_as)
    old_mark = row.number_mark
    row.copied_from, row.instance_id, row.copied_at = row.instance_id, _new_id(), now
    row.retired_workstation_ids = sorted(held | set(row.retired_workstation_ids))
    row.number_mark = secrets.choice(NUMBER_MARKS.replace(old_mark or "", ""))
    session.execute(delete(DeskLease))
    session.execute(delete(KassenzeichenRangeRow))
    log.warning(
        "local store %s is a copy of instance %s: now instance %s, retired %d workstation identities",
        path.name,
        row.copied_from,
        row.instance_id,
        len(row.retired_workstation_ids),
    )


def number_mark(store: LocalStore) -> str | None:
    """The letter the store's walk-in numbers carry (None: it was never found a copy)."""
    return store.instance.number_mark if store.instance is not None else None


def retired_identities(store: LocalStore) -> tuple[str, ...]:
    """The workstation identities the store may not sync as (it held them before it was copied)."""
    return store.instance.retired_workstation_ids if store.instance is not None else ()


def adopt_identity(session: Session, retired: tuple[str, ...], workstation_id: str) -> int:
    """A copy enrolled as `workstation_id` (not retired): what it holds goes out under it. The
    central service expects that identity's first number and is sent the whole outbox again
    (`SyncEngine._resend_from`); it answers what it applied before by operation id. Returns how
    many operations changed identity."""
    if not retired:
        return 0
    result = session.execute(
        update(OutboxOperation)
        .where(OutboxOperation.workstation_id.in_(retired))
        .values(workstation_id=workstation_id)
    )
    assert isinstance(result, CursorResult)  # an UPDATE answers with its row count
    moved = int(result.rowcount or 0)
    if moved:
        log.warning("copied store syncs as its own workstation now: %d operations go out under it", moved)
    return moved


def copied_store_error(workstation_id: str) -> CopiedStore:
    return CopiedStore(
        _(
            "Diese lokale Datenbank ist eine Kopie und gleicht nicht unter der Kennung des "
            "Arbeitsplatzes ab, von dem sie stammt. Die Arbeit hier bleibt gespeichert; bitte den "
            "Arbeitsplatz neu einrichten (tresen enroll), dann wird sie übertragen."
        ),
        f"store is a copy: identity {workstation_id} retired",
    )


def _new_id() -> str:
    return str(uuid.uuid4())
