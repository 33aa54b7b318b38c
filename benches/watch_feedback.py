#!/usr/bin/env python3
"""How long `cargo run -- watch` takes from saving an exercise file to showing the new verdict.

Run it from a clone, with the course built once (`cargo run` first):

    python3 benches/watch_feedback.py            # 5 saves of the current exercise's file
    RUNS=9 python3 benches/watch_feedback.py

It starts `target/debug/course watch` (so cargo's own start-up is not counted: watch is already
running when a learner saves), waits for its first screen, then 5 times appends a different
comment to the current exercise's file and times until the screen is drawn again (the line of
keys ends each screen). The file is written back byte for byte at the end, also on Ctrl-C.
The load average (1 min) is printed beside each figure.
"""

import os
import re
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COURSE = os.path.join(ROOT, "target", "debug", "course")
RUNS = int(os.environ.get("RUNS", "5"))
LIMIT = 120.0


def load():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def main():
    if not os.path.exists(COURSE):
        sys.exit("watch_feedback.py: build the course first (`cargo run`)")
    env = dict(os.environ, COURSE_LANG="en")
    child = subprocess.Popen(
        [COURSE, "watch"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    screens = []
    lock = threading.Condition()

    def reader():
        text = ""
        while True:
            chunk = child.stdout.read1(4096) if hasattr(child.stdout, "read1") else child.stdout.read(1)
            if not chunk:
                return
            text += chunk.decode("utf-8", "replace")
            while "keys: n next" in text:
                done, text = text.split("keys: n next", 1)
                with lock:
                    screens.append((time.monotonic(), done))
                    lock.notify_all()

    threading.Thread(target=reader, daemon=True).start()

    def wait_screens(count):
        deadline = time.monotonic() + LIMIT
        with lock:
            while len(screens) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    sys.exit("watch_feedback.py: no new screen within %d s" % LIMIT)
                lock.wait(left)
            return screens[count - 1]

    _, first = wait_screens(1)
    match = re.search(r"edit:\s+(\S+)", first)
    if not match:
        sys.exit("watch_feedback.py: no current exercise on the first screen:\n" + first)
    path = os.path.join(ROOT, match.group(1))
    with open(path, "rb") as f:
        original = f.read()
    figures = []
    try:
        for run in range(RUNS):
            time.sleep(1.0)  # let the screen settle
            before = load()
            started = time.monotonic()
            with open(path, "wb") as f:
                f.write(original + ("\n// watch_feedback %d %f\n" % (run, started)).encode())
            at, _ = wait_screens(2 + run)
            figures.append(at - started)
            print("save %d: %.2f s (load %.2f)" % (run + 1, at - started, before))
    finally:
        with open(path, "wb") as f:
            f.write(original)
        child.stdin.write(b"q")
        child.stdin.flush()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
    print(
        "watch, save -> verdict (%s): median %.2f s of %d, load %.2f now"
        % (match.group(1), statistics.median(figures), len(figures), load())
    )


if __name__ == "__main__":
    main()
