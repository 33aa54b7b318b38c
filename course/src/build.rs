//! Building chapter test binaries, for the runner and the grader alike.
//!
//! [`test_binaries`] runs `cargo test --no-run --message-format=json` for some chapters and
//! reads cargo's messages: the executable of each test binary, or the first error of each
//! chapter whose files do not compile ("file:line: message"). [`build_with_stubs`] builds in a
//! work folder and, while rustc names a chapter's files, puts that chapter back to its stub
//! and builds again: an error in chapter 3 costs chapter 3 only.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;

use serde_json::Value;

/// How cargo is run: where, with which side of the switch, with which extra environment.
pub struct Cargo<'a> {
    /// The course's folder (its workspace root).
    pub dir: &'a Path,
    pub solutions: bool,
    /// Extra environment (`CARGO_TARGET_DIR`).
    pub env: Vec<(&'static str, PathBuf)>,
    /// Variables removed from cargo's environment (the grader drops `RUSTFLAGS`).
    pub remove: &'static [&'static str],
    /// How to start cargo instead of `cargo` in `dir`: the grader's sandbox gives a command
    /// that runs cargo inside it (its arguments are appended). `None`: the runner's plain cargo.
    pub wrap: Option<&'a (dyn Fn() -> Command + Sync)>,
    /// Wall-clock limit for one cargo run (the grader's build limit); `None`: no limit.
    pub limit: Option<std::time::Duration>,
}

impl Cargo<'_> {
    /// `cargo` (or `$CARGO`) in the course's folder.
    pub fn command(&self) -> Command {
        let mut command = match self.wrap {
            Some(wrap) => wrap(),
            None => Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())),
        };
        command
            .current_dir(self.dir)
            .env("CARGO_TERM_COLOR", "never")
            .stdin(Stdio::null());
        course_catalog::without_inherited_cargo_env(&mut command);
        for (key, value) in &self.env {
            command.env(key, value);
        }
        for key in self.remove {
            command.env_remove(key);
        }
        command
    }
}

/// Why the test binaries were not built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildError {
    /// rustc's errors are in these chapters' files: chapter number (`ch03`) -> its first error,
    /// `file:line: message`.
    Chapters(BTreeMap<String, String>),
    /// Anything else: cargo could not run, an error outside the chapters.
    Other(String),
    /// The build did not finish within [`Cargo::limit`] and was killed.
    TimedOut(std::time::Duration),
}

/// Kills a process (`kill -KILL`) unless stopped before `limit` has passed.
struct Watchdog {
    stop: std::sync::mpsc::Sender<()>,
    fired: thread::JoinHandle<bool>,
}

impl Watchdog {
    fn start(pid: u32, limit: std::time::Duration) -> Watchdog {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let fired = thread::spawn(move || {
            if stopped.recv_timeout(limit).is_ok() {
                return false;
            }
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
            true
        });
        Watchdog { stop, fired }
    }

    /// Stops the watchdog; true if it had already killed the process.
    fn stop(self) -> bool {
        let _ = self.stop.send(());
        self.fired.join().unwrap_or(false)
    }
}

/// What [`test_binaries`] reports while cargo works.
pub enum Step<'a> {
    /// cargo started: this many test binaries are wanted.
    Started { total: usize },
    /// cargo started compiling this crate.
    Compiling(&'a str),
    /// One more test binary is ready: `done` of `total`.
    TestBinary { done: usize, total: usize },
}

