#!/usr/bin/env bash
# Makes CUPS ready for printing and the print tests (as root, idempotent):
#   - cupsd runs (started in daemon mode only if it is not running; its configuration is left alone),
#   - a cups-pdf queue exists (default name "Tresen-PDF", TRESEN_CUPS_PDF_QUEUE overrides), enabled
#     and accepting jobs; cups-pdf writes each job as a PDF into the submitting user's ~/PDF.
# Exit status 0 when the queue accepts jobs, 1 otherwise (with the reason on stderr).
set -euo pipefail

QUEUE=${TRESEN_CUPS_PDF_QUEUE:-Tresen-PDF}
PPD=/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd
SOCKET=/run/cups/cups.sock
WAIT_SECONDS=${TRESEN_CUPS_WAIT:-10}

fail() { echo "tresen cups: $*" >&2; exit 1; }

CUPSD=$(command -v cupsd || echo /usr/sbin/cupsd)
[[ -x "$CUPSD" ]] || fail "cupsd is not installed (package cups)"
[[ -x /usr/lib/cups/backend/cups-pdf ]] || fail "the cups-pdf backend is not installed (package printer-driver-cups-pdf)"
[[ -r "$PPD" ]] || fail "$PPD is missing (package printer-driver-cups-pdf)"

# lpstat -r exits 0 either way; its (untranslated) words tell.
scheduler_up() { [[ "$(LC_ALL=C lpstat -r 2>/dev/null)" == "scheduler is running" ]]; }

# Test workers and the test script may call this concurrently.
exec 9>/run/tresen-cups.lock
flock 9

if ! scheduler_up; then
  if ! pgrep -x cupsd >/dev/null 2>&1; then
    mkdir -p /run/cups
    # 9>&-: the daemon must not inherit the lock, or it would hold it for its whole life.
    "$CUPSD" 9>&- || fail "cupsd did not start"
  fi
  for ((i = 0; i < WAIT_SECONDS * 10; i++)); do
    scheduler_up && break
    sleep 0.1
  done
  scheduler_up || fail "cupsd runs but the scheduler does not answer on $SOCKET"
fi

if ! lpstat -p "$QUEUE" >/dev/null 2>&1; then
  lpadmin -p "$QUEUE" -v cups-pdf:/ -P "$PPD" -D "Tresen PDF (cups-pdf)" -L "Test und Demo" \
    || fail "could not add the queue $QUEUE"
fi
# Idempotent: a queue someone stopped or set to reject is made usable again.
cupsenable "$QUEUE" || fail "could not enable $QUEUE"
cupsaccept "$QUEUE" || fail "could not make $QUEUE accept jobs"
LC_ALL=C lpstat -a "$QUEUE" 2>/dev/null | grep -q "accepting requests" || fail "$QUEUE does not accept jobs"
