#!/usr/bin/env bash
# The demo: an embedded central service, a seeded office day, simulated devices and the clerk's TUI.
# The simulated ID card needs pcscd with the virtual reader (vsmartcard vpcd); when that cannot be
# started, the demo runs anyway and the card dialog says that no reader is there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/bootstrap.sh"
cd "$here/.."
if ! timeout "${TRESEN_PCSC_TIMEOUT:-30}" bash "$here/pcsc.sh"; then
  echo "tresen demo: kein virtueller Kartenleser (pcscd); die Vorführung läuft ohne Ausweis-Lesegerät." >&2
fi
export UV_PYTHON_DOWNLOADS=never
exec uv run --frozen tresen demo "$@"
