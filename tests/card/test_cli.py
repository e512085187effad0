"""`tresen card ...` options and access keys (no reader needed), and `card readers` through pcscd."""

from __future__ import annotations

import argparse

import pytest

from devices.card import cli
from devices.card.access import CanKey, MrzKey


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
def test_readers_lists_the_virtual_reader(virtual_reader, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run_readers(parse("card", "readers")) == cli.EXIT_OK
    assert virtual_reader.name in capsys.readouterr().out.splitlines()


@pytest.mark.serial
@pytest.mark.pcsc
@pytest.mark.xdist_group("pcsc")
def test_read_without_card_explains_in_german(virtual_reader, capsys: pytest.CaptureFixture[str]) -> None:
    args = parse("card", "read", "--reader", virtual_reader.name, "--can", "123456", "--wait", "0.2")
    assert cli.run_read(args) == cli.EXIT_CARD_ERROR
    assert "Kein Ausweis auf dem Lesegerät" in capsys.readouterr().err
