#!/usr/bin/env bash
# Prepares a Debian machine (as root) to run Tresen from this checkout:
# system packages, uv (from PyPI when missing), and the locked Python environment in .venv.
#   installer/bootstrap.sh           -> for the demo
#   installer/bootstrap.sh --test    -> plus what the test suite needs
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."

bash "$here/system-packages.sh" "$@"

# uv fetches no interpreters here: the registries are PyPI and Debian only, so use the system's Python.
export UV_PYTHON_DOWNLOADS=never
if ! command -v uv >/dev/null 2>&1; then
  echo "tresen: installing uv into /opt/tresen-tools"
  python3 -m venv /opt/tresen-tools
  /opt/tresen-tools/bin/pip install --quiet --disable-pip-version-check uv
  ln -sf /opt/tresen-tools/bin/uv /usr/local/bin/uv
fi

# pyscard is published as source only: it builds here against libpcsclite-dev with swig and gcc.
# Bytecode is compiled at install time, as a packaged install would: a cold start must not pay for
# compiling Textual, SQLAlchemy and pydantic (and PYTHONDONTWRITEBYTECODE may forbid caching it later).
uv sync --frozen --quiet --compile-bytecode
# The project's own modules are installed editable; compile them too (cheap, and kept up to date by
# Python's own timestamp checks when a file changes).
uv run --frozen python -m compileall -q workstation screens sync devices forms >/dev/null