/// Builds the test binaries of `chapters` (test file stems, `ch02_udp`); their executables by
/// stem. `progress` hears what cargo is doing.
pub fn test_binaries(
    cargo: &Cargo,
    chapters: &[&str],
    progress: &mut dyn FnMut(Step),
) -> Result<BTreeMap<String, PathBuf>, BuildError> {
    progress(Step::Started {
        total: chapters.len(),
    });
    let mut command = cargo.command();
    command.args(["test", "--no-run", "--message-format=json"]);
    // `solutions` picks the side; a chapter may need a feature of its own (chapter 10's TLS
    // crates, see `course_catalog::exercises::CHAPTER_FEATURES`). The runner asks for such a
    // chapter only once the learner gets there (`Progress::deferred`); the grader always does.
    let mut features: Vec<&str> = chapters
        .iter()
        .filter_map(|c| course_catalog::exercises::chapter_features(c))
        .collect();
    if cargo.solutions {
        features.push("solutions");
    }
    if !features.is_empty() {
        command.args(["--features", &features.join(",")]);
    }
    for chapter in chapters {
        command.args(["--test", chapter]);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            BuildError::Other(course_catalog::fill(
                "course.cargo_failed",
                &[("error", &e)],
            ))
        })?;
    // A build that outlives its limit (a `const` that loops forever) is killed: the sandbox
    // ends with its first process, so killing that one ends every process of the build.
    let watchdog = cargo.limit.map(|limit| Watchdog::start(child.id(), limit));
    // stderr: `Compiling foo v1.0`, and the rendered diagnostics; read on a thread.
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let mut stderr = child.stderr.take().expect("piped");
    let reader = thread::spawn(move || {
        let mut all = Vec::new();
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while let Ok(1) = stderr.read(&mut byte) {
            if byte[0] == b'\n' {
                let text = String::from_utf8_lossy(&line).into_owned();
                let _ = tx.send(text.clone());
                all.push(text);
                line.clear();
            } else {
                line.push(byte[0]);
            }
        }
        all.join("\n")
    });
    let stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut executables = BTreeMap::new();
    let mut broken: BTreeMap<String, String> = BTreeMap::new();
    let mut other_errors = Vec::new();
    for line in stdout.lines() {
        let Ok(line) = line else { break };
        for text in rx.try_iter() {
            if let Some(name) = text.trim_start().strip_prefix("Compiling ") {
                progress(Step::Compiling(name.split(' ').next().unwrap_or(name)));
            }
        }
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        match message["reason"].as_str() {
            Some("compiler-artifact") => {
                let is_test = message["target"]["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "test"));
                if let (true, Some(name), Some(exe)) = (
                    is_test,
                    message["target"]["name"].as_str(),
                    message["executable"].as_str(),
                ) {
                    executables.insert(name.to_string(), PathBuf::from(exe));
                    progress(Step::TestBinary {
                        done: executables.len(),
                        total: chapters.len(),
                    });
                }
            }
            Some("compiler-message") if message["message"]["level"] == "error" => {
                let text = message["message"]["message"].as_str().unwrap_or("");
                let spans = message["message"]["spans"].as_array();
                let primary = spans.and_then(|spans| {
                    spans
                        .iter()
                        .find(|s| s["is_primary"] == true)
                        .or(spans.first())
                });
                let files: Vec<&str> = spans
                    .map(|spans| {
                        spans
                            .iter()
                            .filter_map(|s| s["file_name"].as_str())
                            .collect()
                    })
                    .unwrap_or_default();
                let mut owners: Vec<String> =
                    files.iter().filter_map(|f| file_chapter(f)).collect();
                // `mod ch03_tcp;` in lib.rs whose folder has no mod.rs (deleted, or broken):
                // the span is in lib.rs, the fault is the chapter's.
                if let Some(spans) = spans {
                    owners.extend(spans.iter().filter_map(lib_rs_chapter));
                }
                owners.dedup();
                if owners.is_empty() {
                    if !text.starts_with("aborting due to")
                        && !text.starts_with("could not compile")
                    {
                        other_errors.push(format!("{text} ({})", files.join(", ")));
                    }
                    continue;
                }
                let place = primary
                    .map(|s| {
                        format!(
                            "{}:{}: ",
                            s["file_name"].as_str().unwrap_or("").replace('\\', "/"),
                            s["line_start"].as_u64().unwrap_or(0)
                        )
                    })
                    .unwrap_or_default();
                for owner in owners {
                    broken
                        .entry(owner)
                        .or_insert_with(|| format!("{place}error: {text}"));
                }
            }
            _ => {}
        }
    }
    let status = child.wait().map_err(|e| BuildError::Other(e.to_string()))?;
    let stderr = reader.join().unwrap_or_default();
    if let Some(limit) = watchdog.and_then(|w| w.stop().then_some(cargo.limit).flatten()) {
        return Err(BuildError::TimedOut(limit));
    }
    if status.success() {
        return Ok(executables);
    }
    if !broken.is_empty() {
        return Err(BuildError::Chapters(broken));
    }
    let last: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = last[last.len().saturating_sub(5)..].join("\n");
    Err(BuildError::Other(if other_errors.is_empty() {
        tail
    } else {
        format!("{}\n{tail}", other_errors.join("\n"))
    }))
}

/// The chapter (`ch03`) a source file belongs to: `exercises/src/ch03_tcp/...` or
/// `tests/ch03_tcp.rs` (absolute or relative paths).
pub fn file_chapter(file: &str) -> Option<String> {
    let normal = file.replace('\\', "/");
    for marker in ["exercises/src/", "tests/"] {
        if let Some(at) = normal.rfind(marker) {
            let rest = &normal[at + marker.len()..];
            if let Some(number) = chapter_number(rest) {
                return Some(number.to_string());
            }
        }
    }
    None
}

/// The chapter a span in `exercises/src/lib.rs` names (`pub mod ch03_tcp;`), if any.
fn lib_rs_chapter(span: &Value) -> Option<String> {
    let file = span["file_name"].as_str()?.replace('\\', "/");
    if !file.ends_with("exercises/src/lib.rs") {
        return None;
    }
    let text = span["text"].as_array()?.first()?["text"].as_str()?;
    let name = text.split("mod ").nth(1)?.trim_end_matches([';', ' ']);
    chapter_number(name).map(str::to_string)
}

/// `ch03` for `ch03_tcp` (and for `ch03_tcp/echo.rs`-like paths' first component).
pub fn chapter_number(name: &str) -> Option<&str> {
    let number = name.get(..4)?;
    let digits = number.strip_prefix("ch")?;
    (digits.chars().all(|c| c.is_ascii_digit()) && name.get(4..5).is_none_or(|s| s == "_"))
        .then_some(number)
}

