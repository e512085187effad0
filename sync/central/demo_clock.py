"""The demo's clock: `tresen demo --at 10:30` starts at today's 10:30 in the office's zone and runs on.

One clock for every part of the demo — the embedded central service (arbitration, due times, check-in
times), the kiosk, the workstation's counter and sync engine — so they agree on what "now" is.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import UTC, datetime, time

from sync.clock import OFFICE_ZONE

Clock = Callable[[], datetime]

_WALL_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def demo_clock(at: time | None, *, real: Clock) -> Clock:
    """A clock that reads today's `at` (Europe/Berlin wall time) now and advances with `real`.

    `at` None gives `real` itself. "Today" is the office's date at the moment of the call; the offset
    is fixed then, so the demo clock runs exactly as fast as the real one (also across a clock
    change). Answers are aware UTC datetimes, as `real` should give."""
    if at is None:
        return real
    if at.tzinfo is not None:
        raise ValueError("the demo time is a wall time in the office's zone, without a zone of its own")
    started = real()
    wall = datetime.combine(started.astimezone(OFFICE_ZONE).date(), at, OFFICE_ZONE)
    offset = wall.astimezone(UTC) - started

    def clock() -> datetime:
        return (real() + offset).astimezone(UTC)

    return clock


def parse_wall_time(text: str) -> time:
    """ "10:30" → time(10, 30): an argparse `type=` for `--at`, refusing anything else in German."""
    match = _WALL_TIME.match(text)
    if match is not None:
        hours, minutes = int(match.group(1)), int(match.group(2))
        if hours < 24 and minutes < 60:
            return time(hours, minutes)
    raise argparse.ArgumentTypeError(f"keine gültige Uhrzeit: {text!r} (erwartet SS:MM, z. B. 10:30)")
