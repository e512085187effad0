"""Benchmark fetching a capture bundle from the capture-terminal simulator and checking it (not a test).

Per run, alternating on the same code (the terminal keeps a capture until it is acknowledged):

- **Tresen**: `TerminalSource.fetch` (bounded download, strict parse, SHA-256 per item, ECDSA P-256
  over the manifest) and `check_bundle` (photo decoded, size, ratio, colour depth, file size, the
  terminal's flags, signature and fingerprints) — what the case screen's worker does;
- **transfer** (the reference, same run, same socket and server): the same request with httpx,
  reading the answer's bytes and nothing else.

Tresen minus transfer is the figure the goal is about (issue 11: ≤ 150 ms beyond the transfer for a
500 KB bundle). JPEG and JPEG 2000 photos apart; the sample photo is 1244 × 1600 px.

    uv run python bench/capture_fetch.py [--runs 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.captures import samples
from devices.captures.checks import check_bundle
from devices.captures.simulator import Variant, add_ready_capture, start_simulator
from devices.captures.terminal import TerminalSource
from devices.captures.trust import TrustAnchor


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    with start_simulator() as sim, httpx.Client(timeout=30) as client:
        source = TerminalSource(sim.url, TrustAnchor.from_pem(sim.state.terminal_cert_pem), client=client)
        # The 500 KB bundle: the sample portrait as a JPEG of quality 98 (~370 KB; with the
        # signature, two fingerprints and base64 the answer is ~500 KB).
        large = samples.encode(samples.portrait(11), "image/jpeg", quality=98)
        cases = {
            "jpeg-500k": add_ready_capture(sim.state, photo=(large, "image/jpeg")),
            "jpeg": sim.state.terminal_code(Variant.GOOD),
            "jpeg2000": sim.state.terminal_code(Variant.GOOD_JP2),
        }
        for name, code in cases.items():
            tresen: list[float] = []
            transfer: list[float] = []
            size = 0
            for _ in range(runs + 1):  # the first pair warms imports, codecs and the connection
                start = time.perf_counter()
                answer = client.post(f"{sim.url}/api/v1/captures/retrieve", json={"capture_code": code})
                size = len(answer.content)
                transfer.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                report = check_bundle(source.fetch(code))
                tresen.append((time.perf_counter() - start) * 1000)
                assert report.passed, report
            t, r = statistics.median(tresen[1:]), statistics.median(transfer[1:])
            p95 = sorted(tresen[1:])[int(0.95 * (runs - 1))]
            print(
                f"{name:<10} bundle {size / 1024:.0f} KiB: Tresen p50 {t:.1f} ms (p95 {p95:.1f}) · "
                f"transfer p50 {r:.1f} ms · beyond the transfer {t - r:.1f} ms · ratio {t / r:.1f}×"
            )


if __name__ == "__main__":
    main()
