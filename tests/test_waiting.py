"""The deadline-bounded waits the tests use instead of fixed sleeps, and no wall-clock in Hypothesis."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, settings

from tests.waiting import ConditionTimeout, wait_until, wait_until_async


def test_returns_once_the_condition_holds() -> None:
    polls = itertools.count()
    wait_until(lambda: next(polls) == 3, "the third poll")
    assert next(polls) == 4  # polled exactly until it held, not further


def test_fails_with_what_it_waited_for() -> None:
    with pytest.raises(ConditionTimeout, match=r"not within 0\.01 s: the reader is empty"):
        wait_until(lambda: False, "the reader is empty", timeout=0.01)


async def test_the_async_wait_lets_the_loop_run() -> None:
    polls = itertools.count()
    await wait_until_async(lambda: next(polls) == 3, "the third poll")
    assert next(polls) == 4
    with pytest.raises(ConditionTimeout, match="the worker finished"):
        await wait_until_async(lambda: False, "the worker finished", timeout=0.01)


def test_no_hypothesis_test_has_a_wall_clock_deadline() -> None:
    profile = settings.default  # the profile tests/conftest.py loads
    assert profile is not None
    assert profile.deadline is None
    assert HealthCheck.too_slow in profile.suppress_health_check
