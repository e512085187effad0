#!/usr/bin/env bash
# The whole test suite with the real parts (pcscd + vpcd, PostgreSQL, SoftHSM2, CUPS), plus lint
# and the layering contracts. Extra arguments go to pytest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/bootstrap.sh" --test
cd "$here/.."
export UV_PYTHON_DOWNLOADS=never

bash "$here/pcsc.sh"

uv run --frozen ruff check .
uv run --frozen lint-imports
# pytest exits 5 when it collected no tests: that is a failure here, and `set -e` makes it one.
uv run --frozen pytest -n auto --dist loadgroup -p no:cacheprovider "$@"
