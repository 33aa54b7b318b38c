#!/usr/bin/env bash
# Chapter 3: two lines written with two writes reach tcp-server as one chunk or two.
# Runs chapter 3's programs (the reference, --features solutions) RUNS times (default 20):
# tcp-server --prefix 'Receive: ' on a free port, and `printf 'Hello TCP\nsecond\n' |
# tcp-client`, as the book shows. Counts the runs in which the server read both lines at once.
#
#   scripts/ch03-chunks.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
cargo build --quiet --features solutions -p course-programs --bin tcp-server --bin tcp-client
bin=target/debug
log=$(mktemp)
out=$(mktemp)
"$bin/tcp-server" --bind 127.0.0.1:0 --prefix 'Receive: ' >"$out" 2>"$log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log" "$out"' EXIT
addr=""
for _ in $(seq 1 100); do
  addr=$(sed -n 's/^listening on //p' "$log" | head -n 1)
  [ -n "$addr" ] && break
  sleep 0.05
done
[ -n "$addr" ] || { cat "$log"; echo "tcp-server did not start" >&2; exit 1; }
for _ in $(seq 1 "$runs"); do
  printf 'Hello TCP\nsecond\n' | "$bin/tcp-client" --server "$addr" >/dev/null
done
kill "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
# The server shows each chunk it read as one line: "from ADDR (N bytes): ...".
both=$(cat "$log" "$out" | grep -c '(17 bytes)' || true)
apart=$(cat "$log" "$out" | grep -c '(10 bytes)' || true)
echo "$runs runs: both lines in one read in $both, in two reads in $apart"
echo "load average: $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo unknown)"
