"""Time, once: the current UTC moment, the type of an injectable clock, and the office's day.

Moments are aware UTC everywhere (the stores keep naive UTC, see `sync.sqltypes`); only the office's
calendar day and the wall-clock times shown to people use the office's zone. One zone for every
office until offices carry their own setting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["OFFICE_ZONE", "Clock", "office_day", "office_day_bounds", "utc_now"]

OFFICE_ZONE = ZoneInfo("Europe/Berlin")

Clock = Callable[[], datetime]  # injected wherever "now" is needed, so tests and replays set the time


def utc_now() -> datetime:
    """The production clock: now, aware, in UTC."""
    return datetime.now(UTC)


def office_day(moment: datetime) -> date:
    """The office's calendar day at `moment` (aware)."""
    return moment.astimezone(OFFICE_ZONE).date()


def office_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The office's calendar day as a UTC interval [start, end): 23 or 25 hours on DST days."""
    start = datetime.combine(day, time(0), tzinfo=OFFICE_ZONE)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=OFFICE_ZONE)
    return start.astimezone(UTC), end.astimezone(UTC)
