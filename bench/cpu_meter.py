"""CPU time of whole processes, read from /proc: what a bench's servers spent, robust to the other
work on a shared machine (their wall-clock figures are not)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system time of `pid` so far; 0 for a process that is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14, 15 of stat)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == pid:
                found.append(int(entry.name))
    return found


def pids_with_arguments(*needles: str) -> list[int]:
    """Processes whose command line holds every one of `needles`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                arguments = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            words = [word.decode(errors="replace") for word in arguments]
            if all(needle in words for needle in needles):
                found.append(int(entry.name))
    return found


@dataclass
class CpuMeter:
    """CPU seconds spent by groups of processes between `start` and `stop`. Each group is found anew
    at both ends (a server's pool opens connections, so PostgreSQL backends appear meanwhile); a
    process that ended in between is not counted."""

    groups: dict[str, Callable[[], list[int]]]
    _started: dict[int, float] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self._started = {pid: cpu_seconds(pid) for find in self.groups.values() for pid in find()}

    def stop(self) -> None:
        self.spent = {
            name: sum(cpu_seconds(pid) - self._started.get(pid, 0.0) for pid in find())
            for name, find in self.groups.items()
        }
