//! `course grade`: grades learners' clones from a pristine copy of the course, each
//! submission in a sandbox of its own.
//!
//! A submission contributes only its `exercises/src/chNN_*/` files. Everything else (tests,
//! harness, Cargo.toml and its feature defaults, the reference the programs use) comes from
//! this repository's committed tree (`git archive HEAD`), extracted once into
//! `target/grade/pristine`. Per submission:
//! 1. a fresh copy of `exercises/` with its chapter folders (symbolic links anywhere in
//!    `exercises/` are flagged and not followed; a text scan flags `include!`-like macros,
//!    `#[path]`, `process::exit`, `exec` and `env::args` early, in plain words);
//! 2. the build, in the sandbox ([`sandbox`]): the shared dependency build (`target/grade/base`,
//!    built once per commit) read-only under a fresh writable layer; chapters rustc names are
//!    put back to their stubs until the rest compiles; a time limit;
//! 3. the compiler's own list of the exercises crate's source files (cargo's dep-info) must lie
//!    in `exercises/src/`: a chapter that pulls in any other file is graded as its stub;
//! 4. each chapter's tests, in a sandbox of their own, one process per test ([`supervise`]),
//!    chapters in parallel, with a time limit; results come from the supervisor's answers keyed
//!    by a secret, never from what the tests print or write;
//! 5. everything of the submission is removed; the report is written when every sandbox is gone.
//!
//! Where namespaces are not available, the grader says so, grades the same way without the
//! sandbox (a fresh copy of the whole course per submission, its own target folder per job)
//! and marks every result `sandboxed: false`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::build::{Cargo, chapter_dirs, chapter_number, sync_tree};

mod chapter;
mod report;
mod sandbox;
mod scan;
mod submission;
mod supervise;

pub use report::render;
use sandbox::{Mounts, Sandbox};
use scan::modified_outside_exercises;
use submission::grade_one;

#[derive(clap::Args, Debug)]
pub struct GradeArgs {
    /// Learners' clones. A folder whose subfolders are clones is a class. Default: this
    /// repository.
    pub submissions: Vec<PathBuf>,
    /// Grade only these chapters (`ch02` or `ch02_udp`; repeat the flag for more).
    #[arg(long)]
    pub chapter: Vec<String>,
    /// How to print the results (repeat with as many `--out` files for several formats from
    /// one grading: `--format json --out g.json --format junit --out g.xml`).
    #[arg(long, value_enum)]
    pub format: Vec<Format>,
    /// Write the results to this file instead of standard output (one per `--format`).
    #[arg(long)]
    pub out: Vec<PathBuf>,
    /// How many submissions to grade at once (each job has its own work folder).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// Time limit for one chapter's tests, in seconds; a chapter that hangs scores the tests
    /// that finished.
    #[arg(long, default_value = "300", value_parser = |s: &str| course_catalog::seconds(s, true))]
    pub timeout: Duration,
    /// Time limit for one submission's build, in seconds.
    #[arg(long, default_value = "600", value_parser = |s: &str| course_catalog::seconds(s, true))]
    pub build_timeout: Duration,
    /// Memory limit per sandbox in MiB (where cgroup v1 is writable: as root).
    #[arg(long, default_value_t = 4096)]
    pub memory: u64,
    /// Grade without the sandbox even where it is available (results marked unsandboxed).
    #[arg(long)]
    pub no_sandbox: bool,
    /// Remove target/grade (the pristine copy, the shared build, the job folders) and exit.
    #[arg(long)]
    pub clean: bool,
    /// Exit with 1 unless every graded test passed (for CI and GitHub Classroom steps); the
    /// tests of "go further" exercises are reported but not required.
    #[arg(long)]
    pub require_all: bool,
    /// Check the sandbox on this machine (namespaces, network, read-only course, no /proc,
    /// limits) and exit: 0 if it holds, 1 if it does not, 3 if there is no sandbox here.
    #[arg(long)]
    pub sandbox_check: bool,
    /// (internal) The probe that `--sandbox-check` runs inside the sandbox.
    #[arg(long, hide = true)]
    pub sandbox_probe: bool,
    /// (internal) The probe also checks the memory limit.
    #[arg(long, hide = true)]
    pub sandbox_probe_memory: bool,
    /// (internal) Allocate this many MiB (the memory limit's probe).
    #[arg(long, hide = true)]
    pub sandbox_probe_alloc: Option<usize>,
    /// (internal) Run as the test supervisor inside a sandbox, for this test binary.
    #[arg(long, hide = true)]
    pub supervise: Option<PathBuf>,
    /// (internal) Tests the supervisor runs at once.
    #[arg(long, hide = true, default_value_t = 4)]
    pub supervise_jobs: usize,
    /// (internal) Time limit for one test, in seconds.
    #[arg(long, hide = true, default_value_t = 60)]
    pub supervise_limit: u64,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
    Junit,
}

