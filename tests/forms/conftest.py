"""Poppler is a real part of the forms tests: missing under CI is a failure, elsewhere a skip."""

from __future__ import annotations

import os
import shutil

import pytest

POPPLER_TOOLS = ("pdftotext", "pdfinfo", "pdffonts", "pdfimages")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    missing = [tool for tool in POPPLER_TOOLS if shutil.which(tool) is None]
    for item in items:
        if item.get_closest_marker("poppler") is None or not missing:
            continue
        reason = f"poppler-utils missing: {', '.join(missing)}"
        if os.environ.get("CI"):
            raise pytest.UsageError(f"{reason} (CI: the forms tests need poppler-utils)")
        item.add_marker(pytest.mark.skip(reason=reason))
