#!/usr/bin/env bash
# The demo: an embedded central service, a seeded office day, simulated devices and the clerk's TUI.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/bootstrap.sh"
cd "$here/.."
export UV_PYTHON_DOWNLOADS=never
exec uv run --frozen tresen demo "$@"
