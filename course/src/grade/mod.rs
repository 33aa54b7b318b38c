//! `course grade`: grades learners' clones from a pristine copy of the course.
//!
//! Fairness and tamper-proofing come from what is *not* used: a submission contributes only
//! its `exercises/src/chNN_*/` files. Everything else (tests, harness, Cargo.toml and its
//! feature defaults) comes from this repository's committed tree, extracted into a work folder,
//! so nothing a submission writes can change how it is graded. The reference solutions stay in
//! that folder because the programs and some tests use them (every program reads its address
//! flags with chapter 1's reference parser; chapter 6's tests talk to the reference receiver).
//! Exercise code cannot name the `solutions` crate (the pristine `exercises` does not depend on
//! it); the only ways to pull its files in are `include!`-like macros and `#[path]`, and a
//! chapter that uses them is flagged and graded as its stub. Results are read from libtest's
//! `--logfile`, never from stdout, which learner code can write to.
//!
//! Each chapter is scored on its own: when the overlaid exercises do not compile, the chapters
//! rustc names are put back to their stubs and the rest is rebuilt, so an error in chapter 3
//! costs chapter 3 only. Each chapter's test run has a time limit.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::build::{Cargo, build_with_stubs, chapter_dirs, chapter_number, copy_tree};

mod report;
mod scan;

pub use report::render;
use scan::{modified_outside_exercises, scan_for_escapes};

#[derive(clap::Args, Debug)]
pub struct GradeArgs {
    /// Learners' clones. A folder whose subfolders are clones is a class. Default: this
    /// repository.
    pub submissions: Vec<PathBuf>,
    /// Grade only this chapter (`ch02` or `ch02_udp`).
    #[arg(long)]
    pub chapter: Option<String>,
    /// How to print the results.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the results to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// How many submissions to grade at once (each job has its own work and target folder).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// Time limit for one chapter's tests, in seconds; a chapter that hangs scores the tests
    /// that finished.
    #[arg(long, default_value = "300", value_parser = |s: &str| course_catalog::seconds(s, true))]
    pub timeout: Duration,
    /// Exit with 1 unless every graded test passed (for CI and GitHub Classroom steps).
    #[arg(long)]
    pub require_all: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
    Junit,
}

/// One chapter's result (one `tests/chNN_*.rs` file).
#[derive(Debug, Clone)]
pub struct ChapterResult {
    pub chapter: String,
    pub passed: usize,
    pub total: usize,
    pub compiled: bool,
    pub timed_out: bool,
    /// A file of the chapter pulled in code from outside exercises/: graded as its stub.
    pub flagged: bool,
    /// Each test's name and whether it passed (for JUnit).
    pub tests: Vec<(String, bool)>,
}

/// One submission's result.
#[derive(Debug, Clone)]
pub struct Submission {
    pub path: PathBuf,
    pub chapters: Vec<ChapterResult>,
    pub modified_outside_exercises: Vec<String>,
    pub flagged: Vec<String>,
    /// Why nothing could be graded (the pristine build itself failed, say).
    pub error: Option<String>,
}

impl Submission {
    fn passed(&self) -> usize {
        self.chapters.iter().map(|c| c.passed).sum()
    }
    fn total(&self) -> usize {
        self.chapters.iter().map(|c| c.total).sum()
    }
}

