"""The office seal on a real SoftHSM2 token, checked by pyHanko's validator and poppler's pdfsig."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devices.seal.config import SealConfig
from devices.seal.errors import SealError, SealFailure
from devices.seal.pin_store import PinStore, file_backend
from devices.seal.seal import seal_pdf, validate_seal
from devices.secret_store import KEYRING_FILE_ENV
from forms.templates import TEMPLATES

pytestmark = [pytest.mark.softhsm, pytest.mark.poppler]


def document() -> bytes:
    return TEMPLATES["meldebescheinigung"].render(TEMPLATES["meldebescheinigung"].example())


def pdfsig(path: Path) -> str:
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout


@pytest.mark.usefixtures("seal_home")
def test_sealed_document_validates_as_intact_valid_trusted_certified(tmp_path: Path) -> None:
    config = SealConfig.from_env()
    sealed = seal_pdf(document(), config)

    result = validate_seal(sealed, config.trust_roots)
    assert result is not None
    assert (result.intact, result.valid, result.trusted, result.whole_file, result.certified) == (
        True,
        True,
        True,
        True,
        True,
    )
    assert "Dienstsiegel Bürgeramt Mülheim (TEST)" in result.signer

    path = tmp_path / "sealed.pdf"
    path.write_bytes(sealed)
    report = pdfsig(path)
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report
    assert "Signature Type: ETSI.CAdES.detached" in report  # PAdES
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Meldebescheinigung" in text


@pytest.mark.usefixtures("seal_home")
def test_seal_is_not_trusted_without_the_test_ca() -> None:
    sealed = seal_pdf(document(), SealConfig.from_env())
    result = validate_seal(sealed, ())
    assert result is not None
    assert result.intact
    assert not result.trusted
    assert not result.ok


@pytest.mark.usefixtures("seal_home")
def test_a_changed_byte_after_sealing_is_reported(tmp_path: Path) -> None:
    config = SealConfig.from_env()
    sealed = bytearray(seal_pdf(document(), config))
    position = sealed.index(b"stream") + 200  # inside the signed page content
    sealed[position] ^= 0x01
    result = validate_seal(bytes(sealed), config.trust_roots)
    assert result is not None
    assert not result.intact
    assert not result.ok
    path = tmp_path / "changed.pdf"
    path.write_bytes(bytes(sealed))
    assert "Signature is Valid." not in pdfsig(path)


@pytest.mark.usefixtures("seal_home")
def test_unsigned_pdf_has_no_seal() -> None:
    assert validate_seal(document(), SealConfig.from_env().trust_roots) is None


@pytest.mark.usefixtures("seal_home")
def test_wrong_pin_is_a_clear_german_message(tmp_path: Path) -> None:
    config = SealConfig.from_env()
    wrong = PinStore(file_backend(tmp_path / "wrong.cfg"))
    wrong.set_pin(config.token_label, "00000000")
    with pytest.raises(SealError) as refused:
        seal_pdf(document(), config, wrong)
    assert refused.value.failure is SealFailure.WRONG_PIN
    assert str(refused.value) == (
        "Die PIN des Siegel-Tokens ist falsch. Bitte die PIN im Schlüsselbund prüfen."
    )
    assert seal_pdf(document(), config)  # the right PIN still works afterwards


@pytest.mark.usefixtures("seal_home")
def test_missing_pin_missing_token_and_missing_module(tmp_path: Path) -> None:
    config = SealConfig.from_env()
    with pytest.raises(SealError, match="keine PIN im Schlüsselbund"):
        seal_pdf(document(), config, PinStore(file_backend(tmp_path / "empty.cfg")))
    with pytest.raises(SealError, match="Kein Siegel-Token gefunden"):
        seal_pdf(document(), dataclasses.replace(config, token_label="Anderes Token"))
    with pytest.raises(SealError, match="PKCS#11-Modul"):
        seal_pdf(document(), dataclasses.replace(config, module=tmp_path / "missing.so"))


@pytest.mark.usefixtures("seal_home")
def test_expired_certificate_is_refused() -> None:
    later = datetime.now(UTC) + timedelta(days=3 * 365)
    with pytest.raises(SealError) as refused:
        seal_pdf(document(), SealConfig.from_env(), now=later)
    assert refused.value.failure is SealFailure.CERT_EXPIRED
    assert "abgelaufen" in str(refused.value)


def run_cli(*argv: str) -> int:
    from devices.seal.cli import cli_sealer
    from devices.seal.cli import register as register_seal
    from forms.cli import register as register_forms

    parser = argparse.ArgumentParser(prog="tresen")
    commands = parser.add_subparsers(dest="command", required=True)
    register_seal(commands)
    register_forms(commands, sealer=cli_sealer)
    args = parser.parse_args(argv)
    result: int = args.handler(args)
    return result


@pytest.mark.usefixtures("seal_home")
def test_cli_status_and_sealed_render(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("seal", "status") == 0
    out = capsys.readouterr().out
    assert "Token: Tresen Dienstsiegel" in out
    assert "Dienstsiegel Bürgeramt Mülheim (TEST)" in out
    assert "Siegel bereit" in out

    target = tmp_path / "q.pdf"
    example = str(TEMPLATES["quittung"].example_path)
    assert run_cli("forms", "render", "quittung", "--data", example, "--out", str(target), "--seal") == 0
    result = validate_seal(target.read_bytes(), SealConfig.from_env().trust_roots)
    assert result is not None
    assert result.ok


@pytest.mark.usefixtures("seal_home")
def test_cli_demo_token_refuses_to_overwrite(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("seal", "demo-token") == 1
    assert "gibt es schon ein Demo-Token" in capsys.readouterr().err


@pytest.mark.usefixtures("seal_home")
def test_pin_file_is_private() -> None:
    # The demo token's PIN is in the suite's keyring file (`seal_home` keeps it, never the user's).
    keyring_file = Path(os.environ[KEYRING_FILE_ENV])
    assert PinStore(file_backend(keyring_file)).get_pin(SealConfig().token_label)
    assert keyring_file.stat().st_mode & 0o077 == 0


@pytest.mark.usefixtures("seal_home")
def test_status_without_the_token_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRESEN_SEAL_TOKEN", "Anderes Token")
    assert run_cli("seal", "status") == 1
    assert "Siegel nicht bereit: Kein Siegel-Token gefunden." in capsys.readouterr().err


@pytest.mark.usefixtures("seal_home")
def test_sealed_document_keeps_its_pdf_a_identification(tmp_path: Path) -> None:
    path = tmp_path / "sealed.pdf"
    path.write_bytes(seal_pdf(document(), SealConfig.from_env()))
    xmp = subprocess.run(["pdfinfo", "-meta", str(path)], capture_output=True, text=True, check=True).stdout
    # pyHanko rewrites the packet with the properties as attributes; RDF reads both forms alike.
    assert re.search(r'pdfaid:part(="2"|>2</pdfaid:part>)', xmp)
    assert re.search(r'pdfaid:conformance(="U"|>U</pdfaid:conformance>)', xmp)
