"""`tresen seal demo-token` and `tresen seal status`, plus the sealer `tresen forms render --seal` uses."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

EXIT_OK = 0
EXIT_FAILED = 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    seal = subparsers.add_parser("seal", help="Dienstsiegel (PKCS#11-Token) einrichten und prüfen")
    commands = seal.add_subparsers(dest="seal_command", required=True, metavar="BEFEHL")

    demo = commands.add_parser("demo-token", help="SoftHSM2-Test-Token mit Test-Siegelzertifikat anlegen")
    demo.add_argument("--dir", type=Path, metavar="ORDNER", help="Ablage des Tokens (Standard: Datenordner)")
    demo.add_argument("--office", default="Bürgeramt Mülheim", help="Dienststelle im Zertifikat")
    demo.add_argument("--replace", action="store_true", help="vorhandenes Demo-Token ersetzen")
    demo.set_defaults(handler=run_demo_token)

    status = commands.add_parser("status", help="konfiguriertes Token, Zertifikat und Ablaufdatum anzeigen")
    status.set_defaults(handler=run_status)


def cli_sealer(pdf: bytes) -> bytes:
    """The sealer for `forms.cli.register(subparsers, sealer=cli_sealer)`: seal with the configured token."""
    from devices.seal.config import SealConfig
    from devices.seal.demo_token import use_demo_softhsm
    from devices.seal.seal import seal_pdf

    use_demo_softhsm()
    return seal_pdf(pdf, SealConfig.from_env())


def run_demo_token(args: argparse.Namespace) -> int:
    from devices.seal.demo_token import DemoTokenError, create_demo_token

    try:
        token = create_demo_token(args.dir, office=args.office, replace=args.replace)
    except DemoTokenError as error:
        print(error, file=sys.stderr)
        return EXIT_FAILED
    print(f"Demo-Token „{token.config.token_label}“ angelegt in {token.directory}")
    print(f"  SoftHSM2-Konfiguration: {token.softhsm_conf} (SOFTHSM2_CONF)")
    print(f"  Test-CA: {token.ca_certificate}")
    print(f"  Siegelzertifikat: {token.seal_certificate}")
    print("  PIN im Schlüsselbund hinterlegt. Nur für Demo und Tests – kein echtes Dienstsiegel.")
    return EXIT_OK


def run_status(args: argparse.Namespace) -> int:  # noqa: ARG001  (every handler takes the parsed args)
    from devices.seal.config import SealConfig
    from devices.seal.demo_token import use_demo_softhsm
    from devices.seal.errors import SealError
    from devices.seal.seal import certificate_summary

    use_demo_softhsm()
    config = SealConfig.from_env()
    print(f"PKCS#11-Modul: {config.module}")
    print(f"Token: {config.token_label}, Schlüssel: {config.key_label}")
    print(f"Vertrauensanker: {', '.join(map(str, config.trust_roots)) or 'keine konfiguriert'}")
    try:
        subject, valid_from, valid_until = certificate_summary(config)
    except SealError as error:
        print(f"Siegel nicht bereit: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"Zertifikat: {subject}")
    print(f"Gültig: {valid_from:%d.%m.%Y} bis {valid_until:%d.%m.%Y}")
    days_left = (valid_until - datetime.now(UTC)).days
    if days_left < 0:
        print("Das Siegelzertifikat ist abgelaufen: Dokumente werden nicht gesiegelt.", file=sys.stderr)
        return EXIT_FAILED
    print(f"Siegel bereit (Zertifikat noch {days_left} Tage gültig).")
    return EXIT_OK
