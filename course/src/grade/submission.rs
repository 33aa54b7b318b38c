//! One submission: a fresh copy of its exercises, the early checks (symbolic links, the text
//! scan, a missing `mod.rs`), the build in its sandbox with broken chapters put back to their
//! stubs, the dep-info check, then its chapters' runs ([`super::chapter`]), in parallel.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::thread;
use std::time::Instant;

use super::chapter::run_chapter;
use super::sandbox::{self, Mounts, Sandbox};
use super::scan::{self, foreign_sources, scan_for_escapes, similarity, symlinks_in};
use super::{ChapterResult, Context, Submission, modified_outside_exercises, sandbox_cargo};
use crate::build::{
    Cargo, build_with_stubs, chapter_dirs, chapter_number, copy_tree, put_back_stub, sync_tree,
};

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
        } else if let Ok(modified) = entry.metadata()?.modified()
            && fs::read(&a).ok() == fs::read(&b).ok()
        {
            let _ = fs::File::options()
                .write(true)
                .open(&b)?
                .set_modified(modified);
        }
    }
    Ok(())
}

/// Grades one submission in the job's folder `job`.
pub(super) fn grade_one(ctx: &Context, job: &Path, submission: &Path) -> Submission {
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
    if whole {
        for number in ctx.stub_dirs.iter().filter_map(|d| chapter_number(d)) {
            escaped.insert(
                number.to_string(),
                "exercises/ or exercises/src is a symbolic link".into(),
            );
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
        // Ending the test process itself (`process::exit`, `exec`) is the one way left to fake
        // a pass: such a chapter is graded as its stub. Pulling in files is judged below by
        // the compiler's own list of sources; the scan only names the line early.
        if let Some(why) = escapes.iter().find(|e| e.contains("graded as its stub")) {
            let why = why.split(": ").skip(1).collect::<Vec<_>>().join(": ");
            let why = why.trim_end_matches(": graded as its stub").to_string();
            escaped.insert(number.clone(), why);
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
    // A file that holds its stub's text gets its stub's time back: cargo then sees an
    // untouched chapter (or submission) as unchanged and reuses the shared build.
    let _ = keep_times(&ctx.pristine.join("exercises"), &exercises);

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
        blank_reference: None,
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
    // Only the chapters that differ from their stubs are built (and run); with the sandbox an
    // untouched one is listed from the shared build's test binary.
    let untouched = |chapter: &str| {
        let number = chapter_number(chapter).unwrap_or_default();
        ctx.stub_dirs
            .iter()
            .filter(|d| chapter_number(d) == Some(number))
            .all(|d| same_tree(&stubs.join(d), &exercises.join("src").join(d)))
    };
    let changed: Vec<String> = ctx
        .chapters
        .iter()
        .filter(|c| ctx.sandbox.is_none() || !untouched(c))
        .cloned()
        .collect();
    let names: Vec<&str> = changed.iter().map(String::as_str).collect();
    let mut known = broken.clone();
    known.extend(escaped.iter().map(|(n, why)| (n.clone(), why.clone())));
    let mut executables = ctx.base_executables.clone();
    executables.retain(|chapter, _| ctx.chapters.contains(chapter));
    let built = loop {
        if names.is_empty() {
            break Default::default();
        }
        let built = build_with_stubs(&cargo, &stubs, &names, known.clone(), &mut |_| {});
        let built = match built {
            Ok(built) => built,
            Err(message) => {
                result.error = Some(message);
                drop(cgroup);
                let _ = fs::remove_dir_all(job);
                result.seconds = started.elapsed().as_secs_f64();
                result.build_seconds = result.seconds;
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
            result.build_seconds = result.seconds;
            return result;
        }
    };
    executables.extend(built);
    // The build layer is a lower layer of every chapter's run, even when nothing was built.
    let _ = fs::create_dir_all(&upper);
    // The programs the changed chapters' tests run, built now: the test sandbox cannot
    // compile.
    let programs = super::programs_used(&ctx.pristine, &changed);
    if ctx.sandbox.is_some() && !programs.is_empty() {
        let mut command = cargo.command();
        command.args(["build", "--quiet", "-p", "course-programs"]);
        for program in &programs {
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
    result.build_seconds = started.elapsed().as_secs_f64();

    // Each chapter's tests, two chapters at once (each runs as many tests at once as there
    // are cores: heavier loads make chapter 4's thousand connections miss their deadlines).
    let chapter_jobs = 2;
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
                        Some(exe) => {
                            let untouched = untouched(&chapter);
                            run_chapter(ctx, job, &tree, &upper, &chapter, exe, untouched)
                        }
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