/// One chapter's result (one `tests/chNN_*.rs` file).
#[derive(Debug, Clone, Default)]
pub struct ChapterResult {
    pub chapter: String,
    pub passed: usize,
    /// Tests the chapter run executes (`#[ignore]`d ones are not counted).
    pub total: usize,
    pub compiled: bool,
    pub timed_out: bool,
    /// A file of the chapter pulled in code from outside exercises/src: graded as its stub.
    pub flagged: bool,
    /// Why the chapter earned nothing (its first compile error, a missing mod.rs, ...).
    pub error: Option<String>,
    /// Each test's name and whether it passed (for JUnit).
    pub tests: Vec<(String, bool)>,
}

impl ChapterResult {
    /// Whether the test `name` grades a "go further" exercise of this chapter (the table's
    /// `optional`): reported, never required by `--require-all`.
    pub fn is_optional(&self, name: &str) -> bool {
        course_catalog::exercises::of_chapter(&self.chapter).any(|e| e.optional && e.grades(name))
    }

    /// (passed, total) of the tests of the "go further" exercises.
    pub fn optional(&self) -> (usize, usize) {
        let optional = self.tests.iter().filter(|(name, _)| self.is_optional(name));
        let (passed, total) =
            optional.fold((0, 0), |(p, t), (_, ok)| (p + usize::from(*ok), t + 1));
        (passed, total)
    }
}

/// One submission's result.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    pub path: PathBuf,
    pub chapters: Vec<ChapterResult>,
    pub modified_outside_exercises: Vec<String>,
    pub flagged: Vec<String>,
    /// Exercise files that are near-copies of the reference: `file: NN % similar`.
    pub similar: Vec<String>,
    /// Why nothing could be graded (a bad path, a build that timed out, ...).
    pub error: Option<String>,
    /// Graded in the sandbox.
    pub sandboxed: bool,
    pub seconds: f64,
    /// Of which building (the exercises crate, the chapter tests, the programs).
    pub build_seconds: f64,
}

impl Submission {
    fn passed(&self) -> usize {
        self.chapters.iter().map(|c| c.passed).sum()
    }
    fn total(&self) -> usize {
        self.chapters.iter().map(|c| c.total).sum()
    }
    /// (passed, total) without the "go further" exercises' tests: what `--require-all`
    /// requires.
    fn required(&self) -> (usize, usize) {
        let (passed, total) = (self.passed(), self.total());
        self.chapters.iter().map(|c| c.optional()).fold(
            (passed, total),
            |(p, t), (optional_passed, optional_total)| (p - optional_passed, t - optional_total),
        )
    }
}

/// A class's results, and how they were obtained.
pub struct Class {
    pub submissions: Vec<Submission>,
    /// The sandbox used, or why there was none.
    pub sandbox: Result<String, String>,
}

