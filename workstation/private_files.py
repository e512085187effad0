"""Files and directories only the workstation's user may read: 0600 files in 0700 directories.

The local store, the log and the kept documents hold case data, ids and times; on a shared
machine (a second clerk account, a maintenance login) the default 0644/0755 would let anyone read
them. Files are *created* private (the mode given to open()), not chmod'ed afterwards: between a
create and a chmod another user could open the file and keep reading through that descriptor.
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path) -> None:
    """Create `path` (and its parents) and make it 0700, also when it exists already.

    Raises OSError when it cannot be created. A directory of another owner cannot be chmod'ed:
    it is left as the owner set it (with a warning), the 0600 files in it stay private anyway."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    try:
        path.chmod(PRIVATE_DIR_MODE)
    except PermissionError:
        log.warning("directory %s belongs to another user: its mode is left as it is", path)


def private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 if it is missing, and make an existing one 0600.

    Never truncates: an existing file keeps its content. Raises OSError like open()."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE)
    os.close(descriptor)
    path.chmod(PRIVATE_FILE_MODE)


def private_if_present(path: Path) -> None:
    """Make `path` 0600 if it exists (files another program creates, like SQLite's -wal/-shm)."""
    with contextlib.suppress(FileNotFoundError):
        path.chmod(PRIVATE_FILE_MODE)
