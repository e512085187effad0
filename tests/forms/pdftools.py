"""Reading rendered PDFs back with poppler, independent of the library that wrote them."""

from __future__ import annotations

import re
import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def pdf_text(path: Path) -> str:
    """The text with whitespace collapsed, so wrapping and columns don't matter."""
    return re.sub(r"\s+", " ", run("pdftotext", "-layout", str(path), "-"))


def embedded_fonts(path: Path) -> list[tuple[str, bool]]:
    rows = run("pdffonts", str(path)).splitlines()[2:]
    fonts = []
    for row in rows:
        parts = row.split()
        # name type... encoding emb sub uni object ID: emb is the 5th field from the end.
        fonts.append((parts[0], parts[-5] == "yes"))
    return fonts


def xmp_metadata(path: Path) -> str:
    return run("pdfinfo", "-meta", str(path))


def write(tmp_path: Path, name: str, pdf: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(pdf)
    return path