/// Runs `course grade` for the course repository at `root`.
pub fn run(root: &Path, args: &GradeArgs) -> ExitCode {
    match grade(root, args) {
        Ok(results) => {
            let text = render(&results, args.format);
            let written = match &args.out {
                Some(path) => fs::write(path, &text).map_err(|e| (path.clone(), e)),
                None => {
                    print!("{text}");
                    Ok(())
                }
            };
            if let Err((path, e)) = written {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitCode::from(1);
            }
            let all = results
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

/// Grades every submission named by `args`.
pub fn grade(root: &Path, args: &GradeArgs) -> Result<Vec<Submission>, String> {
    let submissions = expand_submissions(root, &args.submissions)?;
    let grade_dir = root.join("target").join("grade");
    let pristine = grade_dir.join("pristine");
    extract_pristine(root, &pristine)?;
    let chapters = chapter_tests(&pristine, args.chapter.as_deref())?;
    if chapters.is_empty() {
        return Err(format!(
            "no chapter matches `{}`",
            args.chapter.as_deref().unwrap_or("")
        ));
    }

    // A stack popped from the end: reversed, so submissions are graded in the order given.
    let queue = Arc::new(Mutex::new(
        submissions
            .into_iter()
            .enumerate()
            .rev()
            .collect::<Vec<_>>(),
    ));
    let results = Arc::new(Mutex::new(Vec::new()));
    let jobs = usize::from(args.jobs).min(queue.lock().unwrap().len().max(1));
    let mut workers = Vec::new();
    for job in 0..jobs {
        let (queue, results) = (Arc::clone(&queue), Arc::clone(&results));
        let (pristine, chapters) = (pristine.clone(), chapters.clone());
        let work = grade_dir.join(format!("job-{job}"));
        let timeout = args.timeout;
        workers.push(thread::spawn(move || -> Result<(), String> {
            prepare_work(&pristine, &work)?;
            loop {
                let next = queue.lock().unwrap().pop();
                let Some((index, path)) = next else {
                    return Ok(());
                };
                eprintln!("grading {} ...", path.display());
                let result = grade_one(&pristine, &work, &chapters, &path, timeout);
                results.lock().unwrap().push((index, result));
            }
        }));
    }
    for worker in workers {
        worker.join().map_err(|_| "a grading job panicked")??;
    }
    let mut results = Arc::try_unwrap(results).unwrap().into_inner().unwrap();
    results.sort_by_key(|(index, _)| *index);
    Ok(results.into_iter().map(|(_, r)| r).collect())
}

/// The submissions: each named folder, or for a class folder (one that is not itself a clone)
/// each of its subfolders that is. No folder at all means this repository.
fn expand_submissions(root: &Path, named: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    if named.is_empty() {
        return Ok(vec![root.to_path_buf()]);
    }
    let is_clone = |p: &Path| p.join("exercises").join("src").is_dir();
    let mut out = Vec::new();
    for path in named {
        if !path.is_dir() {
            return Err(format!("{} is not a folder", path.display()));
        }
        if is_clone(path) {
            out.push(path.clone());
            continue;
        }
        let mut members: Vec<PathBuf> = fs::read_dir(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| is_clone(p))
            .collect();
        if members.is_empty() {
            return Err(format!(
                "{} is neither a clone of the course (no exercises/src) nor a class folder of clones",
                path.display()
            ));
        }
        members.sort();
        out.extend(members);
    }
    Ok(out)
}

/// Extracts the committed tree (`git archive HEAD`) of the course at `root` into `pristine`,
/// unless it already holds that commit.
fn extract_pristine(root: &Path, pristine: &Path) -> Result<(), String> {
    let head = command_output(
        Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["rev-parse", "HEAD"]),
    )
    .map_err(|e| format!("the course must be a git clone to grade from (git rev-parse: {e})"))?;
    let head = head.trim().to_string();
    let marker = pristine.join(".course-grade-commit");
    if fs::read_to_string(&marker).is_ok_and(|m| m == head) {
        return Ok(());
    }
    let _ = fs::remove_dir_all(pristine);
    fs::create_dir_all(pristine)
        .map_err(|e| format!("cannot create {}: {e}", pristine.display()))?;
    let archive = pristine.join(".archive.tar");
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
            .arg(pristine),
    )?;
    let _ = fs::remove_file(&archive);
    fs::write(&marker, &head).map_err(|e| e.to_string())?;
    Ok(())
}

/// The chapter test files (`tests/chNN_*.rs` stems) of the pristine course, filtered.
fn chapter_tests(pristine: &Path, filter: Option<&str>) -> Result<Vec<String>, String> {
    let dir = pristine.join("tests");
    let mut stems: Vec<String> = fs::read_dir(&dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".rs")?.to_string();
            chapter_number(&stem).is_some().then_some(stem)
        })
        .filter(|stem| filter.is_none_or(|f| stem == f || chapter_number(stem) == Some(f)))
        .collect();
    stems.sort();
    Ok(stems)
}

/// A job's work folder: the pristine tree.
fn prepare_work(pristine: &Path, work: &Path) -> Result<(), String> {
    let marker = work.join(".course-grade-commit");
    let head = fs::read_to_string(pristine.join(".course-grade-commit")).unwrap_or_default();
    if fs::read_to_string(&marker).is_ok_and(|m| m == head) {
        return Ok(());
    }
    // Keep the job's target folder (dependencies stay built between runs); renew the rest.
    if let Ok(entries) = fs::read_dir(work) {
        for entry in entries.flatten() {
            if entry.file_name() != "target" {
                let path = entry.path();
                let _ = if path.is_dir() {
                    fs::remove_dir_all(&path)
                } else {
                    fs::remove_file(&path)
                };
            }
        }
    }
    copy_tree(pristine, work, &mut Vec::new()).map_err(|e| format!("copying the course: {e}"))?;
    Ok(())
}

