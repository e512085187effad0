"""The `tresen` command. Each part registers its own subcommands; imports stay lazy so that
`tresen demo` starts fast and `tresen card ...` or `tresen central ...` never load the UI stack."""

from __future__ import annotations

import argparse
import gettext
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


CLI_DOMAIN = "tresen-cli"
CLI_LOCALE_DIR = Path(__file__).parent / "locale"


def speak_german_on_the_command_line() -> None:
    """argparse's own texts ("usage:", "options", its error messages) in German, unless the clerk
    asked for English (TRESEN_LANG). argparse looks its module-level `_`/`ngettext` up at each call
    (they are gettext's, for the environment's locale, which a desk PC rarely sets to German): they
    are pointed at our catalogue of argparse's messages."""
    if os.environ.get("TRESEN_LANG", "de").lower().startswith("en"):
        return
    german = gettext.translation(CLI_DOMAIN, CLI_LOCALE_DIR, languages=["de"], fallback=True)
    argparse._ = german.gettext  # type: ignore[attr-defined]
    argparse.ngettext = german.ngettext  # type: ignore[attr-defined]


def build_parser() -> argparse.ArgumentParser:
    # Imported here, not at module top: the registering modules are small and import their
    # heavy dependencies only inside their handlers.
    from devices import cli_print
    from devices.captures import cli as captures_cli
    from devices.card import cli as card_cli
    from devices.seal import cli as seal_cli
    from forms import cli as forms_cli
    from sync.central import cli as central_cli
    from tresen import demo, desk, enroll, kiosk_slips, sync_cli
    from tresen import stats as stats_cli

    parser = argparse.ArgumentParser(
        prog="tresen", description="Tresen – Arbeitsplatz für Bürgerämter und Zulassungsstellen"
    )
    parser.add_argument("--config", type=Path, help="Konfigurationsdatei (TOML) statt der Standarddatei")
    parser.add_argument("-v", "--verbose", action="store_true", help="ausführliches Protokoll")
    commands = parser.add_subparsers(dest="command", required=True, metavar="BEFEHL")
    demo.register(commands)
    desk.register(commands)
    enroll.register(commands)
    central_cli.register(commands, slip_printer=kiosk_slips.SlipFolder)
    stats_cli.register(commands)
    sync_cli.register(commands)
    card_cli.register(commands)
    captures_cli.register(commands)
    forms_cli.register(commands, sealer=seal_cli.cli_sealer)
    seal_cli.register(commands)
    cli_print.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    speak_german_on_the_command_line()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    handler = args.handler  # every subcommand sets one via set_defaults(handler=...)
    return int(handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
