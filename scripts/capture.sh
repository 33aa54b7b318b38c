#!/usr/bin/env bash
# Real packets for chapters 3 and 5: runs each scene of `examples/packets.rs` (close, reset,
# nagle) on 127.0.0.1:4000 under tcpdump on the loopback interface, and writes what tcpdump
# printed to DIR/SCENE.txt (default DIR: captures/, the files the book shows).
#
#   sudo scripts/capture.sh [DIR]
#
# Needs root (tcpdump opens the interface) and tcpdump. Without either it says why and does
# nothing; under CI=true that is a failure. tests/book_figures.rs checks that the files keep
# the shape of each exchange (the sequence of TCP flags), not their times or ports.
#
# Each line is tcpdump's (`-n -ttt`: numeric addresses, time since the previous packet),
# shortened to fit the book's column: the time in milliseconds, each address as its port
# (all are 127.0.0.1), and without the fields `options [...]` and `win N`.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-captures}
port=4000

missing=""
command -v tcpdump >/dev/null 2>&1 || missing="tcpdump is not installed (Debian: apt-get install tcpdump)"
[ -z "$missing" ] && [ "$(id -u)" != 0 ] && missing="capturing needs root: run it with sudo"
if [ -n "$missing" ]; then
  if [ "${CI:-}" = true ]; then
    echo "FAILED: $missing" >&2
    exit 1
  fi
  echo "no capture made: $missing"
  exit 0
fi

cargo build --quiet --example packets
mkdir -p "$dir"
for scene in close reset nagle; do
  raw=$(mktemp)
  err=$(mktemp)
  tcpdump -i lo -n -ttt -l --immediate-mode "tcp port $port" >"$raw" 2>"$err" &
  dump=$!
  # tcpdump says "listening on lo" once it captures.
  for _ in $(seq 1 100); do
    grep -q 'listening on' "$err" && break
    sleep 0.05
  done
  target/debug/examples/packets --port "$port" "$scene"
  sleep 0.3 # the last ACKs of the close
  kill -INT "$dump"
  wait "$dump" || true
  sed -E -e 's/ options \[[^]]*\],//' -e 's/ win [0-9]+,//' \
    -e 's/127\.0\.0\.1\.([0-9]+)/\1/g' "$raw" |
    awk 'NF { split($1, t, ":"); ms = (t[1] * 3600 + t[2] * 60 + t[3]) * 1000
           $1 = sprintf("%8s ms ", sprintf("+%.3f", ms)); sub(/ IP /, " "); print }' >"$dir/$scene.txt"
  rm -f "$raw" "$err"
  echo "$dir/$scene.txt: $(wc -l <"$dir/$scene.txt") packets"
done