/// Grades one submission in the job's work folder.
fn grade_one(
    pristine: &Path,
    work: &Path,
    chapters: &[String],
    submission: &Path,
    timeout: Duration,
) -> Submission {
    let mut result = Submission {
        path: submission.to_path_buf(),
        chapters: Vec::new(),
        modified_outside_exercises: modified_outside_exercises(pristine, submission),
        flagged: Vec::new(),
        error: None,
    };
    // Reset every chapter to its stub, then overlay the submission's chapter folders.
    let exercises = work.join("exercises").join("src");
    let stub_dirs = chapter_dirs(&pristine.join("exercises").join("src"));
    for dir in &stub_dirs {
        let _ = fs::remove_dir_all(exercises.join(dir));
        if let Err(e) = copy_tree(
            &pristine.join("exercises").join("src").join(dir),
            &exercises.join(dir),
            &mut Vec::new(),
        ) {
            result.error = Some(format!("cannot reset {dir}: {e}"));
            return result;
        }
    }
    let theirs = submission.join("exercises").join("src");
    let mut escaped: BTreeSet<String> = BTreeSet::new();
    for dir in chapter_dirs(&theirs) {
        if !stub_dirs.contains(&dir) {
            continue; // a chapter this course does not have
        }
        let _ = fs::remove_dir_all(exercises.join(&dir));
        let mut notes = Vec::new();
        if let Err(e) = copy_tree(&theirs.join(&dir), &exercises.join(&dir), &mut notes) {
            result.error = Some(format!("cannot copy {dir}: {e}"));
            return result;
        }
        result.flagged.extend(
            notes
                .into_iter()
                .map(|n| format!("exercises/src/{dir}/{n}")),
        );
        let escapes = scan_for_escapes(&exercises.join(&dir), &format!("exercises/src/{dir}"));
        if !escapes.is_empty() {
            // Code pulled in from outside exercises/ (the reference solutions, say) earns
            // nothing: the chapter is graded as its stub, and the teacher sees why.
            if let Some(number) = chapter_number(&dir) {
                escaped.insert(number.to_string());
            }
            let _ = fs::remove_dir_all(exercises.join(&dir));
            let _ = copy_tree(
                &pristine.join("exercises").join("src").join(&dir),
                &exercises.join(&dir),
                &mut Vec::new(),
            );
        }
        result.flagged.extend(escapes);
    }

    // Build; put chapters that do not compile back to their stubs until the rest does.
    let cargo = Cargo {
        dir: work,
        solutions: false,
        env: vec![("CARGO_TARGET_DIR", work.join("target"))],
        remove: &["RUSTFLAGS"],
    };
    let names: Vec<&str> = chapters.iter().map(String::as_str).collect();
    let stubs = pristine.join("exercises").join("src");
    let built = build_with_stubs(&cargo, &stubs, &names, BTreeMap::new(), &mut |_| {});
    let (executables, broken) = match built {
        Ok(built) => (built.executables, built.broken),
        Err(message) => {
            result.error = Some(message);
            return result;
        }
    };

    for chapter in chapters {
        let number = chapter_number(chapter).unwrap_or_default().to_string();
        let Some(exe) = executables.get(chapter) else {
            result.chapters.push(ChapterResult {
                chapter: chapter.clone(),
                passed: 0,
                total: 0,
                compiled: false,
                timed_out: false,
                flagged: false,
                tests: Vec::new(),
            });
            continue;
        };
        let mut chapter_result = run_chapter(work, chapter, exe, timeout);
        if escaped.contains(&number) {
            chapter_result.flagged = true;
        }
        if broken.contains_key(&number) || escaped.contains(&number) {
            // It ran on the stubs: the tests exist, none of them earned anything.
            chapter_result.compiled &= !broken.contains_key(&number);
            chapter_result.passed = 0;
            for test in &mut chapter_result.tests {
                test.1 = false;
            }
        }
        result.chapters.push(chapter_result);
    }
    result
}

/// Runs one chapter's test binary with a logfile and a time limit.
fn run_chapter(work: &Path, chapter: &str, exe: &Path, timeout: Duration) -> ChapterResult {
    let mut result = ChapterResult {
        chapter: chapter.to_string(),
        passed: 0,
        total: 0,
        compiled: true,
        timed_out: false,
        flagged: false,
        tests: Vec::new(),
    };
    // The list of tests: libtest prints it without running any learner code.
    let listed = command_output(
        Command::new(exe)
            .current_dir(work)
            .args(["--list", "--format", "terse"]),
    );
    let names: Vec<String> = listed
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect();
    result.total = names.len();

    let log = work.join("target").join(format!("{chapter}.grade-log"));
    let _ = fs::remove_file(&log);
    let mut command = Command::new(exe);
    command
        .current_dir(work)
        .arg("--logfile")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    match command.spawn() {
        Ok(child) => result.timed_out = !wait_within(child, timeout),
        Err(_) => result.compiled = false,
    }
    let mut passed = BTreeSet::new();
    if let Ok(text) = fs::read_to_string(&log) {
        for line in text.lines() {
            if let Some(name) = line.strip_prefix("ok ") {
                passed.insert(name.to_string());
            }
        }
    }
    // Only listed tests count: a line forged into the log for a test that does not exist
    // earns nothing.
    result.tests = names
        .iter()
        .map(|n| (n.clone(), passed.contains(n)))
        .collect();
    result.passed = result.tests.iter().filter(|(_, ok)| *ok).count();
    result
}

/// Waits for `child`; kills it (and its process group) after `timeout`. True if it ended.
fn wait_within(mut child: Child, timeout: Duration) -> bool {
    let start = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        if start.elapsed() >= timeout {
            #[cfg(unix)]
            {
                let _ = Command::new("kill")
                    .args(["-KILL", &format!("-{}", child.id())])
                    .status();
            }
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        thread::sleep(Duration::from_millis(50));
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
}
