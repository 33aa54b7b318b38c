//! Running the chapters' tests and remembering the results.
//!
//! A chapter is run again only when one of its files changed (its exercise folder, its test
//! file, or what every chapter shares: the switch, the programs, the harness, the manifests);
//! the fingerprint of those files (path, size, modification time) is stored with its results
//! in `target/course/`. A run builds the test binaries with `cargo test --no-run` and runs each
//! stale chapter's binary with `--logfile`: libtest writes one `ok NAME` or `failed NAME` line
//! per test there, which learner code cannot fake by printing.
//!
//! When the build fails, the compiler's first error in each chapter's files marks that chapter
//! as not compiling; the other chapters keep their last known results.

use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, UNIX_EPOCH};

use course_catalog::exercises::{CHAPTERS, Chapter, EXERCISES, Exercise};

/// How long one chapter's tests may run before they are stopped (a learner's loop that never
/// ends is stopped by the harness's deadlines long before this).
const CHAPTER_LIMIT: Duration = Duration::from_secs(120);

/// The course folder, and which side of the switch this program was built for.
pub struct Course {
    pub root: PathBuf,
    /// Built with `--features solutions`: grade the reference instead of the exercises.
    pub solutions: bool,
}

impl Course {
    /// The course this program belongs to: the first folder, going up from
    /// `CARGO_MANIFEST_DIR` (set by `cargo run`: this package's folder, `course/`), then from the
    /// folder it was built in, then from the current folder, that holds `exercises/src` and
    /// `tests`.
    pub fn find() -> Result<Course, String> {
        let starts = [
            std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
            Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
            std::env::current_dir().ok(),
        ];
        let candidates = starts
            .into_iter()
            .flatten()
            .flat_map(|start| start.ancestors().map(Path::to_path_buf).collect::<Vec<_>>());
        for root in candidates {
            if root.join("exercises/src").is_dir() && root.join("tests").is_dir() {
                return Ok(Course {
                    root,
                    solutions: cfg!(feature = "solutions"),
                });
            }
        }
        let dir = std::env::current_dir().unwrap_or_default();
        Err(course_catalog::fill(
            "course.no_repo",
            &[("dir", &dir.display())],
        ))
    }

    /// `exercises` or `solutions`.
    pub fn side(&self) -> &'static str {
        if self.solutions {
            "solutions"
        } else {
            "exercises"
        }
    }

    /// The chapters present in this copy of the course (their test file exists), in order.
    pub fn chapters(&self) -> Vec<&'static Chapter> {
        CHAPTERS
            .iter()
            .filter(|c| {
                self.root
                    .join("tests")
                    .join(format!("{}.rs", c.id))
                    .is_file()
            })
            .collect()
    }

    /// The exercises of the chapters present, in order.
    pub fn exercises(&self) -> Vec<&'static Exercise> {
        let chapters = self.chapters();
        EXERCISES
            .iter()
            .filter(|e| chapters.iter().any(|c| c.id == e.chapter))
            .collect()
    }

    /// `target/course/` (or under `CARGO_TARGET_DIR`): results and hint steps.
    pub fn state_dir(&self) -> PathBuf {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|t| {
                if t.is_absolute() {
                    t
                } else {
                    self.root.join(t)
                }
            })
            .unwrap_or_else(|| self.root.join("target"));
        target.join("course")
    }

    fn cargo(&self) -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .current_dir(&self.root)
            .env("CARGO_TERM_COLOR", "never");
        command
    }

    /// The fingerprint of what chapter `id`'s results depend on.
    fn fingerprint(&self, id: &str) -> u64 {
        let mut hasher = DefaultHasher::new();
        self.side().hash(&mut hasher);
        let shared = [
            "Cargo.toml",
            "Cargo.lock",
            "exercises/Cargo.toml",
            "exercises/src/lib.rs",
            "solutions/Cargo.toml",
            "solutions/src/lib.rs",
            "src",
            "programs",
            "given",
            "harness",
            "tests/support",
        ];
        for path in shared {
            hash_tree(&self.root.join(path), &mut hasher);
        }
        // The chapter's folder, and the folders its exercises live in (`ch06_window`'s
        // exercises live in `ch06_reliability/`).
        let mut folders = vec![id.to_string()];
        for exercise in EXERCISES.iter().filter(|e| e.chapter == id) {
            let folder = exercise.file.split('/').nth(2).unwrap_or(id).to_string();
            if !folders.contains(&folder) {
                folders.push(folder);
            }
        }
        for side in ["exercises", "solutions"] {
            for folder in &folders {
                hash_tree(&self.root.join(side).join("src").join(folder), &mut hasher);
            }
        }
        hash_tree(
            &self.root.join("tests").join(format!("{id}.rs")),
            &mut hasher,
        );
        hasher.finish()
    }
}

