#!/usr/bin/env bash
# The static checks in one place: lint, formatting, the layering contracts, types.
# Runs every check (so one run shows all that is wrong), names each one that failed, and exits
# non-zero when any did. Needs no root and no services; `installer/test.sh` calls it.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
export UV_PYTHON_DOWNLOADS=never

failed=()

check() {
    local name=$1
    shift
    echo "== $name: $*"
    if ! "$@"; then
        echo "!! $name failed" >&2
        failed+=("$name")
    fi
}

check "ruff check" uv run --frozen ruff check .
check "ruff format" uv run --frozen ruff format --check .
check "import contracts" uv run --frozen lint-imports
check "mypy" uv run --frozen mypy

if ((${#failed[@]})); then
    echo "static checks failed: ${failed[*]}" >&2
    exit 1
fi
echo "static checks passed"
