"""`tresen forms list|schema|render`: the templates for administrators and template work.

Sealing (`render --seal`) needs the office seal from devices/, which forms/ may not import (the
libraries are independent layers): the composition root passes a `Sealer` to `register`. A sealer
raises RuntimeError (devices.seal.SealError is one) with a German message, printed as it is.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

Sealer = Callable[[bytes], bytes]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], sealer: Sealer | None = None
) -> None:
    forms = subparsers.add_parser("forms", help="Formularvorlagen anzeigen und ausfüllen")
    commands = forms.add_subparsers(dest="forms_command", required=True, metavar="BEFEHL")

    listing = commands.add_parser("list", help="verfügbare Vorlagen anzeigen")
    listing.set_defaults(handler=run_list)

    schema = commands.add_parser("schema", help="JSON-Schema der Daten einer Vorlage ausgeben")
    schema.add_argument("template", metavar="VORLAGE")
    schema.set_defaults(handler=run_schema)

    render = commands.add_parser("render", help="Vorlage mit JSON-Daten als PDF ausgeben")
    render.add_argument("template", metavar="VORLAGE")
    render.add_argument("--data", required=True, type=Path, metavar="DATEI.json", help="Daten (JSON)")
    render.add_argument("--out", required=True, type=Path, metavar="DATEI.pdf", help="Ausgabedatei")
    render.add_argument("--seal", action="store_true", help="mit dem Dienstsiegel der Behörde versiegeln")
    render.set_defaults(handler=lambda args: run_render(args, sealer))


def run_list(args: argparse.Namespace) -> int:  # noqa: ARG001  (every handler takes the parsed args)
    from forms.templates import TEMPLATES

    width = max(len(name) for name in TEMPLATES)
    for template in TEMPLATES.values():
        kind = "amtlich, siegelbar" if template.official else "Beleg"
        print(f"{template.name:<{width}}  {template.title} ({kind}); Beispiel: {template.example_path}")
    return EXIT_OK


def run_schema(args: argparse.Namespace) -> int:
    from forms.templates import TEMPLATES

    template = TEMPLATES.get(args.template)
    if template is None:
        return _unknown_template(args.template)
    print(json.dumps(template.json_schema(), ensure_ascii=False, indent=2))
    return EXIT_OK


def run_render(args: argparse.Namespace, sealer: Sealer | None) -> int:
    from forms.templates import TEMPLATES, TemplateDataError

    template = TEMPLATES.get(args.template)
    if template is None:
        return _unknown_template(args.template)
    if args.seal and sealer is None:
        print("Siegeln ist in diesem Programm nicht eingerichtet.", file=sys.stderr)
        return EXIT_USAGE
    try:
        document = json.loads(args.data.read_text(encoding="utf-8"))
    except OSError as error:
        print(f"Datendatei nicht lesbar: {args.data} ({error.strerror})", file=sys.stderr)
        return EXIT_USAGE
    except json.JSONDecodeError as error:
        print(
            f"Datendatei ist kein gültiges JSON: Zeile {error.lineno}, Spalte {error.colno}", file=sys.stderr
        )
        return EXIT_USAGE
    try:
        pdf = template.render(document)
    except TemplateDataError as error:
        print(f"Daten passen nicht zur Vorlage {template.name}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as error:
        print(f"Vorlage {template.name} kann diese Daten nicht drucken: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.seal:
        assert sealer is not None
        try:
            pdf = sealer(pdf)
        except RuntimeError as error:
            print(f"Nicht versiegelt, keine Datei geschrieben: {error}", file=sys.stderr)
            return EXIT_FAILED
    args.out.write_bytes(pdf)
    print(f"{args.out} geschrieben ({'versiegelt' if args.seal else 'unversiegelt'}).")
    return EXIT_OK


def _unknown_template(name: str) -> int:
    from forms.templates import TEMPLATES

    print(f"Unbekannte Vorlage: {name}. Verfügbar: {', '.join(TEMPLATES)}", file=sys.stderr)
    return EXIT_USAGE
