"""Benchmark rendering each template from its example, and sealing it on a SoftHSM2 token (not a test).

Render: `Template.render` (pydantic parse + fpdf2 layout + PDF/A output), median and max of warm
runs, the first (cold: font parsing, imports) apart. Sealed: `seal_pdf` on a demo token in a
temporary SOFTHSM2_CONF and keyring file — token login, RSA-3072 signature on the token, pyHanko's
CMS and incremental update. Goals (issue 10): render ≤ 50 ms, sealed ≤ 150 ms.

    uv run python bench/forms_render.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from forms.templates import TEMPLATES


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

    print(f"{'template':<20} {'cold ms':>8} {'median ms':>10} {'max ms':>8}")
    for template in TEMPLATES.values():
        data = template.example()
        cold, median, worst = timed(lambda t=template, d=data: t.render(d), runs)
        print(f"{template.name:<20} {cold:8.1f} {median:10.1f} {worst:8.1f}")

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