/// Runs `course grade` for the course repository at `root`.
pub fn run(root: &Path, args: &GradeArgs) -> ExitCode {
    if args.clean {
        let dir = root.join("target").join("grade");
        return match fs::remove_dir_all(&dir) {
            Ok(()) => {
                eprintln!("removed {}", dir.display());
                ExitCode::SUCCESS
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot remove {}: {e}", dir.display());
                ExitCode::from(1)
            }
        };
    }
    let formats = if args.format.is_empty() {
        vec![Format::Table]
    } else {
        args.format.clone()
    };
    if args.out.len() > 1 && args.out.len() != formats.len() {
        eprintln!("error: give one --out per --format");
        return ExitCode::from(2);
    }
    match grade(root, args) {
        Ok(class) => {
            // Written only now: every sandbox of the class has ended.
            for (i, format) in formats.iter().enumerate() {
                let text = render(&class, *format);
                match args.out.get(i) {
                    Some(path) => {
                        if let Err(e) = fs::write(path, &text) {
                            eprintln!("error: cannot write {}: {e}", path.display());
                            return ExitCode::from(1);
                        }
                    }
                    None => print!("{text}"),
                }
            }
            if !args.out.is_empty() || formats != [Format::Table] {
                eprintln!("{}", report::summary(&class));
            }
            // "Go further" exercises are reported, not required.
            let all = class.submissions.iter().all(|s| {
                let (passed, total) = s.required();
                s.error.is_none() && total > 0 && passed == total
            });
            if args.require_all && !all {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// The supervisor entry point (`course grade --supervise EXE`), before the course is looked for.
pub fn supervise_main(args: &GradeArgs) -> Option<ExitCode> {
    if let Some(mib) = args.sandbox_probe_alloc {
        return Some(sandbox::allocate(mib));
    }
    if args.sandbox_probe {
        return Some(sandbox::probe(args.sandbox_probe_memory));
    }
    if args.sandbox_check {
        return Some(sandbox::check(args.memory));
    }
    let exe = args.supervise.as_ref()?;
    Some(supervise::main(
        exe,
        args.supervise_jobs,
        Duration::from_secs(args.supervise_limit),
    ))
}

/// What every job shares.
struct Context {
    pristine: PathBuf,
    chapters: Vec<String>,
    /// The shared build's test binaries (stubs), by test file stem: an untouched chapter is
    /// listed from these, not rebuilt.
    base_executables: std::collections::BTreeMap<String, PathBuf>,
    sandbox: Option<Sandbox>,
    base: PathBuf,
    /// The reference's sources emptied (times kept), shown to test runs instead of them.
    blank_reference: PathBuf,
    timeout: Duration,
    build_timeout: Duration,
    stub_dirs: Vec<String>,
}

/// Grades every submission named by `args`.
pub fn grade(root: &Path, args: &GradeArgs) -> Result<Class, String> {
    let submissions = expand_submissions(root, &args.submissions);
    let grade_dir = root.join("target").join("grade");
    let pristine = grade_dir.join("pristine");
    extract_pristine(root, &pristine)?;
    let chapters = chapter_tests(&pristine, &args.chapter)?;
    if chapters.is_empty() {
        return Err(format!("no chapter matches `{}`", args.chapter.join(" ")));
    }
    let sandbox = if args.no_sandbox {
        Err("--no-sandbox".to_string())
    } else {
        Sandbox::detect(args.memory)
    };
    match &sandbox {
        Ok(s) => eprintln!("sandbox: {}", s.description),
        Err(why) => eprintln!(
            "warning: no sandbox ({why}): grading without one; results are marked unsandboxed"
        ),
    }
    let mut ctx = Context {
        base_executables: Default::default(),
        stub_dirs: chapter_dirs(&pristine.join("exercises").join("src")),
        pristine: pristine.clone(),
        chapters,
        sandbox: sandbox.as_ref().ok().cloned(),
        base: grade_dir.join("base"),
        blank_reference: grade_dir.join("blank-reference"),
        timeout: args.timeout,
        build_timeout: args.build_timeout,
    };
    if ctx.sandbox.is_some() {
        ctx.base_executables = build_base(&ctx, &grade_dir)?;
        let _ = fs::remove_dir_all(&ctx.blank_reference);
        sandbox::blank_copy(&pristine.join("solutions/src"), &ctx.blank_reference)
            .map_err(|e| format!("cannot prepare the blank reference: {e}"))?;
    }
    let ctx = Arc::new(ctx);

    // A stack popped from the end: reversed, so submissions are graded in the order given.
    let total = submissions.len();
    let queue = Arc::new(Mutex::new(
        submissions
            .into_iter()
            .enumerate()
            .rev()
            .collect::<Vec<_>>(),
    ));
    let results = Arc::new(Mutex::new(Vec::new()));
    let jobs = usize::from(args.jobs).min(total.max(1));
    let started = Instant::now();
    let mut workers = Vec::new();
    for job in 0..jobs {
        let (queue, results, ctx) = (Arc::clone(&queue), Arc::clone(&results), Arc::clone(&ctx));
        let work = grade_dir.join(format!("job-{job}"));
        workers.push(thread::spawn(move || {
            loop {
                let next = queue.lock().unwrap().pop();
                let Some((index, (path, problem))) = next else {
                    // Sandboxed, nothing of a job outlives the run. Without the sandbox the
                    // job's target folder stays (a cold build costs minutes).
                    if ctx.sandbox.is_some() {
                        let _ = fs::remove_dir_all(&work);
                    }
                    return;
                };
                let result = match problem {
                    Some(error) => Submission {
                        path,
                        error: Some(error),
                        sandboxed: ctx.sandbox.is_some(),
                        ..Default::default()
                    },
                    None => grade_one(&ctx, &work, &path),
                };
                let mut results = results.lock().unwrap();
                results.push((index, result));
                let done = results.len();
                let elapsed = started.elapsed().as_secs_f64();
                let left = elapsed / done as f64 * (total - done) as f64;
                let last = &results[done - 1].1;
                eprintln!(
                    "[{done}/{total}] {}: {}/{} in {:.1} s (build {:.1} s); elapsed {elapsed:.0} s, about {left:.0} s left",
                    last.path.display(),
                    last.passed(),
                    last.total(),
                    last.seconds,
                    last.build_seconds
                );
            }
        }));
    }
    for worker in workers {
        worker.join().map_err(|_| "a grading job panicked")?;
    }
    let mut results = Arc::try_unwrap(results).unwrap().into_inner().unwrap();
    results.sort_by_key(|(index, _)| *index);
    Ok(Class {
        submissions: results.into_iter().map(|(_, r)| r).collect(),
        sandbox: sandbox.map(|s| s.description),
    })
}

/// The submissions, each with the reason it cannot be graded (if any): each named folder, or
/// for a class folder (one that is not itself a clone) each of its subfolders. A path that is
/// not a folder, a subfolder that is not a clone (empty, nested one level deeper) and an empty
/// class are listed with the reason; hidden folders (`.git`) are left out.
fn expand_submissions(root: &Path, named: &[PathBuf]) -> Vec<(PathBuf, Option<String>)> {
    if named.is_empty() {
        return vec![(root.to_path_buf(), None)];
    }
    // `exercises` as it is (a symbolic link counts: it is flagged, not followed).
    let is_clone = |p: &Path| fs::symlink_metadata(p.join("exercises")).is_ok();
    let mut out = Vec::new();
    for path in named {
        if !path.is_dir() {
            out.push((
                path.clone(),
                Some(format!("{} is not a folder (skipped)", path.display())),
            ));
            continue;
        }
        if is_clone(path) {
            out.push((path.clone(), None));
            continue;
        }
        let mut members: Vec<PathBuf> = fs::read_dir(path)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        members.sort();
        if members.is_empty() {
            out.push((
                path.clone(),
                Some("neither a clone of the course (no exercises/) nor a class folder of clones (skipped)".into()),
            ));
        }
        for member in members {
            let problem = (!is_clone(&member)).then(|| {
                "not a clone of the course: no exercises/ (an empty folder, or clones nested one level deeper; skipped)".to_string()
            });
            out.push((member, problem));
        }
    }
    out
}

/// Extracts the committed tree (`git archive HEAD`) of the course at `root` into `pristine`,
/// unless it already holds that commit. Returns the commit. Files that did not change keep
/// their modification time, so the shared build redoes only what a new commit changed.
fn extract_pristine(root: &Path, pristine: &Path) -> Result<String, String> {
    let head = command_output(
        Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["rev-parse", "HEAD"]),
    )
    .map_err(|e| format!("the course must be a git clone to grade from (git rev-parse: {e})"))?;
    let head = head.trim().to_string();
    let marker = pristine.with_extension("commit");
    if fs::read_to_string(&marker).is_ok_and(|m| m == head) {
        return Ok(head);
    }
    let fresh = pristine.with_extension("new");
    let _ = fs::remove_dir_all(&fresh);
    fs::create_dir_all(&fresh).map_err(|e| format!("cannot create {}: {e}", fresh.display()))?;
    let archive = pristine.with_extension("tar");
    command_output(
        Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["archive", "--format=tar", "-o"])
            .arg(&archive)
            .arg("HEAD"),
    )?;
    command_output(
        Command::new("tar")
            .arg("-xf")
            .arg(&archive)
            .arg("-C")
            .arg(&fresh),
    )?;
    let _ = fs::remove_file(&archive);
    // Where the sandbox mounts the target folder (the pristine tree is mounted read-only).
    fs::create_dir_all(fresh.join("target")).map_err(|e| e.to_string())?;
    sync_tree(&fresh, pristine, &[]).map_err(|e| format!("updating the pristine copy: {e}"))?;
    let _ = fs::remove_dir_all(&fresh);
    fs::write(&marker, &head).map_err(|e| e.to_string())?;
    Ok(head)
}

/// The chapter test files (`tests/chNN_*.rs` stems) of the pristine course, filtered.
fn chapter_tests(pristine: &Path, filter: &[String]) -> Result<Vec<String>, String> {
    let dir = pristine.join("tests");
    let mut stems: Vec<String> = fs::read_dir(&dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".rs")?.to_string();
            chapter_number(&stem).is_some().then_some(stem)
        })
        .filter(|stem| {
            filter.is_empty()
                || filter
                    .iter()
                    .any(|f| stem == f || chapter_number(stem) == Some(f.as_str()))
        })
        .collect();
    stems.sort();
    Ok(stems)
}

