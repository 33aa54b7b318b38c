//! The test supervisor: runs inside a chapter's sandbox (`course grade --supervise EXE`) and
//! runs each test of the chapter's test binary in a process of its own.
//!
//! A test passes when its process exits with status 0 after libtest ran exactly that test:
//! nothing the learner's code prints, writes to a log or to libtest's descriptors counts. The
//! test processes get no descriptor of the supervisor's (stdin, stdout and stderr are
//! `/dev/null`), there is no `/proc` to find one, and `exercises` forbids `unsafe`; so the one
//! way left to fake a pass is to end the process with status 0 (`process::exit`, `exec`), which
//! the grader flags. The supervisor answers on its stdout, every line keyed by a secret the
//! grader writes to its stdin before any test runs: `SECRET list|ignored|pass|fail|timeout NAME`,
//! then `SECRET done`.

use std::collections::VecDeque;
use std::io::{self, BufRead, Write};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Runs the supervisor: reads the secret, lists the tests, runs them `jobs` at a time, each
/// for at most `per_test`.
pub fn main(exe: &Path, jobs: usize, per_test: Duration) -> ExitCode {
    let mut secret = String::new();
    if io::stdin().lock().read_line(&mut secret).is_err() || secret.trim().len() < 16 {
        return ExitCode::from(2);
    }
    let secret = secret.trim().to_string();
    let out = Arc::new(Mutex::new(io::stdout()));
    let say = |what: &str, name: &str| {
        let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(out, "{secret} {what} {name}");
        let _ = out.flush();
    };
    let list = |ignored: bool| -> Vec<String> {
        let mut command = Command::new(exe);
        command.args(["--list", "--format", "terse"]);
        if ignored {
            command.arg("--ignored");
        }
        let output = command.stdin(Stdio::null()).stderr(Stdio::null()).output();
        output
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .filter_map(|l| l.strip_suffix(": test"))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let ignored = list(true);
    let tests: Vec<String> = list(false)
        .into_iter()
        .filter(|t| !ignored.contains(t))
        .collect();
    for name in &ignored {
        say("ignored", name);
    }
    for name in &tests {
        say("list", name);
    }
    let queue = Arc::new(Mutex::new(tests.into_iter().collect::<VecDeque<_>>()));
    thread::scope(|scope| {
        // `jobs` 0: list only (the grader's shortcut for an untouched chapter).
        for _ in 0..jobs {
            let queue = Arc::clone(&queue);
            let say = &say;
            scope.spawn(move || {
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                    let Some(name) = next else { return };
                    say(run_one(exe, &name, per_test), &name);
                }
            });
        }
    });
    say("done", "");
    ExitCode::SUCCESS
}

/// Runs one test in a process of its own: `pass`, `fail` or `timeout`.
fn run_one(exe: &Path, name: &str, limit: Duration) -> &'static str {
    let child = Command::new(exe)
        .args(["--exact", name, "--test-threads", "1", "--include-ignored"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else { return "fail" };
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return if status.success() { "pass" } else { "fail" },
            Ok(None) if start.elapsed() < limit => thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return "timeout";
            }
        }
    }
}
