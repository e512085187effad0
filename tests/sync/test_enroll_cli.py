"""Issue 8: an administrator's code and `tresen enroll` bind a new workstation over HTTP; afterwards
`tresen sync now` talks to the central service with the enrolled key alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.secret_store import KEYRING_FILE_ENV
from sync.central.seed import BUERGERAMT_ID
from tresen.cli import main as tresen
from workstation.identity import load_identity

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from sync.central.embedded import EmbeddedCentral


def test_enroll_with_a_code_then_sync(
    central: EmbeddedCentral,
    central_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KEYRING_FILE_ENV, str(tmp_path / "keyring.cfg"))
    store = tmp_path / "desk" / "tresen.sqlite3"
    config = tmp_path / "tresen.toml"
    config.write_text(f'[store]\npath = "{store}"\n')
    assert tresen(["central", "enroll-code", "--db", central_url, "--office", BUERGERAMT_ID]) == 0
    code = capsys.readouterr().out.strip()
    assert len(code) >= 40

    assert tresen(["--config", str(config), "enroll", "--central", central.url, "--code", code]) == 0
    said = capsys.readouterr().out
    identity = load_identity(store)
    assert identity is not None
    assert identity.office_id == BUERGERAMT_ID
    assert identity.workstation_id in said
    assert oct((store.parent / "workstation-key.pem").stat().st_mode & 0o777) == "0o600"
    assert oct(store.parent.stat().st_mode & 0o777) == "0o700"

    assert tresen(["--config", str(config), "sync", "now"]) == 0
    assert "Abgeglichen" in capsys.readouterr().out
    # The code is spent: a second workstation cannot use it.
    other = tmp_path / "other.toml"
    other.write_text(f'[store]\npath = "{tmp_path / "other" / "tresen.sqlite3"}"\n')
    assert tresen(["--config", str(other), "enroll", "--central", central.url, "--code", code]) == 2
    assert "schon benutzt" in capsys.readouterr().err
