"""Benchmark rendering each template from its example, and sealing it on a SoftHSM2 token (not a test).

Render: `Template.render` (pydantic parse + fpdf2 layout + PDF/A output), median and max of warm
runs, the first (cold: font parsing, imports) apart. Sealed: `seal_pdf` on a demo token in a
temporary SOFTHSM2_CONF and keyring file — token login, RSA-3072 signature on the token, pyHanko's
CMS and incremental update. Goals (issue 10): render ≤ 50 ms, sealed ≤ 150 ms.

    uv run python bench/forms_render.py [--runs 15]

Beside each template's figure, its reference in the same run, interleaved run by run: the same
render with fpdf2 parsing the font files for every document (`add_font`, as before the faces were
parsed once per process in `forms.layout.add_fonts`); the ratio is what holds on a noisy machine.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import forms.layout
import forms.ticket_slip
from forms.templates import TEMPLATES

if TYPE_CHECKING:
    from collections.abc import Callable

    from fpdf import FPDF

CACHED_FONTS = forms.layout.add_fonts


def fonts_per_document(pdf: FPDF, family: str = forms.layout.FONT) -> None:
    """The reference: fpdf2 parses each font file again for every document."""
    for style, path in forms.layout.FONT_FILES.items():
        pdf.add_font(family, style, path)


def use_fonts(add: Callable[..., None]) -> None:
    forms.layout.add_fonts = add
    forms.ticket_slip.add_fonts = add  # type: ignore[attr-defined]  # imported by name there


def interleaved(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """Medians (ms) of `action` with the fonts parsed once and parsed per document, run by run."""
    cached: list[float] = []
    reference: list[float] = []
    for _ in range(runs):
        for add, samples in ((CACHED_FONTS, cached), (fonts_per_document, reference)):
            use_fonts(add)
            start = time.perf_counter()
            action()
            samples.append((time.perf_counter() - start) * 1000)
    use_fonts(CACHED_FONTS)
    return statistics.median(cached), statistics.median(reference)


def timed(action: object, runs: int) -> tuple[float, float, float]:
    assert callable(action)
    samples = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    cold, warm = samples[0], samples[1:]
    return cold, statistics.median(warm), max(warm)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs

    print(
        f"{'template':<20} {'cold ms':>8} {'median ms':>10} {'max ms':>8} {'reference ms':>13} {'ratio':>6}"
    )
    for template in TEMPLATES.values():
        data = template.example()
        cold, median, worst = timed(lambda t=template, d=data: t.render(d), runs)
        cached, reference = interleaved(functools.partial(template.render, data), runs)
        print(
            f"{template.name:<20} {cold:8.1f} {median:10.1f} {worst:8.1f} {reference:13.1f}"
            f" {cached / reference:6.2f}"
        )

    with tempfile.TemporaryDirectory() as home:
        os.environ["TRESEN_KEYRING_FILE"] = str(Path(home) / "keyring.cfg")
        os.environ["TRESEN_SEAL_DIR"] = str(Path(home) / "seal")
        from devices.seal.config import SealConfig
        from devices.seal.demo_token import create_demo_token
        from devices.seal.seal import seal_pdf

        create_demo_token()
        config = SealConfig.from_env()
        print(f"\n{'sealed (render+seal)':<20} {'cold ms':>8} {'median ms':>10} {'max ms':>8}")
        for name in ("quittung", "meldebescheinigung", "meldebestaetigung"):
            template = TEMPLATES[name]
            data = template.example()
            cold, median, worst = timed(lambda t=template, d=data: seal_pdf(t.render(d), config), runs)
            print(f"{name:<20} {cold:8.1f} {median:10.1f} {worst:8.1f}")


if __name__ == "__main__":
    main()