/// Hashes the path, size and modification time of `path` and every file under it.
fn hash_tree(path: &Path, hasher: &mut DefaultHasher) {
    let Ok(meta) = fs::metadata(path) else {
        return;
    };
    if meta.is_dir() {
        let Ok(entries) = fs::read_dir(path) else {
            return;
        };
        let mut children: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        children.sort();
        for child in children {
            hash_tree(&child, hasher);
        }
    } else {
        path.hash(hasher);
        meta.len().hash(hasher);
        if let Ok(modified) = meta.modified() {
            modified
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .hash(hasher);
        }
    }
}

/// What is known about one chapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Its tests ran: each test's name and whether it passed.
    Ran {
        tests: Vec<(String, bool)>,
        timed_out: bool,
    },
    /// It does not compile: the compiler's first error line.
    NotCompiled { error: String },
}

#[derive(Debug, Clone)]
pub struct ChapterState {
    pub fingerprint: u64,
    pub outcome: Outcome,
}

/// An exercise's state, from its chapter's last results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExState {
    Done,
    Failing { passed: usize, total: usize },
    NotRun,
    NotCompiled,
}

/// The last known results of every chapter.
#[derive(Debug, Default)]
pub struct Progress {
    pub chapters: BTreeMap<String, ChapterState>,
    /// A build error that no chapter's files explain (say, in the course's own code).
    pub other_error: Option<String>,
}

impl Progress {
    fn file(course: &Course) -> PathBuf {
        course
            .state_dir()
            .join(format!("progress-{}.txt", course.side()))
    }

    /// The results saved by the last run (empty if none).
    pub fn load(course: &Course) -> Progress {
        let mut progress = Progress::default();
        let Ok(text) = fs::read_to_string(Self::file(course)) else {
            return progress;
        };
        let mut current: Option<(String, ChapterState)> = None;
        for line in text.lines() {
            let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
            match kind {
                "chapter" => {
                    if let Some((id, state)) = current.take() {
                        progress.chapters.insert(id, state);
                    }
                    let mut parts = rest.splitn(4, ' ');
                    let (Some(id), Some(fp), Some(how)) =
                        (parts.next(), parts.next(), parts.next())
                    else {
                        continue;
                    };
                    let Ok(fingerprint) = fp.parse() else {
                        continue;
                    };
                    let outcome = match how {
                        "compile-error" => Outcome::NotCompiled {
                            error: parts.next().unwrap_or("").to_string(),
                        },
                        timed => Outcome::Ran {
                            tests: Vec::new(),
                            timed_out: timed == "timed-out",
                        },
                    };
                    current = Some((
                        id.to_string(),
                        ChapterState {
                            fingerprint,
                            outcome,
                        },
                    ));
                }
                "ok" | "failed" => {
                    if let Some((
                        _,
                        ChapterState {
                            outcome: Outcome::Ran { tests, .. },
                            ..
                        },
                    )) = &mut current
                    {
                        tests.push((rest.to_string(), kind == "ok"));
                    }
                }
                _ => {}
            }
        }
        if let Some((id, state)) = current {
            progress.chapters.insert(id, state);
        }
        progress
    }

    fn save(&self, course: &Course) {
        let mut text = String::new();
        for (id, state) in &self.chapters {
            match &state.outcome {
                Outcome::NotCompiled { error } => text.push_str(&format!(
                    "chapter {id} {} compile-error {}\n",
                    state.fingerprint,
                    error.replace('\n', " ")
                )),
                Outcome::Ran { tests, timed_out } => {
                    let how = if *timed_out { "timed-out" } else { "ran" };
                    text.push_str(&format!("chapter {id} {} {how}\n", state.fingerprint));
                    for (name, ok) in tests {
                        text.push_str(&format!("{} {name}\n", if *ok { "ok" } else { "failed" }));
                    }
                }
            }
        }
        let _ = fs::create_dir_all(course.state_dir());
        let _ = fs::write(Self::file(course), text);
    }

