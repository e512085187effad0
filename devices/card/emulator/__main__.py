"""`python -m devices.card.emulator`: put a generated test document on pcscd's virtual reader.

For demos, support and manual tests without hardware: start pcscd (`bash installer/pcsc.sh`), run
this, then `tresen card read --can <CAN> --trust <folder>` in another terminal. The document is
fictional test data; its CAN and MRZ are printed so that it can be read.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from devices.card.emulator.card import CardFaults, card_for_document
from devices.card.emulator.vpcd import DEFAULT_HOST, DEFAULT_PORT, VpcdLink, exclusive_reader

if TYPE_CHECKING:
    from devices.card.emulator.personalization import TestDocument

log = logging.getLogger("devices.card.emulator")

PACE_CURVES = {"brainpool256": 13, "p256": 12, "p384": 15, "brainpool384": 16}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devices.card.emulator",
        description="Emuliert einen Ausweis-/Pass-Chip am virtuellen Kartenleser (vsmartcard vpcd).",
    )
    parser.add_argument("--kind", choices=("td1", "td3"), default="td1", help="td1 Ausweis, td3 Reisepass")
    parser.add_argument(
        "--signer", choices=("ecdsa-brainpool", "ecdsa-p256", "rsa", "rsa-pss"), default="ecdsa-brainpool"
    )
    parser.add_argument(
        "--pace", choices=(*PACE_CURVES, "none"), default="brainpool256", help="PACE-Kurve; none: nur BAC"
    )
    parser.add_argument("--no-bac", action="store_true", help="kein BAC anbieten")
    parser.add_argument("--face-bytes", type=int, default=20_000, help="Größe des Lichtbilds in DG2")
    parser.add_argument("--refuse-extended", action="store_true", help="extended length mit 6700 ablehnen")
    parser.add_argument("--trust-out", type=Path, help="CSCA-Zertifikat in diesen Ordner schreiben")
    parser.add_argument("--seed", type=int, help="feste Testdaten (gleicher Seed, gleiches Dokument)")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--once", action="store_true", help="nach dem ersten Entfernen beenden")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from devices.card.emulator.personalization import make_test_document

    document = make_test_document(args.kind, signer=args.signer, face_bytes=args.face_bytes, seed=args.seed)
    trust_folder = args.trust_out or Path(tempfile.mkdtemp(prefix="tresen-trust-"))
    trust_folder.mkdir(parents=True, exist_ok=True)
    (trust_folder / "test-csca.der").write_bytes(document.csca_der)
    pace_id = None if args.pace == "none" else PACE_CURVES[args.pace]
    _show(f"CAN:  {document.can}")
    _show(f"MRZ:  {document.mrz_key.mrz_information()}")
    _show(
        f"      --doc {document.mrz_key.document_number} --birth {document.mrz_key.birth_date} "
        f"--expiry {document.mrz_key.expiry_date}"
    )
    mrz_option = document.mrz.strip().replace("\n", "\\n")
    _show(f"      --mrz '{mrz_option}'")
    _show(f"CSCA: {trust_folder}  (tresen card read --trust {trust_folder} ...)")
    _show("Strg+C beendet.")
    try:
        # Tests on this machine wait while the emulator holds the reader, and the other way round.
        with exclusive_reader(
            args.port, on_wait=lambda: _show("Virtueller Leser ist belegt (Tests?), warte …")
        ):
            return _serve(document, args, pace_id)
    except KeyboardInterrupt:
        return 0


def _serve(document: TestDocument, args: argparse.Namespace, pace_id: int | None) -> int:
    while True:
        card = card_for_document(
            document,
            pace_parameter_id=pace_id,
            bac=not args.no_bac,
            faults=CardFaults(refuse_extended=args.refuse_extended),
        )
        link = VpcdLink(card, args.host, args.port)
        try:
            link.serve()
        except KeyboardInterrupt:
            return 0
        except OSError as error:
            log.warning("vpcd not reachable at %s:%d (%s); is pcscd running?", args.host, args.port, error)
            if args.once:
                return 1
        if args.once:
            return 0
        try:
            time.sleep(1.0)
        except KeyboardInterrupt:
            return 0


def _show(line: str) -> None:
    """Tool output for the person running the emulator (test data, not personal data)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
