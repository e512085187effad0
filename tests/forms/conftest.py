"""The forms tests read rendered PDFs back with poppler's command-line tools."""

from __future__ import annotations

import shutil

import pytest

from tests.services import require_service

POPPLER_TOOLS = ("pdftotext", "pdfimages", "pdfinfo")


def missing_poppler_tools() -> str | None:
    missing = [tool for tool in POPPLER_TOOLS if shutil.which(tool) is None]
    return f"{', '.join(missing)} not on PATH (install poppler-utils)" if missing else None


@pytest.fixture(scope="session")
def poppler_tools() -> None:
    """poppler-utils installed; when not: fails under CI, else skips with the reason."""
    require_service(missing_poppler_tools(), "poppler")