    /// The saved results, with every chapter whose files changed since run again. `note` is
    /// told what is happening (for a line on stderr while the learner waits).
    pub fn refresh(course: &Course, note: &mut dyn FnMut(String)) -> Result<Progress, String> {
        let mut progress = Progress::load(course);
        progress.other_error = None;
        let stale: Vec<(&Chapter, u64)> = course
            .chapters()
            .into_iter()
            .map(|c| (c, course.fingerprint(c.id)))
            .filter(|(c, fp)| {
                progress
                    .chapters
                    .get(c.id)
                    .is_none_or(|state| state.fingerprint != *fp)
            })
            .collect();
        if stale.is_empty() {
            return Ok(progress);
        }

        note(course_catalog::text("course.building").to_string());
        let built = build(course, &course.chapters())?;
        let executables = match built {
            Build::Failed { errors, first } => {
                for (chapter, fingerprint) in &stale {
                    if let Some(error) = errors.get(chapter.id) {
                        progress.chapters.insert(
                            chapter.id.to_string(),
                            ChapterState {
                                fingerprint: *fingerprint,
                                outcome: Outcome::NotCompiled {
                                    error: error.clone(),
                                },
                            },
                        );
                    }
                }
                if errors.is_empty() {
                    progress.other_error = Some(first);
                }
                progress.save(course);
                return Ok(progress);
            }
            Build::Ok(executables) => executables,
        };

        for (chapter, fingerprint) in stale {
            let Some(exe) = executables.get(chapter.id) else {
                continue;
            };
            note(course_catalog::fill(
                "course.checking",
                &[("chapter", &chapter.number)],
            ));
            let outcome = run_chapter(course, chapter, exe)?;
            progress.chapters.insert(
                chapter.id.to_string(),
                ChapterState {
                    fingerprint,
                    outcome,
                },
            );
            progress.save(course);
        }
        Ok(progress)
    }

    /// What the last results say about `exercise`.
    pub fn state(&self, exercise: &Exercise) -> ExState {
        match self.chapters.get(exercise.chapter).map(|s| &s.outcome) {
            None => ExState::NotRun,
            Some(Outcome::NotCompiled { .. }) => ExState::NotCompiled,
            Some(Outcome::Ran { tests, .. }) => {
                let mine: Vec<bool> = tests
                    .iter()
                    .filter(|(name, _)| exercise.grades(name))
                    .map(|(_, ok)| *ok)
                    .collect();
                let passed = mine.iter().filter(|ok| **ok).count();
                if !mine.is_empty() && passed == mine.len() {
                    ExState::Done
                } else if mine.is_empty() {
                    // Its tests did not run (a chapter stopped by the time limit, say).
                    ExState::NotRun
                } else {
                    ExState::Failing {
                        passed,
                        total: mine.len(),
                    }
                }
            }
        }
    }

