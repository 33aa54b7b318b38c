#!/usr/bin/env bash
# Feedback benchmark: how long from saving an exercise file to the verdict of its grade command
# (`cargo test --test <chapter> <filter>`, warm), for one exercise of each chapter, and where
# that time goes for one of them. The goal: at most 2 s for 2.1 (`recv_one::`) on a 2-core machine.
#
# Run it from a clone (Linux or macOS, bash 3.2 or later; nothing to install):
#
#     bash benches/feedback.sh                 # 1.1 2.1 3.1 4.2 5.1 6.1 6.5 7.1 8.1 9.1, median of 5,
#                                              # then the breakdown of 2.1
#     bash benches/feedback.sh 2.1 6.5         # only these exercises (ids of the table below)
#     RUNS=9 bash benches/feedback.sh 2.1      # more runs per exercise (default 5)
#     BREAKDOWN=3.1 bash benches/feedback.sh   # break down 3.1 instead; BREAKDOWN=none: no breakdown
#     VARIANT='CARGO_PROFILE_DEV_DEBUG=line-tables-only' bash benches/feedback.sh 2.1
#     VARIANT_ARGS='--config profile.dev.package."*".debug=false' bash benches/feedback.sh 2.1
#         # A/B experiment: each run of the baseline is followed by a run with these variables set
#         # (VARIANT) or these arguments given to cargo (VARIANT_ARGS), in its own target folder,
#         # target/feedback-variant, built on the first run (minutes), so both see the same load on
#         # a shared machine. The table then shows both medians; the breakdown is the baseline's.
#
# What one run is: append a comment (different each run, so the content changes, as when you
# save) to the exercise's file, then time `cargo test --test <chapter> <filter>` until it exits.
# Each exercise first gets one untimed run (warm-up: its chapter's test binary and any program
# its tests start are built). The load average (1 min) is printed beside every figure: the
# figures mean little on a busy machine.
#
# Your files are safe: each exercise file is copied first and written back byte for byte when
# the script ends, also on Ctrl-C. (Written back, not moved back: the file gets a new
# modification time, so cargo rebuilds it once more on your next `cargo test` instead of
# trusting a build of the edited content.) The stubs' tests fail; that is the verdict timed.
#
# The breakdown uses `cargo test --timings` (the units cargo compiled and how long each took),
# a no-op cargo run (cargo's own start-up), a run of the tests alone, and, for the link of the
# test binary, one `cargo rustc ... --print link-args -C save-temps` build (a separate copy of
# the test binary, built once: allow a minute the first time) whose link command is timed alone.

set -u

cd "$(dirname "$0")/.." || exit 1
if [ ! -f catalog/src/exercises.rs ] || [ ! -d exercises/src ]; then
    echo "feedback.sh: run it from a clone of the course (benches/feedback.sh)" >&2
    exit 1
fi

RUNS=${RUNS:-5}
BREAKDOWN=${BREAKDOWN:-2.1}
VARIANT=${VARIANT:-}
VARIANT_ARGS=${VARIANT_ARGS:-}

# id | chapter test | filter | file   (filters from catalog/src/exercises.rs; 4.2 rather than 4.1,
# whose table entry is a pattern libtest does not expand)
TABLE='1.1 ch01_addresses port_range:: exercises/src/ch01_addresses/port_range.rs
2.1 ch02_udp recv_one:: exercises/src/ch02_udp/recv_one.rs
3.1 ch03_tcp echo:: exercises/src/ch03_tcp/echo.rs
4.2 ch04_many_clients connection:: exercises/src/ch04_many_clients/connection.rs
5.1 ch05_udp_vs_tcp stats:: exercises/src/ch05_udp_vs_tcp/stats.rs
6.1 ch06_reliability header:: exercises/src/ch06_reliability/header.rs
6.5 ch06_window send_window:: exercises/src/ch06_reliability/window_send.rs
7.1 ch07_security token:: exercises/src/ch07_security/token.rs
8.1 ch08_chat payload:: exercises/src/ch08_chat/payload.rs
9.1 ch09_multicast sender_socket:: exercises/src/ch09_multicast/sender.rs'

