#!/usr/bin/env bash
# How long `course grade` takes per submission, for a class of 16 at `--jobs 1`:
# 4 with every chapter solved, 8 with chapters 1-3 solved, 4 untouched (stubs).
# Prints the median time per group (total and build), the class median and the load average.
# The shared build is warmed first (one untouched submission), so the figures are warm ones.
#
#   bash benches/grade_class.sh            # as root, the sandbox is used where it holds
#   GRADE_BENCH_ARGS=--no-sandbox bash benches/grade_class.sh
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
class=$work/class
mkdir -p "$class"

solve() { # solve DIR CHAPTER-GLOB...: copies the reference over the stubs
  local dir=$1
  shift
  for chapter in "$@"; do
    for src in solutions/src/$chapter; do
      rm -rf "$dir/exercises/src/$(basename "$src")"
      cp -r "$src" "$dir/exercises/src/"
    done
  done
}
for i in 1 2 3 4; do
  git clone --quiet "$root" "$class/all-$i"
  solve "$class/all-$i" 'ch0[1-9]_*'
done
for i in 1 2 3 4 5 6 7 8; do
  git clone --quiet "$root" "$class/first3-$i"
  solve "$class/first3-$i" 'ch0[1-3]_*'
done
for i in 1 2 3 4; do
  git clone --quiet "$root" "$class/untouched-$i"
done
git clone --quiet "$root" "$work/warm"

cargo build --quiet --bin course
# shellcheck disable=SC2086 # GRADE_BENCH_ARGS holds several arguments
target/debug/course grade ${GRADE_BENCH_ARGS:-} --jobs 1 "$work/warm" >/dev/null
# shellcheck disable=SC2086
target/debug/course grade ${GRADE_BENCH_ARGS:-} --jobs 1 --format json --out "$work/class.json" "$class" \
  2> >(grep -E '^\[' >&2 || true) || true
read -r load _ </proc/loadavg
python3 - "$work/class.json" "$load" "$(nproc)" <<'EOF'
import json, statistics, sys
report = json.load(open(sys.argv[1]))
groups = {}
for s in report["submissions"]:
    name = s["submission"].rstrip("/").split("/")[-1]
    groups.setdefault(name.rsplit("-", 1)[0], []).append(s)
print(f"course grade --jobs 1, a class of {len(report['submissions'])} "
      f"(load average {sys.argv[2]}, {sys.argv[3]} cores, sandbox: {report.get('sandbox')})")
print(f"{'group':<12}{'n':>3}{'median s':>10}{'build s':>9}{'tests passed':>14}")
for name in ("untouched", "first3", "all"):
    subs = groups.get(name, [])
    if not subs:
        continue
    med = statistics.median(s["seconds"] for s in subs)
    build = statistics.median(s["build_seconds"] for s in subs)
    passed = statistics.median(s["passed"] for s in subs)
    print(f"{name:<12}{len(subs):>3}{med:>10.1f}{build:>9.1f}{passed:>14.0f}")
everyone = [s["seconds"] for s in report["submissions"]]
print(f"{'class':<12}{len(everyone):>3}{statistics.median(everyone):>10.1f}")
EOF
