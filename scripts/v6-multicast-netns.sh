#!/usr/bin/env bash
# Chapter 9's IPv6 multicast demonstration, over a veth pair in a private network namespace.
#
#   sudo scripts/v6-multicast-netns.sh
#
# The loopback interface carries no IPv6 multicast on Linux (`cargo run --example
# ch09_v6_multicast` shows the error), so this script makes a network namespace of its own
# (a separate network stack) holding nothing but `lo` and both ends of one veth pair, gives
# the ends the link-local addresses fe80::a and fe80::b, and runs
# `examples/ch09_v6_multicast.rs --veth v6mc-a v6mc-b` inside it. The example refuses to
# send anywhere else (it checks that its namespace holds only lo and the pair); its hop
# limits are 0 and 1. The namespace is deleted on the way out, whatever happens.
#
# Root only: without root, or without the `ip` command, it refuses (exit 2) and changes
# nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "refused: a network namespace needs root: run it with sudo" >&2
  exit 2
fi
if ! command -v ip >/dev/null 2>&1; then
  echo "refused: the ip command is missing (Debian: apt-get install iproute2)" >&2
  exit 2
fi

cargo build --quiet --example ch09_v6_multicast
example=target/debug/examples/ch09_v6_multicast

ns="course-v6mc-$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT # bash runs it on SIGINT and SIGTERM too
ip netns add "$ns"
# No automatic addresses and no duplicate address detection: the ends get fe80::a and
# fe80::b, usable at once.
ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.addr_gen_mode=1 \
  net.ipv6.conf.default.accept_dad=0
ip -n "$ns" link set lo up
ip -n "$ns" link add v6mc-a type veth peer name v6mc-b
ip -n "$ns" addr add fe80::a/64 dev v6mc-a nodad
ip -n "$ns" addr add fe80::b/64 dev v6mc-b nodad
ip -n "$ns" link set v6mc-a up
ip -n "$ns" link set v6mc-b up
echo "in the private network namespace $ns: lo, and the veth pair v6mc-a, v6mc-b"
ip netns exec "$ns" "$example" --veth v6mc-a v6mc-b
