//! Running the chapters' tests and remembering the results.
//!
//! A chapter is run again only when one of its files changed (its exercise folder, its test
//! file, or what every chapter shares: the switch, the programs, the harness, the manifests);
//! the fingerprint of those files (path, size, modification time) is stored with its results
//! in `.course/` at the course's root (git-ignored; `cargo clean` keeps it). A run builds the
//! stale chapters' test binaries (`cargo test --no-run`, see [`crate::build`]) and runs each
//! with `--logfile`: libtest writes one `ok NAME` or `failed NAME` line per test there, which
//! learner code cannot fake by printing.
//!
//! When a chapter's files do not compile, that chapter is marked with the compiler's first
//! error (file:line: message), and the other stale chapters are built and run in a copy of
//! the course (`target/course/shadow/`) where the broken chapters are put back to their
//! committed stubs: a broken chapter costs that chapter only.
//!
//! A chapter whose tests need a cargo feature of their own (chapter 10's TLS and QUIC crates:
//! rustls, ring, quinn) is deferred: it is not built until the learner gets there (every
//! exercise before it done) or asks for it (`cargo run -- progress 10`, or choosing one of its
//! exercises in `watch`), so the first `cargo run` of a learner on chapter 1 compiles none of
//! those crates. Once it has results it is kept up to date like the others.

use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, UNIX_EPOCH};

use course_catalog::exercises::{CHAPTERS, Chapter, EXERCISES, Exercise};

