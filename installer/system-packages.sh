#!/usr/bin/env bash
# Installs the Debian packages Tresen needs (as root). Safe to run again: apt skips what is there.
#   installer/system-packages.sh          -> what the demo needs (build deps for pyscard, PC/SC with
#                                            the virtual reader the demo's simulated card uses)
#   installer/system-packages.sh --test   -> plus the real parts the test suite starts
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

runtime=(
  python3 python3-venv python3-dev gcc swig pkg-config ca-certificates
  libpcsclite-dev pcscd vsmartcard-vpcd libcups2-dev
)
test_extra=(
  softhsm2 opensc-pkcs11 cups cups-client cups-bsd printer-driver-cups-pdf
  postgresql postgresql-client poppler-utils zbar-tools git chromium
)
wanted=("${runtime[@]}")
[[ "${1:-}" == "--test" ]] && wanted+=("${test_extra[@]}")

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "tresen: installing Debian packages: ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
