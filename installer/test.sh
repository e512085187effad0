#!/usr/bin/env bash
# The tests. Extra arguments go to pytest.
#   installer/test.sh           the whole suite with the real parts (pcscd + vpcd, PostgreSQL, SoftHSM2,
#                               CUPS), as root: installs what is missing, starts the services, then
#                               lint, types, layering contracts and every test (README, .ci/run)
#   installer/test.sh --quick   for development: lint, types and the tests that need neither root nor
#                               a service; installs nothing and starts nothing (`uv sync` only when
#                               there is no venv yet)
# A test whose service cannot start fails under CI (CI=true) and skips with the reason elsewhere
# (tests/services.py).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export UV_PYTHON_DOWNLOADS=never

quick=false
if [[ "${1:-}" == "--quick" ]]; then
  quick=true
  shift
fi

# The markers of tests that need a service (declared in pyproject.toml; tests/services.py names the
# same list and tests/test_services.py checks that the two agree).
SERVICE_MARKERS="pcsc postgres poppler cups softhsm browser"

under_ci() { [[ "${CI:-}" =~ ^([Tt][Rr][Uu][Ee]|1|[Yy][Ee][Ss]|[Oo][Nn])$ ]]; }

if $quick; then
  cd "$here/.."
  [[ -x .venv/bin/python ]] || uv sync --frozen --quiet
else
  bash "$here/bootstrap.sh" --test
  cd "$here/.."
  if ! bash "$here/pcsc.sh"; then
    # Outside CI the card tests then skip with the reason; under CI they must not.
    under_ci && exit 1
    echo "tresen test: pcscd is not ready; its tests will be skipped" >&2
  fi
  bash "$here/browser.sh"  # chromium for the waiting-room pages' browser tests
  if ! bash "$here/cups.sh"; then
    under_ci && exit 1
    echo "tresen test: CUPS is not ready; its tests will be skipped" >&2
  fi
fi

if [[ -f "$here/check.sh" ]]; then
  bash "$here/check.sh"
else
  uv run --frozen ruff check .
  uv run --frozen lint-imports
fi

pytest_args=(-n auto --dist loadgroup -p no:cacheprovider)
if $quick; then
  deselect=""
  for marker in $SERVICE_MARKERS; do
    deselect+="${deselect:+ and }not $marker"
  done
  pytest_args+=(-m "$deselect")
fi

# Exit status 5 means pytest collected no tests (a wrong path or marker): that is a failure here.
status=0
uv run --frozen pytest "${pytest_args[@]}" "$@" || status=$?
if [[ $status -eq 5 ]]; then
  echo "tresen test: pytest collected no tests" >&2
  exit 1
fi
exit "$status"
