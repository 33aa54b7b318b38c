#!/usr/bin/env bash
# Chapter 9's table: IP_MULTICAST_LOOP on an ordinary interface and on loopback.
#
#   sudo scripts/ch09-loop.sh
#
# The loopback row runs anywhere. The veth row needs root: it makes a private network
# namespace holding both ends of a veth pair (10.200.0.1 and 10.200.0.2), runs
# examples/ch09_loop.rs inside it on 10.200.0.1, and deletes the namespace. Nothing leaves
# the namespace (and the datagrams' TTL is 0). Without root it says so and shows the loopback
# row only; under CI=true a missing root or `ip` is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --example ch09_loop
example=target/debug/examples/ch09_loop

missing=""
command -v ip >/dev/null 2>&1 || missing="the ip command is missing (Debian: apt-get install iproute2)"
[ -z "$missing" ] && [ "$(id -u)" != 0 ] && missing="the veth row needs root: run it with sudo"
if [ -n "$missing" ]; then
  [ "${CI:-}" = true ] && { echo "FAILED: $missing" >&2; exit 1; }
  echo "veth row skipped: $missing"
else
  ns="course-loop-$$"
  ip netns add "$ns"
  trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
  ip -n "$ns" link set lo up
  ip -n "$ns" link add veth-a type veth peer name veth-b
  ip -n "$ns" addr add 10.200.0.1/24 dev veth-a
  ip -n "$ns" addr add 10.200.0.2/24 dev veth-b
  ip -n "$ns" link set veth-a up
  ip -n "$ns" link set veth-b up
  echo "veth, in the private network namespace $ns:"
  ip netns exec "$ns" "$example" --iface 10.200.0.1
fi
echo "loopback:"
"$example"
