//! The copy of the course in which the chapters that compile are built while another does
//! not (`target/course/shadow/`): the learner's files, with each broken chapter's committed
//! stub in its place. It has a target folder of its own.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::build::{self, Cargo, Step, chapter_number};
use crate::run::{Course, write_state};

/// Builds `chapters` in a copy of the course (`target/course/shadow/`) where the chapters in
/// `broken` (and any other that rustc names) are their committed stubs. Returns what was
/// built and the copy's folder. The copy builds in `target/course/shadow-target/` (the first
/// time, its dependencies too).
pub fn shadow_build(
    course: &Course,
    chapters: &[&str],
    broken: BTreeMap<String, String>,
    progress: &mut dyn FnMut(Step),
) -> Result<(build::Built, PathBuf), String> {
    let target = course.target_dir();
    let shadow = target.join("course").join("shadow");
    let stubs = committed_stubs(course)?;
    let skip: Vec<String> = broken.keys().cloned().collect();
    sync_course(&course.root, &shadow, &skip).map_err(|e| format!("copying the course: {e}"))?;
    let cargo = Cargo {
        dir: &shadow,
        solutions: course.solutions,
        env: shadow_env(course),
        remove: &[],
        wrap: None,
        limit: None,
    };
    let built = build::build_with_stubs(&cargo, &stubs, chapters, broken, progress)?;
    Ok((built, shadow))
}

/// The copy's environment: a target folder of its own. (Not only its programs: cargo names a
/// workspace member's build by its path inside the workspace, so a copy sharing the course's
/// build folder would replace the course's own builds and look up to date in both places.)
pub fn shadow_env(course: &Course) -> Vec<(&'static str, PathBuf)> {
    let target = course.target_dir();
    vec![(
        "CARGO_TARGET_DIR",
        target.join("course").join("shadow-target"),
    )]
}

/// The committed stubs (`git show HEAD:exercises/src/...`), in
/// `target/course/stubs/<commit>/`, laid out like `exercises/src`.
fn committed_stubs(course: &Course) -> Result<PathBuf, String> {
    let git = |args: &[&str]| -> Result<Vec<u8>, String> {
        let output = Command::new("git")
            .arg("-C")
            .arg(&course.root)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| course_catalog::fill("course.no_stubs", &[("error", &e)]))?;
        if !output.status.success() {
            let error = String::from_utf8_lossy(&output.stderr).trim().to_string();
            return Err(course_catalog::fill(
                "course.no_stubs",
                &[("error", &error)],
            ));
        }
        Ok(output.stdout)
    };
    let head = String::from_utf8_lossy(&git(&["rev-parse", "HEAD"])?)
        .trim()
        .to_string();
    let dir = course.target_dir().join("course").join("stubs").join(&head);
    if dir.join(".complete").is_file() {
        return Ok(dir);
    }
    let listing = git(&["ls-tree", "-r", "--name-only", "HEAD", "exercises/src"])?;
    for file in String::from_utf8_lossy(&listing).lines() {
        let Some(relative) = file.strip_prefix("exercises/src/") else {
            continue;
        };
        let text = git(&["show", &format!("HEAD:{file}")])?;
        write_state(&dir.join(relative), &text).map_err(|e| e.to_string())?;
    }
    write_state(&dir.join(".complete"), b"").map_err(|e| e.to_string())?;
    Ok(dir)
}

/// Folders and files of the course that the copy needs (the workspace's members, the tests,
/// what the tests read), without `target/`, `.git/` or `.course/`.
const COPIED: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    ".cargo",
    "src",
    "exercises",
    "solutions",
    "given",
    "harness",
    "relay",
    "wire-record",
    "catalog",
    "programs",
    "course",
    "tests",
    "examples",
    "benches",
];

/// Makes `to` a copy of the course at `from`, writing only files whose content differs (so
/// cargo sees unchanged files as unchanged), and leaving the chapter folders whose number is
/// in `skip` to [`build::put_back_stub`].
fn sync_course(from: &Path, to: &Path, skip: &[String]) -> io::Result<()> {
    for name in COPIED {
        let source = from.join(name);
        if source.is_dir() {
            let mut skip_here = Vec::new();
            if *name == "exercises" {
                for dir in build::chapter_dirs(&source.join("src")) {
                    if chapter_number(&dir).is_some_and(|n| skip.iter().any(|s| s == n)) {
                        skip_here.push(PathBuf::from("src").join(dir));
                    }
                }
            }
            build::sync_tree(&source, &to.join(name), &skip_here)?;
        } else if source.is_file() {
            build::sync_file(&source, &to.join(name))?;
        }
    }
    Ok(())
}