/// The programs (`programs/src/bin/NAME.rs`) whose names the graded chapters' tests mention:
/// built before the tests run, since the test sandbox cannot compile.
pub(super) fn programs_used(pristine: &Path, chapters: &[String]) -> Vec<String> {
    let names: Vec<String> = fs::read_dir(pristine.join("programs/src/bin"))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.strip_suffix(".rs").map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    let texts: String = chapters
        .iter()
        .filter_map(|c| fs::read_to_string(pristine.join("tests").join(format!("{c}.rs"))).ok())
        .collect();
    let mut used: Vec<String> = names
        .into_iter()
        .filter(|n| texts.contains(&format!("\"{n}\"")))
        .collect();
    used.sort();
    used
}

/// The shared build (`target/grade/base`): the pristine course's chapter tests and programs,
/// built in the sandbox (paths as the submissions' builds see them), brought up to date at the
/// start of each grading (a few seconds when nothing changed).
fn build_base(
    ctx: &Context,
    grade_dir: &Path,
) -> Result<std::collections::BTreeMap<String, PathBuf>, String> {
    let sandbox = ctx.sandbox.as_ref().expect("sandboxed");
    eprintln!("bringing the shared build up to date (dependencies, stubs) ...");
    let empty = grade_dir.join("empty");
    let _ = fs::create_dir_all(&empty);
    let exercises = ctx.pristine.join("exercises");
    let mounts = Mounts {
        course: &ctx.pristine,
        exercises: &exercises,
        exercises_writable: false,
        lowers: vec![&empty],
        upper: &ctx.base,
        build: true,
        blank_reference: None,
    };
    let wrap = || sandbox.command(&mounts, None, "/toolchain/bin/cargo", &[]);
    let cargo = sandbox_cargo(&ctx.pristine, &wrap, None);
    // Every chapter, whatever this run grades: the next run may grade others.
    let all = chapter_tests(&ctx.pristine, &[])?;
    let names: Vec<&str> = all.iter().map(String::as_str).collect();
    let executables = crate::build::test_binaries(&cargo, &names, &mut |_| {})
        .map_err(|e| format!("the course itself does not build in the sandbox: {e:?}"))?;
    let status = cargo
        .command()
        .args(["build", "--quiet", "-p", "course-programs", "--bins"])
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("the course's programs do not build in the sandbox".into());
    }
    Ok(executables)
}