/// The chapter folders (`ch02_udp`, ...) under `dir`.
pub fn chapter_dirs(dir: &Path) -> Vec<String> {
    let mut dirs: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| chapter_number(name).is_some())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// Puts chapter `number`'s folders under `work/exercises/src` back to their stubs, from
/// `stubs` (a folder laid out like `exercises/src`). Files that already hold the stub's text
/// are not written again (cargo then sees nothing new).
pub fn put_back_stub(work: &Path, stubs: &Path, number: &str) -> io::Result<()> {
    let exercises = work.join("exercises").join("src");
    for dir in chapter_dirs(stubs)
        .iter()
        .filter(|d| chapter_number(d) == Some(number))
    {
        sync_tree(&stubs.join(dir), &exercises.join(dir), &[])?;
    }
    Ok(())
}

/// Makes the tree `to` hold what the tree `from` holds: files whose content differs are
/// written, files and folders `from` does not have are removed. Paths in `skip` (relative)
/// are left alone. Symbolic links are not followed.
pub fn sync_tree(from: &Path, to: &Path, skip: &[PathBuf]) -> io::Result<()> {
    sync_inner(from, to, Path::new(""), skip)
}

fn sync_inner(from: &Path, to: &Path, rel: &Path, skip: &[PathBuf]) -> io::Result<()> {
    fs::create_dir_all(to)?;
    let mut names = BTreeSet::new();
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let rel = rel.join(&name);
        names.insert(name.clone());
        if skip.contains(&rel) {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            sync_inner(&entry.path(), &to.join(&name), &rel, skip)?;
        } else if kind.is_file() {
            sync_file(&entry.path(), &to.join(&name))?;
        }
    }
    for entry in fs::read_dir(to)? {
        let entry = entry?;
        let name = entry.file_name();
        if names.contains(&name) || skip.contains(&rel.join(&name)) {
            continue;
        }
        if entry.file_type()?.is_dir() {
            fs::remove_dir_all(entry.path())?;
        } else {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Copies the file `from` to `to` unless `to` already holds the same bytes.
pub fn sync_file(from: &Path, to: &Path) -> io::Result<()> {
    let bytes = fs::read(from)?;
    if fs::read(to).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(to, bytes)
}

/// What [`build_with_stubs`] built.
pub struct Built {
    pub executables: BTreeMap<String, PathBuf>,
    /// The chapters put back to their stubs, with the first error that sent them back.
    pub broken: BTreeMap<String, String>,
}

/// Builds `chapters` in `work`, putting back to its stub (from `stubs`) every chapter rustc
/// names, until the rest compiles. `broken` are chapters already known not to compile (put
/// back before the first build).
pub fn build_with_stubs(
    cargo: &Cargo,
    stubs: &Path,
    chapters: &[&str],
    mut broken: BTreeMap<String, String>,
    progress: &mut dyn FnMut(Step),
) -> Result<Built, String> {
    for number in broken.keys() {
        put_back_stub(cargo.dir, stubs, number).map_err(|e| e.to_string())?;
    }
    loop {
        match test_binaries(cargo, chapters, progress) {
            Ok(executables) => {
                return Ok(Built {
                    executables,
                    broken,
                });
            }
            Err(BuildError::Chapters(named)) => {
                let new: Vec<(String, String)> = named
                    .into_iter()
                    .filter(|(number, _)| !broken.contains_key(number))
                    .collect();
                if new.is_empty() {
                    return Err("the course does not compile, even with stubs".into());
                }
                for (number, error) in new {
                    put_back_stub(cargo.dir, stubs, &number).map_err(|e| e.to_string())?;
                    broken.insert(number, error);
                }
            }
            Err(BuildError::Other(message)) => return Err(message),
            Err(BuildError::TimedOut(limit)) => {
                return Err(format!(
                    "the build did not finish within {} s (killed)",
                    limit.as_secs()
                ));
            }
        }
    }
}

/// A file larger than this is not copied (and is noted): exercise files are small, and a
/// grader must not be made to copy gigabytes.
pub const MAX_FILE: u64 = 1024 * 1024;

/// Copies the regular files under `from` into `to`. Symbolic links and oversized files are
/// not copied; they are noted in `skipped` (relative paths with the reason).
pub fn copy_tree(from: &Path, to: &Path, skipped: &mut Vec<String>) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let name = entry.file_name();
        let shown = name.to_string_lossy();
        if kind.is_symlink() {
            skipped.push(format!("{shown}: a symbolic link (not copied)"));
        } else if kind.is_dir() {
            let mut inner = Vec::new();
            copy_tree(&entry.path(), &to.join(&name), &mut inner)?;
            skipped.extend(inner.into_iter().map(|n| format!("{shown}/{n}")));
        } else if entry.metadata()?.len() > MAX_FILE {
            skipped.push(format!(
                "{shown}: larger than {MAX_FILE} bytes (not copied)"
            ));
        } else {
            fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}
