//! `course grade` on a small class built in a temporary folder: a fair score for solved
//! chapters, nothing for tampering, a compile error that costs only its chapter, and a flag for
//! an exercise that pulls in a solution file. Also runs the commands of the GitHub Classroom
//! workflow (.github/workflows/classroom.yml).
//!
//! It builds the course several times, so it is not part of the warm suite: `.ci/run` runs it
//! in its own step with `cargo test --test grade_class -- --ignored`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use course_harness::ChildGuard;
use serde_json::Value;

/// The course's root: this package lives in `course/`.
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
/// Building a class from cold takes minutes on a 2-core machine; a hang must still end.
const GRADE_LIMIT: Duration = Duration::from_secs(1500);

/// A clone of the course as a learner gets it: the committed tree.
fn clone_into(dir: &Path) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let archive = dir.join("course.tar");
    let status = Command::new("git")
        .args(["-C", ROOT, "archive", "--format=tar", "-o"])
        .arg(&archive)
        .arg("HEAD")
        .status()
        .unwrap();
    assert!(status.success(), "git archive failed");
    let status = Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success(), "tar failed");
    fs::remove_file(archive).unwrap();
    dir.to_path_buf()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Solves `chapter` in `clone` by copying the reference solution over the stub.
fn solve(clone: &Path, chapter: &str) {
    let stub = clone.join("exercises/src").join(chapter);
    fs::remove_dir_all(&stub).unwrap();
    copy_dir(&Path::new(ROOT).join("solutions/src").join(chapter), &stub);
}

/// Runs the grader with `args` (from `dir`) and returns its exit code and stdout.
fn course(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_course"));
    command.current_dir(dir).args(args);
    let mut child = ChildGuard::spawn(command);
    let exited = child.wait_exit(GRADE_LIMIT);
    (exited.status.code(), exited.stdout.join("\n"))
}

fn chapter<'a>(submission: &'a Value, name: &str) -> &'a Value {
    submission["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["chapter"] == name)
        .unwrap_or_else(|| panic!("no {name} in {submission:#}"))
}

fn full(chapter: &Value) -> bool {
    chapter["compiled"] == true
        && chapter["total"].as_u64().unwrap() > 0
        && chapter["passed"] == chapter["total"]
}

