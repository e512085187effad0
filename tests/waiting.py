"""Wait for a condition with a deadline, instead of sleeping for a fixed time.

The deadline is generous (a busy shared machine may be slow); a test pays only as long as the
condition takes. The polls back off from 1 ms to 50 ms so a quick condition costs almost nothing.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_TIMEOUT_SECONDS = 30.0
_FIRST_POLL_SECONDS = 0.001
_LONGEST_POLL_SECONDS = 0.05


class ConditionTimeout(AssertionError):
    """The condition did not come true before the deadline."""


def wait_until(condition: Callable[[], object], what: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
    """Return as soon as `condition()` is true; fail with `what` once `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    poll = _FIRST_POLL_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise ConditionTimeout(f"not within {timeout:g} s: {what}")
        time.sleep(poll)
        poll = min(poll * 2, _LONGEST_POLL_SECONDS)


async def wait_until_async(
    condition: Callable[[], object], what: str, timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> None:
    """`wait_until` for a test running in the event loop: the loop (and a Textual app) runs meanwhile."""
    deadline = time.monotonic() + timeout
    poll = _FIRST_POLL_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise ConditionTimeout(f"not within {timeout:g} s: {what}")
        await asyncio.sleep(poll)
        poll = min(poll * 2, _LONGEST_POLL_SECONDS)
