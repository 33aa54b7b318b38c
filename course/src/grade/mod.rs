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

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::build::{
    Cargo, build_with_stubs, chapter_dirs, chapter_number, copy_tree, put_back_stub, sync_tree,
};

mod report;
mod sandbox;
mod scan;
mod supervise;

pub use report::render;
use sandbox::{Mounts, Sandbox};
use scan::{
    foreign_sources, modified_outside_exercises, scan_for_escapes, similarity, symlinks_in,
};

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
    /// Exit with 1 unless every graded test passed (for CI and GitHub Classroom steps).
    #[arg(long)]
    pub require_all: bool,
    /// Check the sandbox on this machine (namespaces, network, read-only course, no /proc,
    /// limits) and exit: 0 if it holds, 1 if it does not, 3 if there is no sandbox here.
    #[arg(long)]
    pub sandbox_check: bool,
    /// (internal) The probe that `--sandbox-check` runs inside the sandbox.
    #[arg(long, hide = true)]
    pub sandbox_probe: bool,
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
}

impl Submission {
    fn passed(&self) -> usize {
        self.chapters.iter().map(|c| c.passed).sum()
    }
    fn total(&self) -> usize {
        self.chapters.iter().map(|c| c.total).sum()
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
            let all = class
                .submissions
                .iter()
                .all(|s| s.error.is_none() && s.total() > 0 && s.passed() == s.total());
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
    if args.sandbox_probe {
        return Some(sandbox::probe());
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
    programs: Vec<String>,
    sandbox: Option<Sandbox>,
    base: PathBuf,
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
    let ctx = Arc::new(Context {
        programs: programs_used(&pristine, &chapters),
        stub_dirs: chapter_dirs(&pristine.join("exercises").join("src")),
        pristine: pristine.clone(),
        chapters,
        sandbox: sandbox.as_ref().ok().cloned(),
        base: grade_dir.join("base"),
        timeout: args.timeout,
        build_timeout: args.build_timeout,
    });
    if ctx.sandbox.is_some() {
        build_base(&ctx, &grade_dir)?;
    }

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
                    let _ = fs::remove_dir_all(&work);
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
                    "[{done}/{total}] {}: {}/{} in {:.1} s; elapsed {elapsed:.0} s, about {left:.0} s left",
                    last.path.display(),
                    last.passed(),
                    last.total(),
                    last.seconds
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
fn programs_used(pristine: &Path, chapters: &[String]) -> Vec<String> {
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
fn build_base(ctx: &Context, grade_dir: &Path) -> Result<(), String> {
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
    };
    let wrap = || sandbox.command(&mounts, None, "/toolchain/bin/cargo", &[]);
    let cargo = sandbox_cargo(&ctx.pristine, &wrap, None);
    // Every chapter, whatever this run grades: the next run may grade others.
    let all = chapter_tests(&ctx.pristine, &[])?;
    let names: Vec<&str> = all.iter().map(String::as_str).collect();
    crate::build::test_binaries(&cargo, &names, &mut |_| {})
        .map_err(|e| format!("the course itself does not build in the sandbox: {e:?}"))?;
    let status = cargo
        .command()
        .args(["build", "--quiet", "-p", "course-programs", "--bins"])
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("the course's programs do not build in the sandbox".into());
    }
    Ok(())
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

/// Copies the pristine `exercises/` to `to`, keeping the files' modification times (cargo then
/// sees an untouched chapter as unchanged).
fn fresh_exercises(pristine: &Path, to: &Path) -> std::io::Result<()> {
    let _ = fs::remove_dir_all(to);
    copy_tree(&pristine.join("exercises"), to, &mut Vec::new())?;
    keep_times(&pristine.join("exercises"), to)
}

fn keep_times(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in fs::read_dir(from)?.flatten() {
        let (a, b) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type()?.is_dir() {
            keep_times(&a, &b)?;
        } else if let Ok(modified) = entry.metadata()?.modified() {
            if fs::read(&a).ok() == fs::read(&b).ok() {
                let _ = fs::File::options()
                    .write(true)
                    .open(&b)?
                    .set_modified(modified);
            }
        }
    }
    Ok(())
}

/// Grades one submission in the job's folder `job`.
fn grade_one(ctx: &Context, job: &Path, submission: &Path) -> Submission {
    let started = Instant::now();
    let mut result = Submission {
        path: submission.to_path_buf(),
        modified_outside_exercises: modified_outside_exercises(&ctx.pristine, submission),
        sandboxed: ctx.sandbox.is_some(),
        ..Default::default()
    };
    // Nothing a previous submission wrote survives: the job's folder starts empty (without
    // the sandbox the job's target folder is kept, for speed: see the README).
    if let Ok(entries) = fs::read_dir(job) {
        for entry in entries.flatten() {
            if ctx.sandbox.is_some() || entry.file_name() != "target" {
                let path = entry.path();
                let _ = fs::remove_dir_all(&path).or_else(|_| fs::remove_file(&path));
            }
        }
    }
    let tree = job.join("tree");
    if ctx.sandbox.is_none() {
        // Without the sandbox the whole course is copied (it must be writable for cargo).
        if let Err(e) = sync_tree(&ctx.pristine, &tree, &[PathBuf::from("target")]) {
            result.error = Some(format!("copying the course: {e}"));
            return result;
        }
    }
    let exercises = tree.join("exercises");
    if let Err(e) = fresh_exercises(&ctx.pristine, &exercises) {
        result.error = Some(format!("copying the stubs: {e}"));
        return result;
    }
    let stubs = ctx.pristine.join("exercises").join("src");
    let mut escaped: BTreeMap<String, String> = BTreeMap::new();
    let mut broken: BTreeMap<String, String> = BTreeMap::new();

    // Symbolic links anywhere in exercises/ (the folder itself included) are not followed.
    let theirs_root = submission.join("exercises");
    let links = symlinks_in(&theirs_root, "exercises");
    let whole = links
        .iter()
        .any(|l| l == "exercises" || l == "exercises/src");
    for link in &links {
        result.flagged.push(format!(
            "{link}: a symbolic link (not followed; its chapter is graded as its stub)"
        ));
        if let Some(number) = link.strip_prefix("exercises/src/").and_then(chapter_number) {
            escaped.insert(number.to_string(), "a symbolic link".into());
        }
    }
    let theirs = theirs_root.join("src");
    let their_dirs = if whole {
        Vec::new()
    } else {
        chapter_dirs(&theirs)
    };
    for dir in their_dirs {
        let Some(number) = chapter_number(&dir).map(str::to_string) else {
            continue;
        };
        if !ctx.stub_dirs.contains(&dir) || escaped.contains_key(&number) {
            continue; // a chapter this course does not have, or a linked one
        }
        if !theirs.join(&dir).join("mod.rs").is_file() {
            broken.insert(number, format!("exercises/src/{dir}/mod.rs is missing"));
            continue;
        }
        let target = exercises.join("src").join(&dir);
        let _ = fs::remove_dir_all(&target);
        let mut notes = Vec::new();
        if let Err(e) = copy_tree(&theirs.join(&dir), &target, &mut notes) {
            result.error = Some(format!("cannot copy {dir}: {e}"));
            return result;
        }
        result.flagged.extend(
            notes
                .into_iter()
                .map(|n| format!("exercises/src/{dir}/{n}")),
        );
        let escapes = scan_for_escapes(&target, &format!("exercises/src/{dir}"));
        if escapes
            .iter()
            .any(|e| e.contains("to pull in code") || e.contains("graded as its stub"))
        {
            // Code pulled in from outside exercises/ earns nothing: the chapter is graded as
            // its stub, and the teacher sees why.
            escaped.insert(
                number.clone(),
                "pulls in code from outside exercises/".into(),
            );
            let _ = put_back_stub(&tree, &stubs, &number);
        }
        result.flagged.extend(escapes);
        result.similar.extend(similarity(
            &ctx.pristine.join("solutions/src").join(&dir),
            &target,
            &format!("exercises/src/{dir}"),
        ));
    }
    for number in broken.keys() {
        let _ = put_back_stub(&tree, &stubs, number);
    }

    // Build: in the sandbox, or in the job's own folder without it.
    let upper = job.join("build");
    let course_dir = if ctx.sandbox.is_some() {
        ctx.pristine.clone()
    } else {
        tree.clone()
    };
    let mounts = Mounts {
        course: &ctx.pristine,
        exercises: &exercises,
        exercises_writable: true,
        lowers: vec![&ctx.base],
        upper: &upper,
        build: true,
    };
    let cgroup = ctx.sandbox.as_ref().and_then(Sandbox::cgroup);
    let wrap = || {
        ctx.sandbox.as_ref().expect("sandboxed").command(
            &mounts,
            cgroup.as_ref(),
            "/toolchain/bin/cargo",
            &[],
        )
    };
    let cargo = match ctx.sandbox {
        Some(_) => sandbox_cargo(&tree, &wrap, Some(ctx.build_timeout)),
        None => Cargo {
            dir: &tree,
            solutions: false,
            env: vec![("CARGO_TARGET_DIR", job.join("target"))],
            remove: &["RUSTFLAGS"],
            wrap: None,
            limit: Some(ctx.build_timeout),
        },
    };
    let names: Vec<&str> = ctx.chapters.iter().map(String::as_str).collect();
    let mut known = broken.clone();
    known.extend(escaped.iter().map(|(n, why)| (n.clone(), why.clone())));
    let executables = loop {
        let built = build_with_stubs(&cargo, &stubs, &names, known.clone(), &mut |_| {});
        let built = match built {
            Ok(built) => built,
            Err(message) => {
                result.error = Some(message);
                drop(cgroup);
                let _ = fs::remove_dir_all(job);
                result.seconds = started.elapsed().as_secs_f64();
                return result;
            }
        };
        for (number, error) in &built.broken {
            if !escaped.contains_key(number) {
                broken
                    .entry(number.clone())
                    .or_insert_with(|| error.clone());
            }
        }
        // The compiler's list of the exercises crate's sources: any file outside
        // exercises/src was pulled in (whatever the spelling); its chapter earns nothing.
        let deps = if ctx.sandbox.is_some() {
            vec![upper.join("debug/deps"), ctx.base.join("debug/deps")]
        } else {
            vec![job.join("target/debug/deps")]
        };
        let seen_root = if ctx.sandbox.is_some() {
            PathBuf::from(sandbox::COURSE)
        } else {
            course_dir.clone()
        };
        let foreign = foreign_sources(&deps, &seen_root);
        if foreign.is_empty() {
            break built.executables;
        }
        let mut new = false;
        for file in &foreign {
            result.flagged.push(format!(
                "the compiler read {file} for the exercises crate: a source outside exercises/src"
            ));
            // Which chapter: the one whose files name it; else every chapter that differs
            // from its stub.
            let name = Path::new(file)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut owners: Vec<String> = ctx
                .stub_dirs
                .iter()
                .filter(|d| dir_mentions(&exercises.join("src").join(d), &name))
                .filter_map(|d| chapter_number(d).map(str::to_string))
                .collect();
            if owners.is_empty() {
                owners = ctx
                    .stub_dirs
                    .iter()
                    .filter(|d| !same_tree(&stubs.join(d), &exercises.join("src").join(d)))
                    .filter_map(|d| chapter_number(d).map(str::to_string))
                    .collect();
            }
            for number in owners {
                if !known.contains_key(&number) {
                    new = true;
                    known.insert(
                        number.clone(),
                        "pulls in a file from outside exercises/src".into(),
                    );
                    escaped.insert(number, "pulls in a file from outside exercises/src".into());
                }
            }
        }
        if !new {
            result.error = Some("the exercises crate reads files outside exercises/src that no chapter can be blamed for".into());
            drop(cgroup);
            let _ = fs::remove_dir_all(job);
            result.seconds = started.elapsed().as_secs_f64();
            return result;
        }
    };
    // The programs the tests run, built now: the test sandbox cannot compile.
    if ctx.sandbox.is_some() && !ctx.programs.is_empty() {
        let mut command = cargo.command();
        command.args(["build", "--quiet", "-p", "course-programs"]);
        for program in &ctx.programs {
            command.args(["--bin", program]);
        }
        let ok = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            result.error = Some("the programs did not build".into());
        }
    }
    if let Some(group) = &cgroup {
        group.kill_all();
    }
    drop(cgroup);

    // Each chapter's tests, chapters in parallel.
    let chapter_jobs = thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(2);
    let queue = Mutex::new(ctx.chapters.clone());
    let outcomes = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..chapter_jobs.min(ctx.chapters.len()) {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().unwrap().pop();
                    let Some(chapter) = next else { return };
                    let number = chapter_number(&chapter).unwrap_or_default().to_string();
                    let outcome = match executables.get(&chapter) {
                        Some(exe) => run_chapter(ctx, job, &tree, &upper, &chapter, exe),
                        None => ChapterResult {
                            chapter: chapter.clone(),
                            ..Default::default()
                        },
                    };
                    outcomes.lock().unwrap().push((chapter, number, outcome));
                }
            });
        }
    });
    let mut outcomes = outcomes.into_inner().unwrap();
    outcomes.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, number, mut chapter) in outcomes {
        if let Some(why) = escaped.get(&number) {
            chapter.flagged = true;
            chapter.error = Some(format!("flagged: {why} (graded as its stub)"));
        }
        if let Some(error) = broken.get(&number) {
            chapter.compiled = false;
            chapter.error = Some(error.clone());
        }
        if broken.contains_key(&number) || escaped.contains_key(&number) {
            // It ran on the stubs: the tests exist, none of them earned anything.
            chapter.passed = 0;
            for test in &mut chapter.tests {
                test.1 = false;
            }
        }
        result.chapters.push(chapter);
    }
    let _ = fs::remove_dir_all(job.join("tree"));
    let _ = fs::remove_dir_all(&upper);
    let _ = fs::remove_dir_all(upper.with_extension("work"));
    let _ = fs::remove_dir_all(upper.with_extension("merged"));
    result.seconds = started.elapsed().as_secs_f64();
    result
}

/// Whether a file under `dir` mentions `name` (a file name the compiler read).
fn dir_mentions(dir: &Path, name: &str) -> bool {
    let mut files = Vec::new();
    scan::list_rs(dir, &mut files);
    !name.is_empty()
        && files
            .iter()
            .any(|f| fs::read_to_string(f).is_ok_and(|t| t.contains(name)))
}

fn same_tree(a: &Path, b: &Path) -> bool {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    scan::list_rs(a, &mut x);
    scan::list_rs(b, &mut y);
    let rel = |root: &Path, v: &[PathBuf]| -> Vec<(PathBuf, Vec<u8>)> {
        v.iter()
            .map(|p| {
                (
                    p.strip_prefix(root).unwrap_or(p).to_path_buf(),
                    fs::read(p).unwrap_or_default(),
                )
            })
            .collect()
    };
    rel(a, &x) == rel(b, &y)
}

/// Runs one chapter's tests through the supervisor (in a sandbox of its own where there is
/// one) and reads its answers.
fn run_chapter(
    ctx: &Context,
    job: &Path,
    tree: &Path,
    build: &Path,
    chapter: &str,
    exe: &Path,
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
    let jobs = "4";
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
}
