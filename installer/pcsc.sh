#!/usr/bin/env bash
# Makes the PC/SC stack ready for the card tests and the card emulator (as root, idempotent):
#   - the vsmartcard virtual reader is configured (/etc/reader.conf.d/vpcd, shipped by Debian's
#     vsmartcard-vpcd; written here only if it is missing),
#   - pcscd runs (daemon mode; no systemd in containers or CI, so no socket activation),
#   - the virtual reader is up: vpcd listens on TCP 35963 for an emulated card.
# Exit status 0 when the reader is ready, 1 otherwise (with the reason on stderr).
set -euo pipefail

VPCD_CONF=/etc/reader.conf.d/vpcd
VPCD_DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
VPCD_PORT=35963
WAIT_SECONDS=${TRESEN_PCSC_WAIT:-10}

fail() { echo "tresen pcsc: $*" >&2; exit 1; }

command -v pcscd >/dev/null 2>&1 || [[ -x /usr/sbin/pcscd ]] || fail "pcscd is not installed (run installer/system-packages.sh --test)"
[[ -e "$VPCD_DRIVER" ]] || fail "vsmartcard-vpcd is not installed (run installer/system-packages.sh --test)"

if [[ ! -e "$VPCD_CONF" ]]; then
  [[ -w /etc ]] || fail "$VPCD_CONF is missing and /etc is not writable (run as root)"
  mkdir -p /etc/reader.conf.d
  # Same content as Debian ships: server mode (DEVICENAME /dev/null), port 0x8C7B = 35963.
  cat >"$VPCD_CONF" <<EOF
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:0x8C7B
LIBPATH      $VPCD_DRIVER
CHANNELID    0x8C7B
EOF
fi

pcscd_running() {
  local pidfile=/run/pcscd/pcscd.pid
  [[ -S /run/pcscd/pcscd.comm && -r "$pidfile" ]] && kill -0 "$(tr -d '\0' <"$pidfile")" 2>/dev/null
}

# A listening socket on the vpcd port in /proc/net/tcp (state 0A = LISTEN); no ss/netstat needed.
vpcd_listening() {
  local hex
  hex=$(printf '%04X' "$VPCD_PORT")
  grep -qE "^ *[0-9]+: [0-9A-F]+:${hex} [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Test workers and the test script call this concurrently: without the lock two callers can both
# see "not running" in the moment before the pid file exists, and the second one kills the first's socket.
exec 9>/run/tresen-pcsc.lock
flock 9

if ! pcscd_running; then
  # A stale socket or pid file from a killed daemon makes pcscd refuse to start.
  rm -f /run/pcscd/pcscd.comm /run/pcscd/pcscd.pid
  PCSCD=$(command -v pcscd || echo /usr/sbin/pcscd)
  # 9>&-: the daemon must not inherit the lock, or it would hold it for its whole life.
  "$PCSCD" 9>&- || fail "pcscd did not start"
fi

for ((i = 0; i < WAIT_SECONDS * 10; i++)); do
  if pcscd_running && vpcd_listening; then
    exit 0
  fi
  sleep 0.1
done
pcscd_running || fail "pcscd is not running"
fail "pcscd runs but the virtual reader does not listen on port $VPCD_PORT"
