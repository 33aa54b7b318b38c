//! `course grade` on a class built in a temporary folder: a fair score for solved chapters
//! (chapter 4 to 100 %), and each attack of issue 26 in a submission of its own, each earning
//! nothing, flagged where it leaves a trace: a submission that poisons the next one, a forged
//! libtest log with `exit(0)`, a daemon that rewrites `--out`, a replaced grader, every escape
//! form (`cfg_attr` path, a split attribute, an attribute after literals, `include!{}`, a renamed
//! `include!`, a symlinked `exercises/src`), a `const` that never finishes, children that
//! outlive their test, a deleted `mod.rs`, an empty folder, a nested clone and a missing path.
//! The JUnit report is validated against the Jenkins xunit schema. Also runs the commands of the
//! GitHub Classroom workflow (.github/workflows/classroom.yml).
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

/// The grader under test: this build, or another one (`GRADE_CLASS_GRADER=/path/to/course`,
/// to show what an older grader lets through).
fn grader() -> PathBuf {
    std::env::var_os("GRADE_CLASS_GRADER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_course")))
}

/// Replaces the body of `classify_port` (chapter 1) in `clone` with `body`.
fn classify_port_does(clone: &Path, body: &str) {
    let file = clone.join("exercises/src/ch01_addresses/port_range.rs");
    let text = fs::read_to_string(&file).unwrap();
    let stub = "    // TODO: return the range `port` falls in (see the numbers on `PortRange` above).\n    todo!()";
    assert!(text.contains(stub), "the stub of classify_port changed");
    fs::write(&file, text.replace(stub, body)).unwrap();
}

/// Makes chapter 1's `mod.rs` of `clone` the reference's, through `attribute` (a `#[path]`
/// spelled some way).
fn ch01_mod_from_reference(clone: &Path, attribute: &str) {
    fs::write(
        clone.join("exercises/src/ch01_addresses/mod.rs"),
        format!("{attribute}\nmod reference;\npub use reference::*;\n"),
    )
    .unwrap();
}

/// Makes every file but mod.rs of chapter 1 of `clone` the reference's, through `line(name)`.
fn ch01_files_from_reference(clone: &Path, line: impl Fn(&str) -> String) {
    let dir = clone.join("exercises/src/ch01_addresses");
    for entry in fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name != "mod.rs" {
            fs::write(entry.path(), line(&name)).unwrap();
        }
    }
}

/// Processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<String> {
    fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| fs::read(e.path().join("cmdline")).ok())
                .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
                .filter(|c| c.contains(marker))
                .collect()
        })
        .unwrap_or_default()
}

const REFERENCE_MOD: &str = "../../../solutions/src/ch01_addresses/mod.rs";

