//! One chapter's run: the supervisor ([`super::supervise`]) in a sandbox of its own (or a
//! process group without one), its answers keyed by a secret, a time limit, and every process
//! gone before the results are used.

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::sandbox::{Mounts, Sandbox};
use super::{ChapterResult, Context};

/// Runs one chapter's tests through the supervisor (in a sandbox of its own where there is
/// one) and reads its answers.
pub(super) fn run_chapter(
    ctx: &Context,
    job: &Path,
    tree: &Path,
    build: &Path,
    chapter: &str,
    exe: &Path,
    untouched: bool,
) -> ChapterResult {
    let mut result = ChapterResult {
        chapter: chapter.to_string(),
        compiled: true,
        ..Default::default()
    };
    let secret = secret();
    let exercises = tree.join("exercises");
    let upper = job.join(format!("run-{chapter}"));
    let per_test = ctx.timeout.as_secs().clamp(1, 60).to_string();
    // An untouched chapter is listed, not run: every chapter test fails on its stub (the stub
    // check of .ci/run proves it for every commit), so running them would only cost time.
    // Otherwise as many tests at once as there are cores (chapters also run side by side).
    let cores = thread::available_parallelism()
        .map_or(2, |n| n.get())
        .to_string();
    let jobs = if untouched { "0" } else { cores.as_str() };
    let cgroup = ctx.sandbox.as_ref().and_then(Sandbox::cgroup);
    let mut command = match &ctx.sandbox {
        Some(sandbox) => {
            let mounts = Mounts {
                course: &ctx.pristine,
                exercises: &exercises,
                exercises_writable: false,
                lowers: vec![build, &ctx.base],
                upper: &upper,
                build: false,
                blank_reference: Some(&ctx.blank_reference),
            };
            let exe = exe.to_string_lossy().into_owned();
            sandbox.command(
                &mounts,
                cgroup.as_ref(),
                "/grader/course",
                &[
                    "grade",
                    "--supervise",
                    &exe,
                    "--supervise-jobs",
                    jobs,
                    "--supervise-limit",
                    &per_test,
                ],
            )
        }
        None => {
            let mut command =
                Command::new(std::env::current_exe().unwrap_or_else(|_| "course".into()));
            command
                .current_dir(tree)
                .env("CARGO_TARGET_DIR", job.join("target"))
                .env_remove("RUSTFLAGS")
                .args(["grade", "--supervise"])
                .arg(exe)
                .args(["--supervise-jobs", jobs, "--supervise-limit", &per_test]);
            #[cfg(unix)]
            {
                use std::os::unix::process::CommandExt;
                command.process_group(0);
            }
            command
        }
    };
    let child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        result.error = Some("cannot start the test supervisor".into());
        return result;
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "{secret}");
    }
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().expect("piped");
    let reader = thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + ctx.timeout;
    let (mut listed, mut passed, mut done) = (Vec::new(), BTreeSet::new(), false);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left.max(Duration::from_millis(1))) {
            Ok(line) => {
                // Only lines keyed by this run's secret count.
                let Some(rest) = line.strip_prefix(&format!("{secret} ")) else {
                    continue;
                };
                let (what, name) = rest.split_once(' ').unwrap_or((rest, ""));
                match what {
                    "list" => listed.push(name.to_string()),
                    "pass" => {
                        passed.insert(name.to_string());
                    }
                    "timeout" => result.timed_out = true,
                    "done" => done = true,
                    _ => {}
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                result.timed_out = true;
                break;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if done {
            break;
        }
    }
    // Every process of the chapter ends before its results are used.
    let _ = child.kill();
    #[cfg(unix)]
    if ctx.sandbox.is_none() {
        let _ = Command::new("kill")
            .args(["-KILL", &format!("-{}", child.id())])
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.wait();
    if let Some(group) = &cgroup {
        group.kill_all();
    }
    drop(cgroup);
    drop(rx);
    let _ = reader.join();
    let _ = fs::remove_dir_all(&upper);
    let _ = fs::remove_dir_all(upper.with_extension("work"));
    let _ = fs::remove_dir_all(upper.with_extension("merged"));
    if !done && !result.timed_out {
        result.error = Some("the test supervisor ended early".into());
    }
    result.total = listed.len();
    result.tests = listed
        .iter()
        .map(|n| (n.clone(), passed.contains(n)))
        .collect();
    result.passed = result.tests.iter().filter(|(_, ok)| *ok).count();
    result
}

/// A secret for one chapter run: 128 random bits from the OS, in hex.
fn secret() -> String {
    let mut bytes = [0u8; 16];
    if let Ok(mut f) = fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut bytes);
    } else {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        bytes = t.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
