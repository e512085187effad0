"""Every UI test fails when the app met an unexpected error (the "Ein unerwarteter Fehler" dialog):
a crash must never pass for the refusal a test expects. A test that provokes one on purpose says so
with `@pytest.mark.unexpected_failure`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

UNEXPECTED = "unexpected failure in"


@pytest.fixture(autouse=True)
def _no_unexpected_failures(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    caplog.set_level(logging.ERROR, logger="screens.failures")
    yield
    crashes = [
        r for r in caplog.records if r.name == "screens.failures" and r.getMessage().startswith(UNEXPECTED)
    ]
    if crashes and request.node.get_closest_marker("unexpected_failure") is None:
        details = "; ".join(
            f"{r.getMessage()}: {r.exc_info[1]!r}" if r.exc_info else r.getMessage() for r in crashes
        )
        pytest.fail(f"the app met an unexpected error: {details}")
