"""What an encrypted local store (SQLCipher) would cost a desk: opening it and F2, beside the plain
store in the same run.

Issue 8: "evaluate SQLCipher (`sqlcipher3`) for the local store and say in `docs/` what it costs at
start and on F2". SQLCipher is not a dependency (docs/architecture.md, "Data at rest"), so this runs
with it added for the run only:

    uv run --with sqlcipher3-binary python bench/sqlcipher_cost.py [--calls 60] [--opens 20]

The plain store is the F2 bench's (tests/ui/support.py `filled_store`: 5,000 appointments and 2,000
waiting tickets); the encrypted one is its `sqlcipher_export` under a raw 256-bit key (no passphrase
derivation: the key would come from the keyring, like the audit secret). Both are opened through
`workstation.db.LocalStore`, the encrypted one with SQLAlchemy's `sqlite+pysqlcipher` URL, so the
store's own pragmas (WAL, synchronous=FULL, foreign keys) apply to both. Interleaved, timed with
`time.perf_counter`:
- open: `LocalStore(path)` and its first query (what a desk's start pays for the store);
- F2: `Counter.call_next()` on the local queue, the visit then served and finished (not timed).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.key_to_frame import percentiles
from tests.ui.support import filled_store, make_counter
from workstation import db

if TYPE_CHECKING:
    from workstation.counter import Counter

KEY = secrets.token_hex(32)  # a raw key: SQLCipher skips its passphrase derivation (PBKDF2)


def encrypted_copy(plain: Path, target: Path) -> None:
    import sqlcipher3  # type: ignore[import-not-found]  # only with `uv run --with sqlcipher3-binary`

    connection = sqlcipher3.connect(str(plain))
    connection.execute(f"ATTACH DATABASE '{target}' AS encrypted KEY \"x'{KEY}'\"")
    connection.execute("SELECT sqlcipher_export('encrypted')")
    connection.execute("DETACH DATABASE encrypted")
    connection.close()


def encrypted_engines() -> None:
    """Make `LocalStore` open its file through SQLCipher: the URL carries the raw key."""
    real = sqlalchemy.create_engine

    def create_engine(url: str, **options: Any) -> sqlalchemy.Engine:
        if url.startswith("sqlite:///") and "encrypted" in url:
            url = f"sqlite+pysqlcipher://:x'{KEY}'@/{url.removeprefix('sqlite:///')}"
        return real(url, **options)

    db.create_engine = create_engine  # type: ignore[attr-defined,assignment]


def open_once(path: Path) -> float:
    started = time.perf_counter()
    store = db.LocalStore(path)
    with store.session() as session:
        session.execute(text("SELECT count(*) FROM tickets")).scalar_one()
    elapsed = (time.perf_counter() - started) * 1000
    store.dispose()
    return elapsed


def call_once(counter: Counter) -> float:
    started = time.perf_counter()
    called = counter.call_next()
    elapsed = (time.perf_counter() - started) * 1000
    assert called is not None, "queue ran empty"
    counter.citizen_arrived()
    current = counter.current_ticket()
    assert current is not None
    counter.finish({service.id: "completed" for service in current.services})
    return elapsed


def line(name: str, values: list[float], reference: list[float] | None = None) -> str:
    p50, p95 = percentiles(values)
    text_ = f"  {name:<34} p50 {p50:7.2f} / p95 {p95:7.2f} ms"
    if reference is not None:
        r50, r95 = percentiles(reference)
        text_ += f"  = {p50 / r50:.2f}x / {p95 / r95:.2f}x plain"
    return text_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--opens", type=int, default=20)
    args = parser.parse_args()
    encrypted_engines()
    with tempfile.TemporaryDirectory() as temp_dir:
        temp = Path(temp_dir)
        desk = filled_store(temp / "plain.sqlite3", appointments=5000, waiting=2000)
        desk.store.dispose()
        encrypted_path = temp / "encrypted.sqlite3"
        encrypted_copy(temp / "plain.sqlite3", encrypted_path)
        assert not encrypted_path.read_bytes()[:16].startswith(b"SQLite format 3"), "not encrypted"

        opens: dict[str, list[float]] = {"plain": [], "encrypted": []}
        for _ in range(args.opens):
            opens["plain"].append(open_once(temp / "plain.sqlite3"))
            opens["encrypted"].append(open_once(encrypted_path))

        plain = make_counter(desk)
        encrypted_desk = type(desk)(db.LocalStore(encrypted_path), desk.ctx, desk.day)
        encrypted = make_counter(encrypted_desk)
        calls: dict[str, list[float]] = {"plain": [], "encrypted": []}
        for _ in range(5):  # warm-up, not counted
            call_once(plain)
            call_once(encrypted)
        for _ in range(args.calls):
            calls["plain"].append(call_once(plain))
            calls["encrypted"].append(call_once(encrypted))
    print(f"5,000 appointments, 2,000 waiting; {args.opens} opens and {args.calls} F2 of each, interleaved")
    print(line("open, plain", opens["plain"]))
    print(line("open, SQLCipher (raw key)", opens["encrypted"], opens["plain"]))
    print(line("F2 (Counter.call_next), plain", calls["plain"]))
    print(line("F2 (Counter.call_next), SQLCipher", calls["encrypted"], calls["plain"]))


if __name__ == "__main__":
    main()
