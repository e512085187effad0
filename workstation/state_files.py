"""Small JSON files beside the user's state, outside the local store: read whole, changed under a
file lock, replaced atomically. The number witness (`workstation.number_witness`) and the store
instance registry (`workstation.store_instance`) live in such files: what a restored or copied
store must not bring back with it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from typing import TYPE_CHECKING, Any

from workstation.private_files import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

log = logging.getLogger(__name__)


def read_entries(path: Path) -> dict[str, Any]:
    """The file's object; empty when it is missing or unreadable (logged: what it guards is then
    only as good as the store's own record)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        log.warning("state file %s unreadable, ignored: %s", path, error)
        return {}
    return data if isinstance(data, dict) else {}


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the file's lock: two desks' processes on one host share the file, and the lock keeps
    one's read-modify-write from the other's."""
    path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def write_entries(path: Path, entries: dict[str, Any]) -> None:
    """Replace the file with `entries` (under `locked`); a crash leaves the old file or the new one,
    never half of one."""
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(entries, out, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)