    /// The names of `exercise`'s failing tests.
    pub fn failing(&self, exercise: &Exercise) -> Vec<String> {
        match self.chapters.get(exercise.chapter).map(|s| &s.outcome) {
            Some(Outcome::Ran { tests, .. }) => tests
                .iter()
                .filter(|(name, ok)| !ok && exercise.grades(name))
                .map(|(name, _)| name.clone())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The first exercise of the course that is not done.
    pub fn next(&self, course: &Course) -> Option<&'static Exercise> {
        course
            .exercises()
            .into_iter()
            .find(|e| self.state(e) != ExState::Done)
    }

    /// (passed, total) tests of chapter `id`.
    pub fn chapter_tests(&self, id: &str) -> Option<(usize, usize)> {
        match self.chapters.get(id).map(|s| &s.outcome) {
            Some(Outcome::Ran { tests, .. }) => {
                Some((tests.iter().filter(|(_, ok)| *ok).count(), tests.len()))
            }
            _ => None,
        }
    }
}

enum Build {
    /// Each chapter's test binary.
    Ok(BTreeMap<String, PathBuf>),
    /// The first error line of each chapter whose files have errors, and the first error line.
    Failed {
        errors: BTreeMap<String, String>,
        first: String,
    },
}

/// `cargo test --no-run` for the given chapters.
fn build(course: &Course, chapters: &[&Chapter]) -> Result<Build, String> {
    let mut command = course.cargo();
    command.args(["test", "--no-run", "--message-format", "short"]);
    if course.solutions {
        command.args(["--features", "solutions"]);
    }
    for chapter in chapters {
        command.args(["--test", chapter.id]);
    }
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| course_catalog::fill("course.cargo_failed", &[("error", &e)]))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        let mut executables = BTreeMap::new();
        for line in stderr.lines() {
            // `  Executable tests/ch01_addresses.rs (target/debug/deps/ch01_addresses-1a2b)`
            let Some(rest) = line.trim_start().strip_prefix("Executable ") else {
                continue;
            };
            let Some((source, exe)) = rest.split_once(" (") else {
                continue;
            };
            // Windows writes `tests\ch01_addresses.rs`.
            let source = source.replace('\\', "/");
            let Some(id) = source
                .strip_prefix("tests/")
                .and_then(|s| s.strip_suffix(".rs"))
            else {
                continue;
            };
            let exe = PathBuf::from(exe.trim_end_matches(')'));
            let exe = if exe.is_absolute() {
                exe
            } else {
                course.root.join(exe)
            };
            executables.insert(id.to_string(), exe);
        }
        return Ok(Build::Ok(executables));
    }
    Ok(compile_errors(&stderr, &course.chapters()))
}

/// Reads `--message-format short` output: `path:line:col: error[E0308]: message`.
fn compile_errors(stderr: &str, chapters: &[&Chapter]) -> Build {
    let mut errors = BTreeMap::new();
    let mut first = None;
    for line in stderr.lines() {
        let is_error = line.contains(": error") || line.starts_with("error");
        if !is_error || line.starts_with("error: could not compile") {
            continue;
        }
        if first.is_none() {
            first = Some(line.to_string());
        }
        let path = line.split(':').next().unwrap_or("").replace('\\', "/");
        // An error in an exercise's file belongs to that exercise's chapter; otherwise to
        // the chapter whose folder or test file holds it.
        let owner = EXERCISES
            .iter()
            .find(|e| path.ends_with(e.file))
            .map(|e| e.chapter);
        for chapter in chapters {
            let in_chapter = match owner {
                Some(owner) => owner == chapter.id,
                None => {
                    path.contains(&format!("/{}/", chapter.id))
                        || path.ends_with(&format!("tests/{}.rs", chapter.id))
                }
            };
            if in_chapter {
                errors
                    .entry(chapter.id.to_string())
                    .or_insert_with(|| line.to_string());
            }
        }
    }
    Build::Failed {
        errors,
        first: first.unwrap_or_else(|| {
            stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .to_string()
        }),
    }
}

/// Runs one chapter's test binary and reads its log.
fn run_chapter(course: &Course, chapter: &Chapter, exe: &Path) -> Result<Outcome, String> {
    let dir = course.state_dir();
    let _ = fs::create_dir_all(&dir);
    let log = dir.join(format!("{}.log", chapter.id));
    let _ = fs::remove_file(&log);
    // What the tests print goes to a file the learner can read; the results come from the log.
    let out =
        fs::File::create(dir.join(format!("{}.out", chapter.id))).map_err(|e| e.to_string())?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .arg("--logfile")
        .arg(&log)
        .current_dir(&course.root)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| course_catalog::fill("course.cargo_failed", &[("error", &e)]))?;
    let started = Instant::now();
    let mut timed_out = false;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > CHAPTER_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                timed_out = true;
                break;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
    let text = fs::read_to_string(&log).unwrap_or_default();
    Ok(Outcome::Ran {
        tests: parse_log(&text),
        timed_out,
    })
}

/// libtest's log: `ok NAME`, `failed NAME`, `ignored NAME` (and `failed (time limit
/// exceeded) NAME` on some versions) per test.
pub fn parse_log(text: &str) -> Vec<(String, bool)> {
    let mut tests = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("ok ") {
            tests.push((name.trim().to_string(), true));
        } else if let Some(rest) = line.strip_prefix("failed ") {
            let name = rest.rsplit(") ").next().unwrap_or(rest);
            tests.push((name.trim().to_string(), false));
        }
    }
    tests
}

/// Writes `text` to `path`, creating its folder.
pub fn write_state(path: &Path, text: &str) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, text)
}
