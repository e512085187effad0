#!/bin/sh
# The waiting-room browser tests (tests/browser, marker `browser`): Debian's chromium, driven by
# Playwright for Python (a dev dependency) with the system browser; Playwright never downloads one.
# axe-core is vendored in tests/browser/data/axe.min.js; this script re-fetches it from the npm
# registry and checks it against the pinned digest, so the copy stays reproducible.
set -eu
AXE_VERSION=4.14.1
AXE_SHA256=29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c
here=$(cd "$(dirname "$0")/.." && pwd)

if ! command -v chromium >/dev/null 2>&1; then
    apt-get install -y --no-install-recommends chromium
fi

if [ "${1:-}" = "--refresh-axe" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && npm pack "axe-core@$AXE_VERSION" --silent >/dev/null && tar xzf "axe-core-$AXE_VERSION.tgz")
    echo "$AXE_SHA256  $work/package/axe.min.js" | sha256sum -c -
    cp "$work/package/axe.min.js" "$here/tests/browser/data/axe.min.js"
    cp "$work/package/LICENSE" "$here/tests/browser/data/axe-core.LICENSE"
fi
echo "$AXE_SHA256  $here/tests/browser/data/axe.min.js" | sha256sum -c -
