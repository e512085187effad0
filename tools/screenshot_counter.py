"""Save the counter screen of a demo day as SVG (for the README): the real Counter on a local store
filled from the seeded day, a fixed clock, one ticket called with F2.

    uv run python tools/screenshot_counter.py [docs/screenshot-counter.svg]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ui.support import filled_store, make_app, settle  # noqa: E402


async def save(target: Path) -> None:
    with tempfile.TemporaryDirectory() as temp:
        app = make_app(filled_store(Path(temp) / "tresen.sqlite3"))
        async with app.run_test(size=(160, 50)) as pilot:
            await settle(pilot)
            await pilot.press("f2")
            await settle(pilot)
            app.save_screenshot(filename=target.name, path=str(target.parent))


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshot-counter.svg"
    target.parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(save(target))
    sys.stdout.write(f"{target}\n")


if __name__ == "__main__":
    main()