use crate::build::{self, BuildError, Cargo, Step, chapter_number};
use crate::shadow::{shadow_build, shadow_env};

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

    /// `.course/` at the root: results, test output and hint steps (git-ignored, and kept by
    /// `cargo clean`).
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".course")
    }

    /// The target folder cargo uses for this course.
    pub fn target_dir(&self) -> PathBuf {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|t| {
                if t.is_absolute() {
                    t
                } else {
                    self.root.join(t)
                }
            })
            .unwrap_or_else(|| self.root.join("target"))
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

    /// The saved results, with every chapter whose files changed since run again. `only`
    /// limits the chapters looked at (`watch` runs the current exercise's chapter only);
    /// `force` runs them even when nothing changed. `note` is told what is happening.
    ///
    /// A chapter that needs a feature of its own (chapter 10's TLS crates) is not built
    /// before the learner gets there ([`Progress::deferred`]), unless `asked` or `only`
    /// names it: a learner on chapters 1-9 never compiles rustls, ring or quinn. When the
    /// chapters run here bring the learner there, it is built right after them.
    pub fn refresh(
        course: &Course,
        only: Option<&[&str]>,
        asked: &[&str],
        force: bool,
        note: &mut dyn FnMut(Note),
    ) -> Result<Progress, String> {
        let mut progress = Progress::load(course);
        progress.other_error = None;
        let stale: Vec<(&Chapter, u64)> = course
            .chapters()
            .into_iter()
            .filter(|c| only.is_none_or(|only| only.contains(&c.id)))
            .map(|c| (c, course.fingerprint(c.id)))
            .filter(|(c, fp)| {
                force
                    || progress
                        .chapters
                        .get(c.id)
                        .is_none_or(|state| state.fingerprint != *fp)
            })
            .collect();
        let wanted = |c: &Chapter| asked.contains(&c.id) || only.is_some_and(|o| o.contains(&c.id));
        let (later, now): (Vec<_>, Vec<_>) = stale
            .into_iter()
            .partition(|(c, _)| !wanted(c) && progress.deferred(course, c));
        progress.build_and_run(course, now, note)?;
        if progress.other_error.is_some() {
            return Ok(progress);
        }
        // The chapters just run may have brought the learner to a deferred chapter.
        let reached: Vec<_> = later
            .into_iter()
            .filter(|(c, _)| !progress.deferred(course, c))
            .collect();
        progress.build_and_run(course, reached, note)?;
        Ok(progress)
    }

    /// Whether chapter `chapter` is left unbuilt for now: it needs a cargo feature of its own
    /// (see `course_catalog::exercises::CHAPTER_FEATURES`), it has no results yet, and some
    /// exercise of the chapters before it is not done (the learner has not got there: the
    /// next exercise, [`Progress::next`], is in an earlier chapter).
    pub fn deferred(&self, course: &Course, chapter: &Chapter) -> bool {
        if course_catalog::exercises::chapter_features(chapter.id).is_none()
            || self.chapters.contains_key(chapter.id)
        {
            return false;
        }
        let order = |id: &str| CHAPTERS.iter().position(|c| c.id == id);
        self.next(course)
            .is_some_and(|next| order(next.chapter) < order(chapter.id))
    }

    /// The chapters of the course that are deferred now (see [`Progress::deferred`]).
    pub fn deferred_chapters(&self, course: &Course) -> Vec<&'static Chapter> {
        course
            .chapters()
            .into_iter()
            .filter(|c| self.deferred(course, c))
            .collect()
    }

    /// Builds the test binaries of `stale` and runs them, keeping the results.
    fn build_and_run(
        &mut self,
        course: &Course,
        stale: Vec<(&Chapter, u64)>,
        note: &mut dyn FnMut(Note),
    ) -> Result<(), String> {
        let progress = self;
        if stale.is_empty() {
            return Ok(());
        }

        let ids: Vec<&str> = stale.iter().map(|(c, _)| c.id).collect();
        let cargo = Cargo {
            dir: &course.root,
            solutions: course.solutions,
            env: Vec::new(),
            remove: &[],
            wrap: None,
            limit: None,
        };
        let built = build::test_binaries(&cargo, &ids, &mut |step| note(Note::Build(step)));
        let (executables, broken, dir) = match built {
            Ok(executables) => (executables, BTreeMap::new(), course.root.clone()),
            // The runner sets no build limit; a timed-out build reads as any other failure.
            Err(BuildError::TimedOut(limit)) => {
                progress.other_error = Some(format!("build timed out after {limit:?}"));
                progress.save(course);
                return Ok(());
            }
            Err(BuildError::Other(message)) => {
                progress.other_error = Some(message);
                progress.save(course);
                return Ok(());
            }
            Err(BuildError::Chapters(broken)) => {
                // Mark the broken chapters now: the copy below may take a while.
                progress.mark_broken(&stale, &broken);
                progress.save(course);
                let others: Vec<&str> = stale
                    .iter()
                    .filter(|(c, _)| !chapter_number(c.id).is_some_and(|n| broken.contains_key(n)))
                    .map(|(c, _)| c.id)
                    .collect();
                if others.is_empty() {
                    return Ok(());
                }
                note(Note::Shadow);
                match shadow_build(course, &others, broken, &mut |step| note(Note::Build(step))) {
                    Ok((built, shadow)) => (built.executables, built.broken, shadow),
                    Err(message) => {
                        progress.other_error = Some(message);
                        progress.save(course);
                        return Ok(());
                    }
                }
            }
        };
        progress.mark_broken(&stale, &broken);
        progress.save(course);

        for (chapter, fingerprint) in stale {
            let Some(exe) = executables.get(chapter.id) else {
                continue;
            };
            note(Note::Running(chapter));
            let outcome = run_chapter(course, &dir, chapter, exe)?;
            progress.chapters.insert(
                chapter.id.to_string(),
                ChapterState {
                    fingerprint,
                    outcome,
                },
            );
            progress.save(course);
        }
        Ok(())
    }

    /// Marks the chapters of `stale` whose number is in `broken` as not compiling.
    fn mark_broken(&mut self, stale: &[(&Chapter, u64)], broken: &BTreeMap<String, String>) {
        for (chapter, fingerprint) in stale {
            let Some(error) = chapter_number(chapter.id).and_then(|n| broken.get(n)) else {
                continue;
            };
            self.chapters.insert(
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

    /// How many of `exercise`'s tests ran last time.
    pub fn tests_of(&self, exercise: &Exercise) -> usize {
        match self.chapters.get(exercise.chapter).map(|s| &s.outcome) {
            Some(Outcome::Ran { tests, .. }) => tests
                .iter()
                .filter(|(name, _)| exercise.grades(name))
                .count(),
            _ => 0,
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

    /// The first exercise of the course that is not done. "Go further" exercises
    /// ([`Exercise::optional`]) are never next: they do not block the way on.
    pub fn next(&self, course: &Course) -> Option<&'static Exercise> {
        course
            .exercises()
            .into_iter()
            .find(|e| !e.optional && self.state(e) != ExState::Done)
    }

    /// The "go further" exercises that are not done yet.
    pub fn optional_left(&self, course: &Course) -> usize {
        course
            .exercises()
            .into_iter()
            .filter(|e| e.optional && self.state(e) != ExState::Done)
            .count()
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

/// What [`Progress::refresh`] tells its caller while it works.
pub enum Note<'a> {
    /// cargo is building.
    Build(Step<'a>),
    /// Some chapters do not compile: the others are built in a copy of the course.
    Shadow,
    /// A chapter's tests are running.
    Running(&'a Chapter),
}

/// Runs one chapter's test binary (built in `dir`) and reads its log.
fn run_chapter(
    course: &Course,
    dir: &Path,
    chapter: &Chapter,
    exe: &Path,
) -> Result<Outcome, String> {
    let state = course.state_dir();
    let _ = fs::create_dir_all(&state);
    let log = state.join(format!("{}.log", chapter.id));
    let _ = fs::remove_file(&log);
    // What the tests print goes to a file the learner can read (and `cargo run` shows the
    // first failure from it); the results come from the log.
    let out =
        fs::File::create(state.join(format!("{}.out", chapter.id))).map_err(|e| e.to_string())?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut command = Command::new(exe);
    command
        .arg("--logfile")
        .arg(&log)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        // The failure messages without a backtrace: `cargo run` shows them.
        .env("RUST_BACKTRACE", "0");
    if dir != course.root {
        command.envs(shadow_env(course));
    }
    let mut child = command
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

/// The message of failing test `name` from what chapter `id`'s tests printed (libtest's
/// `---- NAME stdout ----` section), without libtest's backtrace note.
pub fn failure_message(course: &Course, id: &str, name: &str) -> Option<String> {
    let out = fs::read_to_string(course.state_dir().join(format!("{id}.out"))).ok()?;
    let header = format!("---- {name} stdout ----");
    let start = out.find(&header)? + header.len();
    let rest = &out[start..];
    let end = [rest.find("\n---- "), rest.find("\nfailures:\n")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    let text: Vec<&str> = rest[..end]
        .lines()
        .filter(|l| !l.starts_with("note: run with `RUST_BACKTRACE"))
        .collect();
    let text = text.join("\n").trim().to_string();
    (!text.is_empty()).then_some(text)
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
pub fn write_state(path: &Path, text: impl AsRef<[u8]>) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, text)
}
