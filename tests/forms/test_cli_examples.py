"""Every template's example renders through `tresen forms render`, and its text reaches the page."""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime
from typing import TYPE_CHECKING

import pytest

from forms.cli import register
from forms.templates import TEMPLATES
from sync.kassenzeichen import is_valid
from tests.forms.pdftools import pdf_text

if TYPE_CHECKING:
    from pathlib import Path

    from forms.cli import Sealer

pytestmark = pytest.mark.poppler

# Values that are codes or machine payloads, printed as a label or only inside a QR code.
NOT_PRINTED_AS_TEXT = {("quittung", "payment_method"), ("wartenummer", "status_url")}


def cli(*argv: str, sealer: Sealer | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tresen")
    register(parser.add_subparsers(dest="command", required=True), sealer=sealer)
    args = parser.parse_args(argv)
    result: int = args.handler(args)
    return result


def printed_strings(template: str, value: object, key: str = "") -> list[str]:
    if isinstance(value, dict):
        return [text for name, item in value.items() for text in printed_strings(template, item, name)]
    if isinstance(value, list):
        return [text for item in value for text in printed_strings(template, item, key)]
    if not isinstance(value, str) or (template, key) in NOT_PRINTED_AS_TEXT:
        return []
    for parse in (date.fromisoformat, datetime.fromisoformat):
        try:
            parse(value)
        except ValueError:
            continue
        return []  # dates are printed in German form, checked by the template tests
    return [value]


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_example_renders_and_its_text_is_on_the_page(tmp_path: Path, name: str) -> None:
    out = tmp_path / f"{name}.pdf"
    assert cli("forms", "render", name, "--data", str(TEMPLATES[name].example_path), "--out", str(out)) == 0
    text = pdf_text(out)
    strings = printed_strings(name, TEMPLATES[name].example())
    assert strings
    missing = [value for value in strings if value not in text]
    assert missing == []


def test_example_kassenzeichen_is_valid() -> None:
    example = TEMPLATES["quittung"].example()
    assert isinstance(example, dict)
    assert is_valid(example["kassenzeichen"])


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_schema_is_generated_from_the_data_class(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    import dataclasses

    assert cli("forms", "schema", name) == 0
    schema = json.loads(capsys.readouterr().out)
    fields = {field.name for field in dataclasses.fields(TEMPLATES[name].data_type)}
    assert set(schema["properties"]) == fields
    example = TEMPLATES[name].example()
    assert isinstance(example, dict)
    assert set(schema["required"]) <= set(example)


def test_list_names_every_template(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("forms", "list") == 0
    out = capsys.readouterr().out
    assert all(name in out for name in TEMPLATES)


def test_wrong_data_is_refused_with_the_field_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = TEMPLATES["quittung"].example()
    assert isinstance(data, dict)
    data["lines"][0]["fee_cents"] = "viel"
    del data["payer"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "bad.pdf"
    assert cli("forms", "render", "quittung", "--data", str(path), "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert "lines.0.fee_cents" in err
    assert "payer: Field required" in err
    assert not out.exists()


def test_unknown_template_and_unset_sealer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("forms", "render", "urkunde", "--data", "x.json", "--out", str(tmp_path / "x.pdf")) == 2
    assert "Unbekannte Vorlage: urkunde" in capsys.readouterr().err
    example = str(TEMPLATES["quittung"].example_path)
    assert (
        cli("forms", "render", "quittung", "--data", example, "--out", str(tmp_path / "q.pdf"), "--seal") == 2
    )
    assert "Siegeln ist in diesem Programm nicht eingerichtet" in capsys.readouterr().err
    assert not (tmp_path / "q.pdf").exists()


def test_a_failing_sealer_writes_no_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(pdf: bytes) -> bytes:  # noqa: ARG001  (a sealer's signature)
        raise RuntimeError("Kein Siegel-Token gefunden.")

    out = tmp_path / "q.pdf"
    example = str(TEMPLATES["quittung"].example_path)
    assert (
        cli("forms", "render", "quittung", "--data", example, "--out", str(out), "--seal", sealer=refuse) == 1
    )
    assert "Nicht versiegelt, keine Datei geschrieben: Kein Siegel-Token gefunden." in capsys.readouterr().err
    assert not out.exists()