#[test]
#[ignore = "builds the course for a class of four: run by .ci/run's grading step"]
fn a_class_is_graded_fairly_and_tampering_earns_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let class = temp.path().join("class");

    // alice solved chapters 1 and 2.
    let alice = clone_into(&class.join("alice"));
    solve(&alice, "ch01_addresses");
    solve(&alice, "ch02_udp");

    // mallory solved nothing, made the tests pass trivially and the solutions the default.
    let mallory = clone_into(&class.join("mallory"));
    fs::write(
        mallory.join("tests/ch01_addresses.rs"),
        "#[test]\nfn always() {}\n",
    )
    .unwrap();
    let manifest = fs::read_to_string(mallory.join("Cargo.toml")).unwrap();
    let manifest = manifest.replace(
        "solutions = []",
        "default = [\"solutions\"]\nsolutions = []",
    );
    assert!(manifest.contains("default = [\"solutions\"]"));
    fs::write(mallory.join("Cargo.toml"), manifest).unwrap();

    // bob solved chapters 1 and 3, but chapter 3 has a compile error.
    let bob = clone_into(&class.join("bob"));
    solve(&bob, "ch01_addresses");
    solve(&bob, "ch03_tcp");
    let lines = bob.join("exercises/src/ch03_tcp/lines.rs");
    let mut text = fs::read_to_string(&lines).unwrap();
    text.push_str("\nfn broken() -> u32 {\n    \"not a number\"\n}\n");
    fs::write(&lines, text).unwrap();

    // eve's chapter 1 pulls in the solution files instead of solving them.
    let eve = clone_into(&class.join("eve"));
    let eve_ch01 = eve.join("exercises/src/ch01_addresses");
    for entry in fs::read_dir(&eve_ch01).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name != "mod.rs" {
            fs::write(
                entry.path(),
                format!("include!(\"../../../solutions/src/ch01_addresses/{name}\");\n"),
            )
            .unwrap();
        }
    }

    let report = temp.path().join("grades.json");
    let (code, _) = course(
        temp.path(),
        &[
            "grade",
            class.to_str().unwrap(),
            "--format",
            "json",
            "--jobs",
            "2",
            "--out",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "course grade did not finish well");
    let json: Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    let submissions = json["submissions"].as_array().expect("submissions: [...]");
    assert_eq!(submissions.len(), 4, "{json:#}");
    let by_name = |name: &str| {
        submissions
            .iter()
            .find(|s| s["submission"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("no {name} in {json:#}"))
    };
    // The documented shape, for every submission.
    for s in submissions {
        for key in [
            "submission",
            "chapters",
            "passed",
            "total",
            "modified_outside_exercises",
            "flagged",
        ] {
            assert!(s.get(key).is_some(), "{key} missing in {s:#}");
        }
        for c in s["chapters"].as_array().unwrap() {
            for key in ["chapter", "passed", "total", "compiled", "timed_out"] {
                assert!(c.get(key).is_some(), "{key} missing in {c:#}");
            }
        }
    }

    let alice = by_name("alice");
    assert!(full(chapter(alice, "ch01_addresses")), "{alice:#}");
    assert!(full(chapter(alice, "ch02_udp")), "{alice:#}");
    assert_eq!(chapter(alice, "ch03_tcp")["passed"], 0, "{alice:#}");
    assert_eq!(
        alice["modified_outside_exercises"],
        Value::Array(vec![]),
        "{alice:#}"
    );
    assert_eq!(alice["flagged"], Value::Array(vec![]), "{alice:#}");

    let mallory = by_name("mallory");
    assert_eq!(mallory["passed"], 0, "tampering earned points: {mallory:#}");
    let changed: Vec<&str> = mallory["modified_outside_exercises"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        changed,
        ["Cargo.toml", "tests/ch01_addresses.rs"],
        "{mallory:#}"
    );

    let bob = by_name("bob");
    assert!(full(chapter(bob, "ch01_addresses")), "{bob:#}");
    let ch03 = chapter(bob, "ch03_tcp");
    assert_eq!(
        (&ch03["compiled"], &ch03["passed"]),
        (&Value::Bool(false), &Value::from(0)),
        "{bob:#}"
    );
    assert_eq!(chapter(bob, "ch02_udp")["compiled"], true, "{bob:#}");

    let eve = by_name("eve");
    assert_eq!(
        (
            &chapter(eve, "ch01_addresses")["passed"],
            &chapter(eve, "ch01_addresses")["flagged"]
        ),
        (&Value::from(0), &Value::Bool(true)),
        "an include! of the answers scored: {eve:#}"
    );
    let flags = eve["flagged"].as_array().unwrap();
    assert!(
        !flags.is_empty()
            && flags
                .iter()
                .all(|f| f.as_str().unwrap().contains("include!")),
        "{eve:#}"
    );
}

#[test]
#[ignore = "builds the course: run by .ci/run's grading step"]
fn the_classroom_workflow_commands_pass_a_solved_chapter_and_fail_a_stub() {
    let workflow =
        fs::read_to_string(Path::new(ROOT).join(".github/workflows/classroom.yml")).unwrap();
    let commands: Vec<&str> = workflow
        .lines()
        .filter_map(|l| l.trim().strip_prefix("command: "))
        .collect();
    assert!(!commands.is_empty(), "no command steps in the workflow");
    let temp = tempfile::tempdir().unwrap();
    let submission = clone_into(&temp.path().join("submission"));
    solve(&submission, "ch01_addresses");
    for command in commands {
        // `cd course && target/debug/course grade ../submission --chapter chNN --require-all`:
        // run the same arguments with this build of the grader.
        let args: Vec<&str> = command
            .split_once("course grade ")
            .expect("each step runs course grade")
            .1
            .split_whitespace()
            .map(|a| {
                if a == "../submission" {
                    submission.to_str().unwrap()
                } else {
                    a
                }
            })
            .collect();
        let chapter = args[args.iter().position(|a| *a == "--chapter").unwrap() + 1];
        if !Path::new(ROOT)
            .join("tests")
            .read_dir()
            .unwrap()
            .flatten()
            .any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{chapter}_"))
            })
        {
            panic!("the workflow grades {chapter}, which the course does not have");
        }
        let mut full_args = vec!["grade"];
        full_args.extend(args);
        let (code, out) = course(temp.path(), &full_args);
        let expected = if chapter == "ch01" { 0 } else { 1 };
        assert_eq!(code, Some(expected), "{chapter}: {command}\n{out}");
    }
}
