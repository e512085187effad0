"""Real parts for the device tests: SoftHSM2 and CUPS. Missing under CI fails the run; elsewhere skips."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from devices.workstation_key import TokenKeyConfig
from tests.services import require_service

if TYPE_CHECKING:
    from collections.abc import Iterator

SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")


def require(condition: bool, reason: str) -> None:
    """The one rule (tests/services.py): missing under CI fails, elsewhere skips with the reason."""
    require_service(None if condition else reason, "SoftHSM2/CUPS")


@pytest.fixture(scope="session")
def seal_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A demo token in a temporary SOFTHSM2_CONF; its secrets go to the suite's keyring file
    (`suite_keyring` in tests/conftest.py), never the user's. Not a keyring file of its own: this
    fixture lives for the session, and a second file would divert every later test of the worker
    (and the processes they start) from the suite's audit key."""
    require(shutil.which("softhsm2-util") is not None and SOFTHSM_MODULE.exists(), "SoftHSM2 not installed")
    from devices.seal.demo_token import create_demo_token

    home = tmp_path_factory.mktemp("seal")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TRESEN_SEAL_DIR", str(home / "demo-seal"))
        env.delenv("TRESEN_SEAL_CA", raising=False)
        env.delenv("TRESEN_SEAL_TOKEN", raising=False)
        env.setenv("SOFTHSM2_CONF", str(home / "demo-seal" / "softhsm2.conf"))
        create_demo_token()
        yield home


def new_token() -> tuple[TokenKeyConfig, str]:
    """A fresh token in the session's SoftHSM2 configuration (`seal_home` points SOFTHSM2_CONF at it)."""
    import pkcs11

    label, pin = f"ws-{secrets.token_hex(4)}", "".join(secrets.choice("0123456789") for _ in range(8))
    tool = shutil.which("softhsm2-util")
    assert tool is not None
    subprocess.run(
        [tool, "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", pin + "0"],
        env=dict(os.environ),
        capture_output=True,
        check=True,
    )
    pkcs11.lib(str(SOFTHSM_MODULE)).reinitialize()
    return TokenKeyConfig(SOFTHSM_MODULE, label), pin


REPO = Path(__file__).resolve().parents[2]
CUPS_PDF_QUEUE = "Tresen-PDF"


@pytest.fixture(scope="session")
def cups_pdf_queue() -> str:
    """The cups-pdf queue, made ready by installer/cups.sh (starts cupsd only if it is not running)."""
    import subprocess

    require(
        shutil.which("lpstat") is not None and Path("/usr/lib/cups/backend/cups-pdf").exists(),
        "CUPS with cups-pdf not installed",
    )
    require(os.geteuid() == 0, "installer/cups.sh needs root")
    result = subprocess.run(
        ["bash", str(REPO / "installer" / "cups.sh")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TRESEN_CUPS_PDF_QUEUE": CUPS_PDF_QUEUE},
    )
    require(result.returncode == 0, f"CUPS not ready: {result.stderr.strip()}")
    return CUPS_PDF_QUEUE
