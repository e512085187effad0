"""The one rule for tests that need a real service (pcscd, PostgreSQL, poppler, CUPS, SoftHSM2).

Outside CI a missing service skips its tests with the reason, so a developer without root can still
run the rest. Under CI (`CI` set to true, as CI systems and `.ci/run` do) it fails them: a skip there
would let a broken service set-up pass as green.

Every service has a marker (`SERVICE_MARKERS`), so a lane without services deselects them with
`-m "not pcsc and not postgres ..."`; tests/conftest.py adds the marker to any test that uses a
service's fixture, so a forgotten marker cannot leak a service test into that lane.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from collections.abc import Mapping

# marker -> what it needs; the markers are declared in pyproject.toml ([tool.pytest.ini_options]).
SERVICE_MARKERS: Mapping[str, str] = {
    "pcsc": "pcscd with the vsmartcard virtual reader (root)",
    "postgres": "a PostgreSQL server started by tests/central/postgres_server.py",
    "poppler": "poppler-utils (pdftotext, pdfimages, pdftoppm) and zbar-tools (zbarimg)",
    "cups": "a CUPS server",
    "softhsm": "SoftHSM2",
    "browser": "Debian's chromium (installer/browser.sh), driven by Playwright",
}

# fixture -> the marker a test using it must carry
SERVICE_FIXTURES: Mapping[str, str] = {
    "pcsc_stack": "pcsc",
    "postgres_server": "postgres",
    "poppler_tools": "poppler",
}

_TRUE = frozenset({"1", "true", "yes", "on"})


def running_under_ci(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get("CI", "").strip().lower() in _TRUE


def require_service(problem: str | None, name: str, *, environ: Mapping[str, str] = os.environ) -> None:
    """Return when the service is usable (`problem` is None); otherwise fail under CI, skip outside."""
    if problem is not None:
        service_missing(problem, name, environ=environ)


def service_missing(problem: str, name: str, *, environ: Mapping[str, str] = os.environ) -> NoReturn:
    """The service `name` cannot run because of `problem`: fail under CI, skip (with it) outside."""
    if running_under_ci(environ):
        pytest.fail(f"{name} is required under CI but cannot run: {problem}", pytrace=False)
    pytest.skip(f"{name} unavailable: {problem}")
