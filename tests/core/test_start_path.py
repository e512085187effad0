"""The clerk's start path stays lean: no pydantic (the sync protocol), no Alembic when the store's
schema is current, no PDF stack (fpdf2, fontTools: the forms render in a worker; the document module
loads on the first finish) and no capture checks (Pillow, cryptography), and the constants that make
this possible stay equal to their sources."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from sync.protocol import OperationKind as ProtocolKind
from workstation.db import LocalStore
from workstation.migrations import SCHEMA_HEAD
from workstation.migrations.runner import alembic_config
from workstation.operation_kinds import OperationKind

ROOT = Path(__file__).resolve().parents[2]

# Opens the store (with its instance check) and builds the counter and the app object the way
# `tresen run` does for a desk without a central service, then reports which of the heavy libraries
# got imported.
START_PATH = """
import json, sys
from pathlib import Path
HEAVY = (
    "pydantic", "sync.protocol", "alembic", "fpdf", "fontTools", "num2words", "PIL", "cryptography",
    "workstation.documents",
)
from screens.app import TresenApp
import screens.counter, screens.case  # the first screen and the one F5 opens, as the app loads them
from workstation.login import Workplace
from workstation.commands import DeskContext
from workstation.counter import Counter
from tresen.desk import open_store

store = open_store(Path(sys.argv[1]), instances=Path(sys.argv[1]).with_name("instances.json"))
app = TresenApp(workplace=Workplace(Counter(store, DeskContext("ws", "o", "d", "c")), None, "Schalter"))
print(json.dumps({
    "revision": store.schema_revision(),
    "loaded": sorted(name for name in HEAVY if name in sys.modules),
}))
"""


def start(store_path: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", START_PATH, str(store_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    figures: dict[str, object] = json.loads(out.stdout)
    return figures


def test_the_schema_head_is_the_migration_scripts_head() -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head == SCHEMA_HEAD


def test_the_operation_kinds_are_the_protocols() -> None:
    assert {kind.name: kind.value for kind in OperationKind} == {
        kind.name: kind.value for kind in ProtocolKind
    }


def test_a_current_store_starts_without_alembic_or_pydantic(tmp_path: Path) -> None:
    path = tmp_path / "tresen.sqlite3"
    store = LocalStore(path)
    store.migrate()
    store.dispose()
    assert start(path) == {"revision": SCHEMA_HEAD, "loaded": []}


def test_a_new_store_is_migrated_with_alembic(tmp_path: Path) -> None:
    report = start(tmp_path / "tresen.sqlite3")
    assert report == {"revision": SCHEMA_HEAD, "loaded": ["alembic"]}


def test_the_revision_of_a_store_without_schema_is_none(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "empty.sqlite3")
    try:
        assert store.schema_revision() is None
    finally:
        store.dispose()
