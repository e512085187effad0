"""Call → visible on the waiting-room display, in a real browser, beside a bare EventSource page.

Starts the embedded central service (SQLite, the seeded day), opens Debian's chromium headless through
Playwright (system browser, no download) with two tabs on the same origin:
- the call display `/display/{office}`: a call counts as visible at the first animation frame after
  its row is in the document (a MutationObserver, then requestAnimationFrame);
- the reference: a bare page whose EventSource listens to the same stream and stamps the event's
  arrival: what the transport alone costs.
Each call is made through the API (call-next) and timed from just before the request to the
browser's stamp, both on this machine's wall clock (ms). Prints p50/p95 of both and their ratio.

Credentials as in the office: the display is set up once with its display token (`?key=`, which the
central service turns into a cookie; both tabs share that browser context, so the reference page's
EventSource carries it too), and each desk signs its call-next (RFC 9421) as a workstation registered
for that desk with its clerk logged in.

    uv run python bench/display_latency.py [--calls 40]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.central.credentials import TokenKind
from sync.central.embedded import start_embedded
from sync.central.seed import BUERGERAMT_ID, generate_day, seed_central
from sync.central.store import CentralStore
from tests.credentials import clerk_auth, token

API = "/api/v1"
DESKS = [f"{BUERGERAMT_ID}-d{n}" for n in range(1, 8)]
CLERKS = [f"{BUERGERAMT_ID}-c{n}" for n in range(1, 8)]
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 in Berlin

DISPLAY_PROBE = """() => {
  window.seenAt = {};
  const live = document.getElementById('live');
  new MutationObserver(() => {
    live.querySelectorAll('[data-call-id]').forEach((row) => {
      const id = row.getAttribute('data-call-id');
      if (!(id in window.seenAt)) {
        window.seenAt[id] = null;
        requestAnimationFrame(() => { window.seenAt[id] = Date.now(); });
      }
    });
  }).observe(live, {childList: true, subtree: true});
}"""

REFERENCE_PAGE = """<!doctype html><html lang="en"><title>reference</title><body><script>
window.seenAt = {};
const source = new EventSource('/display/%s/events');
source.addEventListener('state', (event) => {
  const at = Date.now();
  window.ready = true;
  for (const match of JSON.parse(event.data).html.matchAll(/data-call-id="([^"]+)"/g)) {
    if (!(match[1] in window.seenAt)) { window.seenAt[match[1]] = at; }
  }
});
</script></body></html>"""


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=40)
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        print("chromium is missing: installer/browser.sh", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        db_url = f"sqlite:///{Path(folder) / 'central.sqlite3'}"
        central_store = CentralStore(db_url)
        central_store.create_schema()
        with central_store.write() as session:
            seed_central(session, generate_day(NOW.date(), seed=1, appointments=300, waiting=200, now=NOW))
        try:
            display_key = token(central_store, TokenKind.DISPLAY, BUERGERAMT_ID)
            desk_auth = {
                desk: clerk_auth(central_store, f"ws-{desk}", BUERGERAMT_ID, clerk, desk_id=desk)
                for desk, clerk in zip(DESKS, CLERKS, strict=True)
            }
        finally:
            central_store.dispose()
        clock_start = time.monotonic()

        def clock() -> datetime:
            return NOW + timedelta(seconds=time.monotonic() - clock_start)

        central = start_embedded(db_url, clock=clock)
        try:
            with sync_playwright() as playwright, httpx.Client(base_url=central.url + API) as http:
                browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                context = browser.new_context()  # one cookie jar for both tabs
                display = context.new_page()
                display.goto(f"{central.url}/display/{BUERGERAMT_ID}?key={display_key}")
                assert "key=" not in display.url, display.url  # redirected, the key now a cookie
                display.wait_for_function("document.body.getAttribute('data-connection') === 'live'")
                display.evaluate(DISPLAY_PROBE)
                reference = context.new_page()
                reference.goto(f"{central.url}/api/v1/health")  # same origin, nothing else on it
                reference.set_content(REFERENCE_PAGE % BUERGERAMT_ID)
                reference.wait_for_function("window.ready === true")
                on_display: list[float] = []
                on_reference: list[float] = []
                answered: list[float] = []
                for n in range(args.calls):
                    desk = DESKS[n % len(DESKS)]
                    sent = time.time() * 1000
                    answer = (
                        http.post(
                            f"/desks/{desk}/call-next",
                            json={
                                "workstation_id": f"ws-{desk}",
                                "clerk_id": CLERKS[n % len(CLERKS)],
                                "call_id": f"b{n}",
                            },
                            auth=desk_auth[desk],
                        )
                        .raise_for_status()
                        .json()
                    )
                    answered.append(time.time() * 1000 - sent)
                    call_id = answer["call"]["id"]
                    for tab, samples in ((display, on_display), (reference, on_reference)):
                        tab.wait_for_function(f"window.seenAt[{call_id!r}] > 0", timeout=10_000)
                        samples.append(tab.evaluate(f"window.seenAt[{call_id!r}]") - sent)
                browser.close()
        finally:
            central.stop()
    display_p50, display_p95 = percentiles(on_display)
    reference_p50, reference_p95 = percentiles(on_reference)
    print(f"calls: {len(on_display)}")
    print(f"call → visible on the display:   p50 {display_p50:6.1f} ms   p95 {display_p95:6.1f} ms")
    print(f"call → event on a bare page:     p50 {reference_p50:6.1f} ms   p95 {reference_p95:6.1f} ms")
    answered_p50, answered_p95 = percentiles(answered)
    print(f"call-next answered (for scale):  p50 {answered_p50:6.1f} ms   p95 {answered_p95:6.1f} ms")
    print(f"ratio display / reference (p50): {display_p50 / max(reference_p50, 0.1):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
