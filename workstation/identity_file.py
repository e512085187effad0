"""Where an enrolled workstation's identity lives: a file beside its store. On its own, so that
opening a store can ask whether there is one without importing the enrollment's key and network
stack (`workstation.identity`: about 250 ms at start, bench/cold_start.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

IDENTITY_FILE = "identity.json"


def identity_path(store_path: Path) -> Path:
    return store_path.parent / IDENTITY_FILE
