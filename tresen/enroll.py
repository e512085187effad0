"""`tresen enroll`: bind this workstation to an office with the administrator's one-time code.

    tresen enroll --central https://zentrale:8470 --code CODE
    tresen enroll --central URL --code CODE --pkcs11-module /usr/lib/softhsm/libsofthsm2.so --token-label WS1
    tresen key rotate                   # a new key pair, bound by a request signed with the old one

With a PKCS#11 token the key is made on the token (its PIN is read from standard input or
TRESEN_TOKEN_PIN and kept in the keyring); without one it goes into a key file beside the store.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    enroll = subparsers.add_parser(
        "enroll", help="Arbeitsplatz mit einem Einmal-Code bei der Zentrale einrichten"
    )
    enroll.add_argument("--central", required=True, help="Adresse der Zentrale, z. B. https://zentrale:8470")
    enroll.add_argument(
        "--code", required=True, help="Einmal-Code der Administration (tresen central enroll-code)"
    )
    enroll.add_argument("--pkcs11-module", type=Path, help="PKCS#11-Modul des Tokens für den Schlüssel")
    enroll.add_argument("--token-label", help="Bezeichnung des Tokens")
    enroll.add_argument("--key-label", default="tresen-workstation", help="Bezeichnung des Schlüssels")
    enroll.add_argument(
        "--ca-file", type=Path, help="CA-Zertifikat der Zentrale (PEM; sonst die CAs des Systems)"
    )
    enroll.set_defaults(handler=enroll_command)

    key = subparsers.add_parser("key", help="Schlüssel des Arbeitsplatzes")
    key_commands = key.add_subparsers(dest="key_command", required=True, metavar="BEFEHL")
    rotate = key_commands.add_parser(
        "rotate",
        help="neues Schlüsselpaar erzeugen und bei der Zentrale hinterlegen; der bisherige Schlüssel "
        "gilt danach nicht mehr (bei geschlossenem Arbeitsplatzprogramm ausführen)",
    )
    rotate.set_defaults(handler=rotate_command)


def enroll_command(args: argparse.Namespace) -> int:
    from devices.workstation_key import TokenKeyConfig
    from tresen.desk import fail, load_config
    from workstation.errors import TresenError
    from workstation.i18n import _
    from workstation.identity import enroll

    token = None
    pin = None
    if args.pkcs11_module or args.token_label:
        if not (args.pkcs11_module and args.token_label):
            return fail(_("Für ein Token bitte --pkcs11-module und --token-label angeben."))
        token = TokenKeyConfig(args.pkcs11_module, args.token_label, args.key_label)
        pin = os.environ.get("TRESEN_TOKEN_PIN") or sys.stdin.readline().strip()
    try:
        config = load_config(args.config)
        identity = enroll(
            args.central, args.code, config.store.path, token=token, token_pin=pin, ca_file=args.ca_file
        )
    except TresenError as error:
        return fail(error.user_message)
    print(
        _("Eingerichtet als {workstation} für die Dienststelle {office}.").format(
            workstation=identity.workstation_id, office=identity.office_id
        )
    )
    return 0


def rotate_command(args: argparse.Namespace) -> int:
    from tresen.desk import fail, load_config
    from workstation.errors import TresenError
    from workstation.i18n import _
    from workstation.key_rotation import rotate_key

    try:
        rotation = rotate_key(load_config(args.config).store.path)
    except TresenError as error:
        return fail(error.user_message)
    print(
        _(
            "Neuer Schlüssel für {workstation} bei der Zentrale hinterlegt; der bisherige gilt nicht mehr."
        ).format(workstation=rotation.identity.workstation_id)
    )
    if not rotation.old_key_destroyed:
        print(_("Der bisherige Schlüssel konnte nicht gelöscht werden (siehe Protokoll)."), file=sys.stderr)
    return 0
