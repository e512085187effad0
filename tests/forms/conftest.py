"""The forms tests read rendered PDFs back with poppler's command-line tools: a real part, so missing
under CI is a failure and elsewhere a skip with the reason (`tests.services.require_service`)."""

from __future__ import annotations

import shutil

import pytest

from tests.services import require_service

POPPLER_TOOLS = ("pdftotext", "pdfimages", "pdfinfo", "pdffonts")


def missing_poppler_tools() -> str | None:
    missing = [tool for tool in POPPLER_TOOLS if shutil.which(tool) is None]
    return f"{', '.join(missing)} not on PATH (install poppler-utils)" if missing else None


@pytest.fixture(scope="session")
def poppler_tools() -> None:
    """poppler-utils installed; when not: fails under CI, else skips with the reason."""
    require_service(missing_poppler_tools(), "poppler")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test marked `poppler` gets the fixture that checks for poppler (one rule for both ways)."""
    for item in items:
        if item.get_closest_marker("poppler") is not None:
            item.add_marker(pytest.mark.usefixtures("poppler_tools"))
