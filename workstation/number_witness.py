"""The desk's highest walk-in number of the day and highest Kassenzeichen, kept outside the local store.

A desk issues its walk-in numbers from its own range (`S3-07`) and finds the next one in its store.
A store restored from a backup has lost the numbers issued after the backup; offline it cannot ask
the central service, and would hand them out a second time (issue 9, fault 12). This small file
beside the user's state, not beside the store, remembers the highest number per office, range and
office day, so a restored store continues after it. Kassenzeichen the same way (two receipts with
one Kassenzeichen are one payment booked twice): the highest running number per prefix. It is
written after each issue (a few dozen a day) and read before the next; it holds no personal data.

What it cannot see: a store restored on another machine, or restored together with this file.
There the central service still answers every action once, but a number may repeat until the
desk's first contact (docs/architecture.md, "A store behind its central record").
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from workstation import state_files

if TYPE_CHECKING:
    import contextlib
    from datetime import date
    from pathlib import Path

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"^(?P<prefix>.*-)(?P<count>\d+)$")


class NumberWitness:
    def __init__(self, path: Path) -> None:
        self.path = path

    def highest(self, office_id: str, prefix: str, day: date) -> int:
        """The highest number in `prefix`'s range issued on `day`, 0 when none (or unreadable: the
        store's own numbers still count)."""
        entry = self._read().get(_key(office_id, prefix))
        if not isinstance(entry, dict) or entry.get("day") != day.isoformat():
            return 0
        highest = entry.get("highest")
        return highest if isinstance(highest, int) and highest > 0 else 0

    def record(self, office_id: str, number: str, day: date) -> None:
        """Remember `number` (after its commit). A failure is logged, not raised: the number is issued,
        only a later restore would lose the witness."""
        match = _NUMBER.match(number)
        if match is None:
            return
        prefix, count = match["prefix"], int(match["count"])
        try:
            with self._locked():
                entries = self._read()
                key = _key(office_id, prefix)
                old = entries.get(key)
                if isinstance(old, dict) and old.get("day") == day.isoformat():
                    count = max(count, int(old.get("highest", 0)))
                entries[key] = {"day": day.isoformat(), "highest": count}
                self._write(entries)
        except OSError as error:
            log.warning("could not record the desk number in %s: %s", self.path, error.strerror)

    def highest_kassenzeichen(self, prefix: str) -> int | None:
        """The highest running number issued under `prefix`, None when none is known."""
        entry = self._read().get(_kassenzeichen_key(prefix))
        highest = entry.get("highest") if isinstance(entry, dict) else None
        return highest if isinstance(highest, int) and highest >= 0 else None

    def record_kassenzeichen(self, prefix: str, running_number: int) -> None:
        """Remember a Kassenzeichen after its commit; failures are logged, as with `record`."""
        try:
            with self._locked():
                entries = self._read()
                key = _kassenzeichen_key(prefix)
                old = entries.get(key)
                if isinstance(old, dict) and isinstance(old.get("highest"), int):
                    running_number = max(running_number, int(old["highest"]))
                entries[key] = {"highest": running_number}
                self._write(entries)
        except OSError as error:
            log.warning("could not record the Kassenzeichen in %s: %s", self.path, error.strerror)

    def _read(self) -> dict[str, Any]:
        return state_files.read_entries(self.path)

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return state_files.locked(self.path)

    def _write(self, entries: dict[str, Any]) -> None:
        state_files.write_entries(self.path, entries)


def _key(office_id: str, prefix: str) -> str:
    return f"{office_id} {prefix}"


def _kassenzeichen_key(prefix: str) -> str:
    return f"kassenzeichen {prefix}"