#[test]
#[ignore = "builds the course for a class of submissions: run by .ci/run's grading step"]
fn a_class_is_graded_fairly_and_no_attack_earns_anything() {
    let temp = tempfile::tempdir().unwrap();
    let class = temp.path().join("class");
    // The grader runs from a copy that the class's code would like to replace.
    let bin = temp.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    let grader_copy = bin.join("course");
    fs::copy(grader(), &grader_copy).unwrap();
    let grader_bytes = fs::read(&grader_copy).unwrap();

    // a1: its chapter 1 writes a test file of chapter 2 with 37 empty tests (point 1).
    let poisoner = clone_into(&class.join("a1-poisoner"));
    classify_port_does(
        &poisoner,
        r##"    let tests: String = (0..37).map(|i| format!("#[test]\nfn t{i}() {{}}\n")).collect();
    for dir in ["tests", "../tests", "../../tests", "/course/tests"] {
        let _ = std::fs::write(format!("{dir}/ch02_udp.rs"), &tests);
    }
    todo!()"##,
    );
    // a2: untouched, graded after the poisoner.
    clone_into(&class.join("a2-honest-stub"));

    // b: forges libtest's log: "ok" for every test, then exit(0) (point 2).
    let forger = clone_into(&class.join("b-forger"));
    classify_port_does(
        &forger,
        r##"    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--logfile") {
        let exe = std::env::current_exe().unwrap_or_else(|_| args[0].clone().into());
        let list = std::process::Command::new(exe).args(["--list", "--format", "terse"]).output();
        let names = String::from_utf8_lossy(&list.map(|o| o.stdout).unwrap_or_default()).into_owned();
        let log: String = names.lines().filter_map(|l| l.strip_suffix(": test")).map(|n| format!("ok {n}\n")).collect();
        let _ = std::fs::write(&args[i + 1], log);
    }
    std::process::exit(0)"##,
    );

    // c: a daemon in its own process group waits for the grader to exit, then rewrites --out.
    let daemon = clone_into(&class.join("c-daemon"));
    classify_port_does(
        &daemon,
        r##"    use std::os::unix::process::CommandExt;
    let script = "for p in /proc/[0-9]*; do c=$(tr '\\0' ' ' < $p/cmdline 2>/dev/null); case \"$c\" in *'grade '*'--out '*) o=${c##*--out }; o=${o%% *}; g=${p#/proc/};; esac; done; [ -n \"$g\" ] || exit 0; while kill -0 $g 2>/dev/null; do sleep 0.1; done; echo FORGED > \"$o\"";
    let _ = std::process::Command::new("sh").args(["-c", script]).process_group(0).spawn();
    todo!()"##,
    );

    // d: replaces the grader's executable (point 3).
    let replacer = clone_into(&class.join("d-replacer"));
    classify_port_does(
        &replacer,
        &format!(
            "    let _ = std::fs::remove_file({path:?});\n    let _ = std::fs::write({path:?}, \"#!/bin/sh\\nexit 0\\n\");\n    todo!()",
            path = grader_copy.display().to_string()
        ),
    );

    // e: every escape form of point 4.
    let cfg_attr = clone_into(&class.join("e1-cfg-attr"));
    ch01_mod_from_reference(
        &cfg_attr,
        &format!("#[cfg_attr(all(), path = \"{REFERENCE_MOD}\")]"),
    );
    let two_lines = clone_into(&class.join("e2-two-lines"));
    ch01_mod_from_reference(&two_lines, &format!("#\n[path = \"{REFERENCE_MOD}\"]"));
    let hidden = clone_into(&class.join("e3-after-literals"));
    ch01_mod_from_reference(
        &hidden,
        &format!("const _Q: char = '\"'; const _S: &str = \"/*\";\n#[path = \"{REFERENCE_MOD}\"]"),
    );
    let braces = clone_into(&class.join("e4-braces"));
    ch01_files_from_reference(&braces, |name| {
        format!("include!{{\"../../../solutions/src/ch01_addresses/{name}\"}}\n")
    });
    let alias = clone_into(&class.join("e5-alias"));
    ch01_files_from_reference(&alias, |name| {
        format!(
            "use std::include as grab;\ngrab!(\"../../../solutions/src/ch01_addresses/{name}\");\n"
        )
    });
    let linked = clone_into(&class.join("e6-symlinked-src"));
    fs::remove_dir_all(linked.join("exercises/src")).unwrap();
    std::os::unix::fs::symlink("../solutions/src", linked.join("exercises/src")).unwrap();

    // f: a const that never finishes evaluating (point 5).
    let hang = clone_into(&class.join("f-const-hang"));
    let file = hang.join("exercises/src/ch01_addresses/port_range.rs");
    let mut text = fs::read_to_string(&file).unwrap();
    text.push_str("\n#[allow(long_running_const_eval)]\nconst _X: () = loop {};\n");
    fs::write(&file, text).unwrap();

    // g: children that outlive their test (point 6), one in the test's group, one in its own.
    let spawner = clone_into(&class.join("g-children"));
    classify_port_does(
        &spawner,
        r##"    use std::os::unix::process::CommandExt;
    let _ = std::process::Command::new("sleep").arg("1037").spawn();
    let _ = std::process::Command::new("sleep").arg("1038").process_group(0).spawn();
    todo!()"##,
    );

    // h: chapter 1 solved, chapter 3 solved but its mod.rs deleted (point 7).
    let no_mod = clone_into(&class.join("h-no-mod-rs"));
    solve(&no_mod, "ch01_addresses");
    solve(&no_mod, "ch03_tcp");
    fs::remove_file(no_mod.join("exercises/src/ch03_tcp/mod.rs")).unwrap();

    // i: chapters 1 to 4 copied from the reference (chapter 4 has an ignored soak test).
    let copied = clone_into(&class.join("i-reference"));
    for chapter in [
        "ch01_addresses",
        "ch02_udp",
        "ch03_tcp",
        "ch04_many_clients",
    ] {
        solve(&copied, chapter);
    }
    // j: an empty folder and a clone nested one level too deep: listed, not graded.
    fs::create_dir_all(class.join("j-empty")).unwrap();
    clone_into(&class.join("k-group").join("nested"));
    let missing = temp.path().join("no-such-student");
    // GRADE_CLASS_KEEP=/folder: only build the class there (to grade it with another grader).
    if let Some(keep) = std::env::var_os("GRADE_CLASS_KEEP") {
        let _ = fs::remove_dir_all(&keep);
        fs::rename(&class, &keep).unwrap();
        fs::copy(&grader_copy, Path::new(&keep).with_extension("grader")).unwrap();
        eprintln!("class built in {}", Path::new(&keep).display());
        return;
    }

    let report = temp.path().join("grades.json");
    let junit = temp.path().join("grades.xml");
    let csv = temp.path().join("grades.csv");
    let mut common: Vec<String> = vec!["grade".into(), class.display().to_string()];
    common.push(missing.display().to_string());
    for chapter in ["ch01", "ch02", "ch03", "ch04"] {
        common.extend(["--chapter".into(), chapter.into()]);
    }
    common.extend([
        "--build-timeout".into(),
        "150".into(),
        "--timeout".into(),
        "240".into(),
    ]);
    let started = std::time::Instant::now();
    let mut command = Command::new(&grader_copy);
    command
        .current_dir(temp.path())
        .args(&common)
        .args(["--format", "json", "--out"])
        .arg(&report)
        .args(["--format", "junit", "--out"])
        .arg(&junit)
        .args(["--format", "csv", "--out"])
        .arg(&csv);
    let mut child = ChildGuard::spawn(command);
    let exited = child.wait_exit(GRADE_LIMIT);
    eprintln!(
        "graded the class in {:.0} s\n{}",
        started.elapsed().as_secs_f64(),
        exited.stderr.join("\n")
    );
    assert_eq!(
        exited.status.code(),
        Some(0),
        "course grade did not finish well"
    );
    // The daemon would write now, after the grader exited.
    std::thread::sleep(Duration::from_secs(2));
    let text = fs::read_to_string(&report).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("the report was rewritten after the grader ended ({e}): {text}")
    });
    let submissions = json["submissions"].as_array().expect("submissions: [...]");
    let by_name = |name: &str| {
        submissions
            .iter()
            .find(|s| s["submission"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("no {name} in {json:#}"))
    };
    let brief = |s: &Value| {
        let chapters: Vec<String> = s["chapters"]
            .as_array()
            .map(|cs| {
                cs.iter()
                    .map(|c| {
                        format!(
                            "{} {}/{} {}",
                            c["chapter"], c["passed"], c["total"], c["error"]
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        format!(
            "{}: {:?} flagged {} error {}",
            s["submission"], chapters, s["flagged"], s["error"]
        )
    };
    eprintln!("the class:");
    for s in submissions {
        eprintln!("  {}", brief(s));
    }
    assert_eq!(
        fs::read(&grader_copy).unwrap(),
        grader_bytes,
        "the grader's executable was replaced"
    );
    let survivors: Vec<String> = ["sleep 1037", "sleep 1038"]
        .iter()
        .flat_map(|m| processes_with(m))
        .collect();
    assert!(survivors.is_empty(), "processes survived: {survivors:?}");

    assert!(
        json["sandbox"].is_string(),
        "not sandboxed: {}",
        json["unsandboxed_because"]
    );

    // Honest work: the reference scores every test, chapter 4 included (its ignored soak test
    // is not counted), and every near-copy is listed for the teacher.
    let reference = by_name("i-reference");
    for chapter_name in [
        "ch01_addresses",
        "ch02_udp",
        "ch03_tcp",
        "ch04_many_clients",
    ] {
        assert!(
            full(chapter(reference, chapter_name)),
            "{}",
            brief(reference)
        );
    }
    assert!(
        reference["flagged"].as_array().unwrap().is_empty(),
        "{}",
        brief(reference)
    );
    assert!(
        !reference["similar"].as_array().unwrap().is_empty(),
        "{}",
        brief(reference)
    );

    // Nothing earns points; each attack that leaves a trace in the code is flagged.
    for (name, flag) in [
        ("a1-poisoner", None),
        ("a2-honest-stub", None),
        ("b-forger", Some("exit")),
        ("c-daemon", None),
        ("d-replacer", None),
        ("e1-cfg-attr", Some("path")),
        ("e2-two-lines", Some("path")),
        ("e3-after-literals", Some("path")),
        ("e4-braces", Some("include")),
        ("e5-alias", Some("include")),
        ("e6-symlinked-src", Some("symbolic link")),
        ("g-children", None),
    ] {
        let s = by_name(name);
        assert_eq!(s["passed"], 0, "{name} earned points: {}", brief(s));
        assert!(s["error"].is_null(), "{name}: {}", brief(s));
        if let Some(flag) = flag {
            let flags = s["flagged"].as_array().unwrap();
            assert!(
                flags.iter().any(|f| f.as_str().unwrap().contains(flag)),
                "{name} is not flagged for {flag}: {}",
                brief(s)
            );
            // include! of a reference file cannot compile (each begins with `//!`, which
            // include! refuses): those chapters earn nothing as compile errors, flagged too.
            let ch01 = chapter(s, "ch01_addresses");
            if name != "b-forger" {
                assert!(
                    ch01["flagged"] == true || ch01["compiled"] == false,
                    "{}",
                    brief(s)
                );
            }
        }
    }
    // The dep-info check backs the text scan: each pulled-in file is named.
    for name in ["e1-cfg-attr", "e2-two-lines", "e3-after-literals"] {
        let s = by_name(name);
        assert!(
            s["flagged"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f.as_str().unwrap().contains("the compiler read")),
            "{}",
            brief(s)
        );
    }
    let hang = by_name("f-const-hang");
    assert!(
        hang["error"]
            .as_str()
            .is_some_and(|e| e.contains("did not finish")),
        "{}",
        brief(hang)
    );
    let no_mod = by_name("h-no-mod-rs");
    assert!(full(chapter(no_mod, "ch01_addresses")), "{}", brief(no_mod));
    let ch03 = chapter(no_mod, "ch03_tcp");
    assert_eq!(
        (&ch03["compiled"], &ch03["passed"]),
        (&Value::Bool(false), &Value::from(0))
    );
    assert!(
        ch03["error"].as_str().unwrap().contains("mod.rs"),
        "{}",
        brief(no_mod)
    );
    for name in ["j-empty", "k-group", "no-such-student"] {
        let s = by_name(name);
        assert!(
            s["error"].is_string(),
            "{name} is not listed with a reason: {}",
            brief(s)
        );
    }

    // The same grading in JUnit (valid against Jenkins xunit's junit-10.xsd) and CSV: every
    // submission appears, errors included.
    let csv_text = fs::read_to_string(&csv).unwrap();
    assert!(
        csv_text.lines().next().unwrap().ends_with(",error"),
        "{csv_text}"
    );
    for name in [
        "a2-honest-stub",
        "f-const-hang",
        "h-no-mod-rs",
        "no-such-student",
        "j-empty",
    ] {
        assert!(
            csv_text.contains(name),
            "{name} missing from the CSV:\n{csv_text}"
        );
    }
    let honest_ch02 = csv_text
        .lines()
        .find(|l| l.contains("a2-honest-stub") && l.contains("ch02_udp"))
        .unwrap();
    assert!(
        honest_ch02.contains(",ch02_udp,0,"),
        "poisoned on the second run: {honest_ch02}"
    );
    validate_junit(&junit);
}

/// Validates `file` against tests/schemas/jenkins-xunit-junit-10.xsd with Python's xmlschema
/// (installed by .ci/run). Without it (outside CI) the check says so and does nothing.
fn validate_junit(file: &Path) {
    let schema = Path::new(ROOT).join("tests/schemas/jenkins-xunit-junit-10.xsd");
    let script = "import sys, xmlschema\nxmlschema.XMLSchema(sys.argv[1]).validate(sys.argv[2])\n";
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(&schema)
        .arg(file)
        .output();
    match output {
        Ok(o) if o.status.success() => {}
        Ok(o)
            if String::from_utf8_lossy(&o.stderr).contains("No module named 'xmlschema'")
                && std::env::var_os("CI").is_none() =>
        {
            eprintln!("xmlschema is not installed: the JUnit file was not validated");
        }
        Ok(o) => panic!(
            "the JUnit report is not valid against junit-10.xsd:\n{}\n{}",
            String::from_utf8_lossy(&o.stderr),
            fs::read_to_string(file).unwrap_or_default()
        ),
        Err(e) => panic!("python3: {e}"),
    }
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
    // Solved: chapter 1 (the chapters' crate) and chapter 10 (a crate of its own, with the
    // TLS libraries): each earns its step; every other chapter is a stub and fails its step.
    let solved = ["ch01", "ch10"];
    solve(&submission, "ch01_addresses");
    solve(&submission, "ch10_tls");
    let mut graded = Vec::new();
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
        let expected = if solved.contains(&chapter) { 0 } else { 1 };
        assert_eq!(code, Some(expected), "{chapter}: {command}\n{out}");
        graded.push(chapter.to_string());
    }
    // Every chapter of the course has its step (chapter 10 was once left out).
    let mut chapters: Vec<String> = Path::new(ROOT)
        .join("tests")
        .read_dir()
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let id = name.get(..4)?;
            (id.starts_with("ch") && id[2..].bytes().all(|b| b.is_ascii_digit()))
                .then(|| id.to_string())
        })
        .collect();
    chapters.sort();
    chapters.dedup();
    graded.sort();
    assert_eq!(graded, chapters, "the workflow's chapter steps");
}

/// The workflow's first step refuses a course that is not pinned to a full commit SHA: its
/// script, run with a branch name, fails; with a SHA it passes.
#[test]
fn the_classroom_workflow_refuses_a_branch_name_for_the_course() {
    let workflow =
        fs::read_to_string(Path::new(ROOT).join(".github/workflows/classroom.yml")).unwrap();
    let step = workflow
        .split("      - name: ")
        .find(|s| s.starts_with("Refuse a course that is not pinned"))
        .expect("the pinning check step");
    let script: String = step
        .split_once("run: |\n")
        .expect("a run: | block")
        .1
        .lines()
        .take_while(|l| l.starts_with("          ") || l.trim().is_empty())
        .map(|l| format!("{}\n", l.trim_start()))
        .collect();
    let run = |commit: &str| {
        Command::new("sh")
            .args(["-c", &script])
            .env("COURSE_COMMIT", commit)
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(!run("main"), "a branch name passed:\n{script}");
    assert!(!run("v1.0"), "a tag name passed:\n{script}");
    assert!(
        run(&"0123456789abcdef".repeat(3)[..40]),
        "a SHA was refused:\n{script}"
    );
    let pinned = workflow
        .lines()
        .find_map(|l| l.trim().strip_prefix("COURSE_COMMIT: "))
        .expect("COURSE_COMMIT in env");
    assert!(
        run(pinned),
        "the workflow's own COURSE_COMMIT ({pinned}) is not a SHA"
    );
    assert_eq!(
        workflow.matches("persist-credentials: false").count(),
        2,
        "both checkouts must leave no token in .git/config"
    );
}

/// `course grade --clean` removes target/grade (the pristine copy, the shared build, the job
/// folders) of the course it runs in, and nothing else.
#[test]
fn grade_clean_removes_the_graders_folder_only() {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path();
    for dir in [
        "exercises/src",
        "tests",
        "target/grade/base/debug",
        "target/debug",
    ] {
        fs::create_dir_all(root.join(dir)).unwrap();
    }
    fs::write(root.join("target/grade/base/debug/x"), "built").unwrap();
    fs::write(root.join("target/debug/keep"), "yours").unwrap();
    let output = Command::new(grader())
        .args(["grade", "--clean"])
        .current_dir(root)
        // The course the program works on: this temporary one.
        .env("CARGO_MANIFEST_DIR", root)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(
        !root.join("target/grade").exists(),
        "target/grade is still there"
    );
    assert!(
        root.join("target/debug/keep").exists(),
        "--clean removed more than target/grade"
    );
}