fn sandbox_cargo<'a>(
    dir: &'a Path,
    wrap: &'a (dyn Fn() -> Command + Sync),
    limit: Option<Duration>,
) -> Cargo<'a> {
    Cargo {
        dir,
        solutions: false,
        env: Vec::new(),
        remove: &[],
        wrap: Some(wrap),
        limit,
    }
}

fn command_output(command: &mut Command) -> Result<String, String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    if !output.status.success() {
        return Err(format!(
            "{:?} failed: {}",
            command.get_program(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::file_chapter;

    #[test]
    fn chapter_names_and_files_map_to_their_chapter_number() {
        assert_eq!(chapter_number("ch03_tcp"), Some("ch03"));
        assert_eq!(chapter_number("ch03"), Some("ch03"));
        assert_eq!(chapter_number("chat"), None);
        assert_eq!(chapter_number("ch3_tcp"), None);
        assert_eq!(
            file_chapter("exercises/src/ch03_tcp/echo.rs").as_deref(),
            Some("ch03")
        );
        assert_eq!(
            file_chapter("/w/tests/ch08_chat.rs").as_deref(),
            Some("ch08")
        );
        assert_eq!(file_chapter("harness/src/show.rs"), None);
    }

    /// A submission that passes every test but those of the "go further" exercises passes
    /// `--require-all`'s check; one that fails a required test does not.
    #[test]
    fn go_further_tests_are_reported_apart_and_not_required() {
        let chapter = |tests: &[(&str, bool)]| ChapterResult {
            chapter: "ch04_many_clients".into(),
            passed: tests.iter().filter(|(_, ok)| *ok).count(),
            total: tests.len(),
            compiled: true,
            tests: tests.iter().map(|(n, ok)| (n.to_string(), *ok)).collect(),
            ..Default::default()
        };
        let solved_required_only = chapter(&[
            ("thread_server::a_quiet_client_holds_up_nobody", true),
            ("events::fifty_clients_at_once", false),
            ("tasks::fifty_clients_at_once", false),
        ]);
        assert!(!solved_required_only.is_optional("thread_server::a_quiet_client_holds_up_nobody"));
        assert!(solved_required_only.is_optional("tasks::fifty_clients_at_once"));
        assert_eq!(solved_required_only.optional(), (0, 2));
        let submission = Submission {
            chapters: vec![solved_required_only],
            ..Default::default()
        };
        assert_eq!(submission.required(), (1, 1));
        let failing_required = Submission {
            chapters: vec![chapter(&[
                ("thread_server::a_quiet_client_holds_up_nobody", false),
                ("tasks::fifty_clients_at_once", true),
            ])],
            ..Default::default()
        };
        assert_eq!(failing_required.required(), (0, 1));
    }
}