if [ $# -gt 0 ]; then
    IDS="$*"
else
    IDS=$(echo "$TABLE" | awk '{print $1}')
fi

# ---- small tools ---------------------------------------------------------------------------

now() {
    if [ -n "${EPOCHREALTIME:-}" ]; then
        echo "${EPOCHREALTIME/,/.}"
    else
        perl -MTime::HiRes=time -e 'printf "%.6f\n", time'
    fi
}

since() { # since START -> seconds, 2 decimals
    awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'
}

load1() {
    if [ -r /proc/loadavg ]; then
        cut -d' ' -f1 /proc/loadavg
    else
        sysctl -n vm.loadavg 2>/dev/null | awk '{print $2}'
    fi
}

# CPU seconds (user + system) of all the children this shell has waited for, in $CPU: `times`
# must run in this shell (in a $(...) it would count a fresh process's children: none).
cpu_mark() {
    times >"$LOG.times"
    CPU=$(awk 'NR == 2 { split($1, u, "m"); split($2, s, "m"); printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$LOG.times")
}

median() { # numbers on stdin -> median
    sort -n | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        if (NR % 2) printf "%.2f", v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

row() { echo "$TABLE" | awk -v id="$1" '$1 == id'; }

TARGET_DIR=$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
    grep -o '"target_directory":"[^"]*"' | sed 's/.*:"//; s/"$//')
TARGET_DIR=${TARGET_DIR:-target}
VARIANT_TARGET="$TARGET_DIR/feedback-variant"
LOG=$(mktemp "${TMPDIR:-/tmp}/feedback.XXXXXX")

# ---- the files we edit: saved now, written back on any exit ----------------------------------

BACKUP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/feedback-backup.XXXXXX")
SAVED=""
save_file() {
    local file=$1 copy
    case " $SAVED " in *" $file "*) return ;; esac
    copy="$BACKUP_DIR/$(echo "$file" | tr '/' '_')"
    cp "$file" "$copy" || exit 1
    SAVED="$SAVED $file"
}
restore_files() {
    local file copy
    for file in $SAVED; do
        copy="$BACKUP_DIR/$(echo "$file" | tr '/' '_')"
        if ! cmp -s "$copy" "$file"; then
            cat "$copy" >"$file"
        fi
    done
}
cleanup() {
    restore_files
    rm -rf "$BACKUP_DIR" "$LOG" "$LOG.times" "$LOG.verdict"
}
trap cleanup EXIT
trap 'echo; echo "interrupted: files restored" >&2; exit 130' INT TERM

EDITS=0
edit() { # edit FILE: the original plus a comment that differs each time
    local file=$1 copy
    copy="$BACKUP_DIR/$(echo "$file" | tr '/' '_')"
    EDITS=$((EDITS + 1))
    { cat "$copy"; echo "// feedback.sh edit $EDITS"; } >"$file"
}

# grade CHAPTER FILTER [B]: the grade command (B: the variant's), output in $LOG; prints the verdict
grade() {
    local chapter=$1 filter=$2
    if [ "${3:-}" = B ]; then
        # word splitting on purpose, without globbing (a --config value may hold "*")
        set -f
        # shellcheck disable=SC2086
        env CARGO_TARGET_DIR="$VARIANT_TARGET" $VARIANT cargo $VARIANT_ARGS test --test "$chapter" "$filter" >"$LOG" 2>&1
        set +f
    else
        cargo test --test "$chapter" "$filter" >"$LOG" 2>&1
    fi
    verdict
}
verdict() {
    local result
    if grep -q '^error: could not compile\|^error\[' "$LOG"; then
        echo "build-error"
        return
    fi
    result=$(grep '^test result:' "$LOG" | tail -1)
    if [ -z "$result" ]; then
        echo "no-result"
    else
        echo "$result" | awk '{ gsub(";", ""); printf "%s/%d", $4, $4 + $6 }'
    fi
}

# ---- one exercise: warm-up, then RUNS timed edits ------------------------------------------


printf '%s\n' "save -> verdict of \`cargo test --test <chapter> <filter>\`, warm, median of $RUNS (seconds of wall time;"
printf '%s\n' "cpu = CPU seconds, user + system, of cargo and all it ran); (load) = 1-min load average at that run"
printf '%s\n' "$(uname -s) $(uname -m), $(getconf _NPROCESSORS_ONLN 2>/dev/null || sysctl -n hw.ncpu) cores, $(rustc --version)"
if [ -n "$VARIANT$VARIANT_ARGS" ]; then
    printf '%s\n' "A = as is, B = $VARIANT cargo $VARIANT_ARGS (target: $VARIANT_TARGET)"
fi
echo

header_done=""
for id in $IDS; do
    line=$(row "$id")
    if [ -z "$line" ]; then
        echo "unknown exercise $id (known: $(echo "$TABLE" | awk '{printf "%s ", $1}'))" >&2
        continue
    fi
    set -- $line
    chapter=$2 filter=$3 file=$4
    save_file "$file"

    # warm-up (and the variant's first build, which can take minutes)
    edit "$file"
    grade "$chapter" "$filter" >/dev/null
    tests=$(cargo test --test "$chapter" "$filter" -- --list 2>/dev/null | grep -c ': test$')
    if [ -n "$VARIANT$VARIANT_ARGS" ]; then
        grade "$chapter" "$filter" B >/dev/null
    fi

    if [ -z "$header_done" ]; then
        if [ -n "$VARIANT$VARIANT_ARGS" ]; then
            printf '%-4s %-18s %-16s %5s %-8s  %-8s %-6s %-8s %-6s %s\n' id test filter tests verdict "A median" "A cpu" "B median" "B cpu" "runs A | B: seconds(load)"
        else
            printf '%-4s %-18s %-16s %5s %-8s  %-6s %-5s %-7s %s\n' id test filter tests verdict median cpu load "runs: seconds(load)"
        fi
        header_done=1
    fi

    times_a="" times_b="" cpus_a="" cpus_b="" runs_a="" runs_b="" loads="" n=0
    for _ in $(seq "$RUNS"); do
        n=$((n + 1))
        # with a variant, the order alternates (A B, B A, ...) so that neither always goes first
        order=A
        if [ -n "$VARIANT$VARIANT_ARGS" ]; then
            if [ $((n % 2)) = 1 ]; then order="A B"; else order="B A"; fi
        fi
        for side in $order; do
            edit "$file"
            start=$(now)
            cpu_mark
            cpu_start=$CPU
            if [ "$side" = A ]; then
                grade "$chapter" "$filter" >"$LOG.verdict"
            else
                grade "$chapter" "$filter" B >"$LOG.verdict"
            fi
            t=$(since "$start")
            cpu_mark
            c=$(awk -v a="$cpu_start" -v b="$CPU" 'BEGIN { printf "%.2f", b - a }')
            l=$(load1)
            if [ "$side" = A ]; then
                v=$(cat "$LOG.verdict")
                times_a="$times_a $t" cpus_a="$cpus_a $c" runs_a="$runs_a $t($l)" loads="$loads $l"
            else
                vb=$(cat "$LOG.verdict")
                times_b="$times_b $t" cpus_b="$cpus_b $c" runs_b="$runs_b $t($l)"
            fi
        done
    done
    if [ -n "$VARIANT$VARIANT_ARGS" ] && [ "$vb" != "$v" ]; then v="$v|B:$vb"; fi
    med_a=$(echo "$times_a" | tr ' ' '\n' | grep . | median)
    cpu_a=$(echo "$cpus_a" | tr ' ' '\n' | grep . | median)
    load_med=$(echo "$loads" | tr ' ' '\n' | grep . | median)
    if [ -n "$VARIANT$VARIANT_ARGS" ]; then
        med_b=$(echo "$times_b" | tr ' ' '\n' | grep . | median)
        cpu_b=$(echo "$cpus_b" | tr ' ' '\n' | grep . | median)
        printf '%-4s %-18s %-16s %5s %-8s  %-8s %-6s %-8s %-6s%s |%s\n' "$id" "$chapter" "$filter" "$tests" "$v" \
            "${med_a} s" "$cpu_a" "${med_b} s" "$cpu_b" "$runs_a" "$runs_b"
    else
        printf '%-4s %-18s %-16s %5s %-8s  %-6s %-5s %-7s%s\n' "$id" "$chapter" "$filter" "$tests" "$v" "${med_a} s" "$cpu_a" "($load_med)" "$runs_a"
    fi
    restore_files
done
echo "(verdict: tests passed/run by the filter; the stubs fail)"

# ---- breakdown of one exercise --------------------------------------------------------------

[ "$BREAKDOWN" = none ] && exit 0
line=$(row "$BREAKDOWN")
if [ -z "$line" ]; then
    echo "unknown exercise $BREAKDOWN for BREAKDOWN" >&2
    exit 1
fi
set -- $line
chapter=$2 filter=$3 file=$4
save_file "$file"
echo
echo "Where the time goes, $BREAKDOWN (\`cargo test --test $chapter $filter\`), median of $RUNS; load $(load1) at start"

# the units cargo compiles after one edit (cargo test --timings)
edit "$file"
grade "$chapter" "$filter" >/dev/null
units=""
totals=""
for _ in $(seq "$RUNS"); do
    edit "$file"
    start=$(now)
    cargo test --timings --test "$chapter" "$filter" >"$LOG" 2>&1
    totals="$totals $(since "$start")"
    # UNIT_DATA of the report: one line per unit compiled: name target start duration frontend-end
    units="$units
$(sed -n '/^const UNIT_DATA/,/^];/p' "$TARGET_DIR/cargo-timings/cargo-timing.html" | awk '
        /^  {/ { name = ""; target = ""; start = 0; dur = 0; fe = "-"; sec = "" }
        /^    "name":/ { name = $2; gsub(/[",]/, "", name) }
        /^    "target":/ { t = $0; sub(/^[^:]*: "/, "", t); sub(/",?$/, "", t); gsub(/\\"/, "", t); sub(/^ /, "", t); sub(/ .*/, "", t); target = t }
        /^    "start":/ { start = $2; gsub(",", "", start) }
        /^    "duration":/ { dur = $2; gsub(",", "", dur) }
        /"frontend"/ { sec = "frontend" }
        /"codegen"/ { sec = "" }
        /"end":/ && sec == "frontend" { fe = $2; gsub(",", "", fe) }
        /^  }/ { if (dur + 0 > 0) printf "%s%s %s %s %s\n", name, (target == "" ? "" : ":" target), start, dur, fe }
    ')"
done
# no-op cargo (everything fresh): cargo start-up and fingerprints
noop=""
for _ in $(seq "$RUNS"); do
    start=$(now)
    cargo test --no-run --test "$chapter" >"$LOG" 2>&1
    noop="$noop $(since "$start")"
done
exe=$(sed -n 's/.*Executable .*(\(.*\))$/\1/p' "$LOG" | tail -1)
size=$(wc -c <"$exe" 2>/dev/null | awk '{ printf "%.1f MB", $1 / 1e6 }')
# the tests alone, through cargo (nothing to build): minus the no-op above
fresh=""
for _ in $(seq "$RUNS"); do
    start=$(now)
    cargo test --test "$chapter" "$filter" >/dev/null 2>&1
    fresh="$fresh $(since "$start")"
done

# the link of the test binary alone: a separate copy built with the link command printed
link=""
probe_log="$LOG.link"
edit "$file"
cargo rustc --profile test --test "$chapter" -- --print link-args -C save-temps --cfg feedback_link_probe >"$probe_log" 2>&1
link_cmd=$(grep -E '^(LC_ALL=|"?cc"? )' "$probe_log" | tail -1)
if [ -n "$link_cmd" ]; then
    for _ in $(seq "$RUNS"); do
        start=$(now)
        (eval "$link_cmd") >/dev/null 2>&1
        link="$link $(since "$start")"
    done
    linker=$(echo "$link_cmd" | grep -o '"-fuse-ld=[^"]*"' | tr -d '"')
    # the probe's own files: the copy of the test binary and its kept temporaries
    out=$(echo "$link_cmd" | grep -o '"-o" "[^"]*"' | sed 's/"-o" "//; s/"$//')
    case "$out" in */deps/"$chapter"-*) rm -f "$out" "$out".* ;; esac
    for d in $(echo "$link_cmd" | grep -o '"[^"]*/rustc[A-Za-z0-9]*/' | tr -d '"' | sort -u); do rm -rf "$d"; done
fi
rm -f "$probe_log"
restore_files

med() { echo "$1" | tr ' ' '\n' | grep . | median; }
unit_med() { # unit_med NAME FIELD(2=start 3=duration 4=frontend end)
    echo "$units" | awk -v n="$1" -v f="$2" '$1 == n { print $f }' | grep -v '^-$' | median
}

echo "  total, save -> verdict (with --timings)      $(med "$totals") s"
echo "  cargo start-up + fingerprints (no-op build)   $(med "$noop") s"
echo "  units compiled (start after cargo's start, duration; frontend = until metadata):"
for name in $(echo "$units" | awk 'NF { print $1 }' | sort -u); do
    fe=$(unit_med "$name" 4)
    printf '    %-38s start %5s s  took %5s s%s\n' "$name" "$(unit_med "$name" 2)" "$(unit_med "$name" 3)" \
        "$([ "$fe" != "-" ] && echo "  (frontend $fe s)")"
done
if [ -n "$link" ]; then
    echo "    of which linking the test binary ($size, ${linker:-default linker})  $(med "$link") s"
fi
run=$(awk -v a="$(med "$fresh")" -v b="$(med "$noop")" 'BEGIN { printf "%.2f", a - b }')
echo "  running the tests ($filter), incl. process start  $run s   (cargo test with nothing to build: $(med "$fresh") s)"
echo "  load at end $(load1)"
