"""`tresen card ...` options and access keys (no reader needed), and `card readers` through pcscd."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from devices.card import cli
from devices.card.access import CanKey, MrzKey

if TYPE_CHECKING:
    from pathlib import Path

    from tests.card.conftest import VirtualReader


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tresen")
    cli.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_can_option_gives_a_can_key() -> None:
    args = parse("card", "read", "--can", "123456")
    assert cli.access_key_from(args) == CanKey("123456")
    assert args.handler is cli.run_read


def test_mrz_fields_give_an_mrz_key() -> None:
    args = parse("card", "read", "--doc", "C01X00T47", "--birth", "640812", "--expiry", "311031")
    key = cli.access_key_from(args)
    assert isinstance(key, MrzKey)
    assert key.mrz_information() == MrzKey("C01X00T47", "640812", "311031").mrz_information()


def test_can_and_mrz_exclude_each_other() -> None:
    with pytest.raises(SystemExit):
        parse("card", "read", "--can", "123456", "--doc", "C01X00T47")


def test_bad_can_is_a_usage_error_in_german(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run_read(parse("card", "read", "--can", "12ab56")) == cli.EXIT_USAGE
    assert "6 Ziffern" in capsys.readouterr().err


def test_doc_without_dates_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run_read(parse("card", "read", "--doc", "C01X00T47")) == cli.EXIT_USAGE
    assert "--birth" in capsys.readouterr().err


@pytest.mark.serial
@pytest.mark.pcsc
@pytest.mark.xdist_group("pcsc")
def test_readers_lists_the_virtual_reader(
    virtual_reader: VirtualReader, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.run_readers(parse("card", "readers")) == cli.EXIT_OK
    assert virtual_reader.name in capsys.readouterr().out.splitlines()


@pytest.mark.serial
@pytest.mark.pcsc
@pytest.mark.xdist_group("pcsc")
def test_read_without_card_explains_in_german(
    virtual_reader: VirtualReader, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse("card", "read", "--reader", virtual_reader.name, "--can", "123456", "--wait", "0.2")
    assert cli.run_read(args) == cli.EXIT_CARD_ERROR
    assert "Kein Ausweis auf dem Lesegerät" in capsys.readouterr().err


def test_readers_without_pcscd_explains_and_names_the_cause(tmp_path: Path) -> None:
    probe = "import sys; from tests.card.test_cli import parse; from devices.card import cli; " + (
        "sys.exit(cli.run_readers(parse('card', 'readers')))"
    )
    environment = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == cli.EXIT_CARD_ERROR
    clerk_line, technical_line = result.stderr.splitlines()
    assert clerk_line == "Der Kartenleser antwortet nicht. Bitte Verbindung prüfen."
    assert "Service not available" in technical_line  # the PC/SC cause, for support


@pytest.mark.serial
@pytest.mark.pcsc
@pytest.mark.xdist_group("pcsc")
def test_read_prints_data_verdict_and_figures_without_progress_noise(
    virtual_reader: VirtualReader, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from devices.card.emulator.card import card_for_document
    from devices.card.emulator.personalization import make_test_document

    document = make_test_document("td1", face_bytes=4000, seed=11)
    (tmp_path / "csca.der").write_bytes(document.csca_der)
    virtual_reader.insert(card_for_document(document))
    photo = tmp_path / "face.jpg"
    args = parse(
        "card", "read", "--can", document.can, "--trust", str(tmp_path), "--photo-out", str(photo),
        "--wait", "5",
    )  # fmt: skip
    assert cli.run_read(args) == cli.EXIT_OK
    out, err = capsys.readouterr()
    assert err == ""  # progress goes to a terminal only, never into captured or piped output
    assert f"Dokumentnummer:      {document.mrz_key.document_number}" in out
    assert "ECHT" in out
    assert "[ok   ] Chain to CSCA" in out
    assert "Zugriff: PACE; 11 APDUs" in out
    assert photo.read_bytes() == document.face.data


@pytest.mark.serial
@pytest.mark.pcsc
@pytest.mark.xdist_group("pcsc")
def test_wrong_can_gives_the_clerk_sentence_and_the_cause(
    virtual_reader: VirtualReader, capsys: pytest.CaptureFixture[str]
) -> None:
    from devices.card.emulator.card import card_for_document
    from devices.card.emulator.personalization import make_test_document

    document = make_test_document("td1", face_bytes=4000, seed=11)
    virtual_reader.insert(card_for_document(document))
    wrong = f"{(int(document.can) + 1) % 1_000_000:06d}"
    assert cli.run_read(parse("card", "read", "--can", wrong, "--wait", "5")) == cli.EXIT_CARD_ERROR
    clerk_line, technical_line = capsys.readouterr().err.splitlines()
    assert clerk_line.startswith("Fehler: Zugang verweigert")
    assert technical_line.startswith("  (technisch: ")
