//! The `course` program, run on a miniature course: a git repository with three chapters'
//! files, a stand-in `cargo` (a shell script, through the `CARGO` variable the program honours)
//! that "builds" test binaries and prints cargo's JSON messages, and stand-in test binaries
//! that write libtest's `--logfile` lines and its failure report. So these tests check what
//! the program concludes from test results (the table, the next exercise and why it fails,
//! both languages, a chapter that does not compile, hints in steps, list, reset, watch)
//! without compiling anything. Unix only: the stand-ins are shell scripts.
#![cfg(unix)]

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use course_catalog::exercises::{Exercise, of_chapter};

/// The chapters of the miniature course: chapter 1 passes, chapters 2 and 3 fail.
const CHAPTERS: [&str; 3] = ["ch01_addresses", "ch02_udp", "ch03_tcp"];

/// What the stand-in test binaries print for a failing test (libtest's report).
const REASON: &str = "expected the reply `hello` from 127.0.0.1:40000";

/// A miniature course in a temporary folder, committed to git (the committed files are the
/// stubs the program puts back).
fn miniature() -> tempfile::TempDir {
    miniature_of(&CHAPTERS, |e| e.chapter == "ch01_addresses")
}

/// A miniature course of `chapters`, where the tests of the exercises that `passes` picks
/// pass and the others fail.
fn miniature_of(chapters: &[&str], passes: fn(&Exercise) -> bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("tests")).unwrap();
    for &chapter in chapters {
        fs::create_dir_all(root.join("exercises/src").join(chapter)).unwrap();
        fs::write(
            root.join("exercises/src").join(chapter).join("mod.rs"),
            "// stub\n",
        )
        .unwrap();
        for exercise in of_chapter(chapter) {
            fs::write(root.join(exercise.file), "// stub\n").unwrap();
        }
        fs::write(root.join("tests").join(format!("{chapter}.rs")), "").unwrap();
        // The test binary: one line per test of each exercise, as libtest logs it, and for
        // a failing chapter libtest's report of the first test on stdout.
        let mut lines = String::new();
        for exercise in of_chapter(chapter) {
            let verdict = if passes(exercise) { "ok" } else { "failed" };
            for prefix in exercise.tests {
                lines.push_str(&format!("{verdict} {prefix}some_test\n"));
            }
        }
        let failing = of_chapter(chapter).find(|e| !passes(e));
        let first = format!("{}some_test", failing.map_or("", |e| e.tests[0]));
        let report = if failing.is_some() {
            format!(
                "failures:\n\n---- {first} stdout ----\n\nthread '{first}' panicked at tests/{chapter}.rs:10:5:\n{REASON}\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n\n\nfailures:\n    {first}\n"
            )
        } else {
            String::new()
        };
        script(
            &root.join("bin").join(chapter),
            &format!(
                "[ \"$1\" = --logfile ] || exit 9\nprintf '%s' '{lines}' > \"$2\"\nprintf '%s' '{report}'\n"
            ),
        );
    }
    // `cargo test --no-run --message-format=json --test ...`: every call is logged; a compile
    // error while chapter 2's mod.rs (in the folder it runs in) says BROKEN.
    script(
        &root.join("bin/cargo"),
        &format!(
            "echo \"$PWD $*\" >> {root}/cargo-calls\n\
             tests=''\n\
             while [ $# -gt 0 ]; do [ \"$1\" = --test ] && {{ tests=\"$tests $2\"; shift; }}; shift; done\n\
             if grep -q BROKEN exercises/src/ch02_udp/mod.rs; then\n\
             echo '{{\"reason\":\"compiler-message\",\"message\":{{\"level\":\"error\",\"message\":\"cannot find value `x` in this scope\",\"spans\":[{{\"file_name\":\"exercises/src/ch02_udp/mod.rs\",\"line_start\":3,\"is_primary\":true}}]}}}}'\n\
             exit 101\nfi\n\
             for t in $tests; do\n\
             echo \"{{\\\"reason\\\":\\\"compiler-artifact\\\",\\\"target\\\":{{\\\"kind\\\":[\\\"test\\\"],\\\"name\\\":\\\"$t\\\"}},\\\"executable\\\":\\\"{root}/bin/$t\\\"}}\"\n\
             done\n",
            root = root.display()
        ),
    );
    for args in [
        &["init", "-q"][..],
        &["add", "exercises", "tests"],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "stubs",
        ],
    ] {
        let status = Command::new("git")
            .args(args)
            .current_dir(root)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }
    // The exercises that pass are solved (their stand-in passes whatever the file says).
    for exercise in chapters
        .iter()
        .flat_map(|c| of_chapter(c))
        .filter(|e| passes(e))
    {
        fs::write(root.join(exercise.file), "// solved\n").unwrap();
    }
    dir
}

fn script(path: &Path, body: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// The `course` program on the miniature course at `root`, in `lang`.
fn command(root: &Path, lang: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_course"));
    command
        .args(args)
        .current_dir(root)
        .env("CARGO_MANIFEST_DIR", root)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env("CARGO", root.join("bin/cargo"))
        .env("COURSE_LANG", lang);
    command
}

/// Runs `course ARGS` on the miniature course in `lang` with `stdin`; returns its stdout
/// (after checking it exited 0).
fn course_with(root: &Path, lang: &str, args: &[&str], stdin: &str) -> String {
    let mut child = command(root, lang, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "course {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn course(root: &Path, lang: &str, args: &[&str]) -> String {
    course_with(root, lang, args, "")
}

#[test]
fn with_chapter_1_solved_it_points_at_chapter_2s_first_exercise_and_says_why_it_fails() {
    let dir = miniature();
    let first = of_chapter("ch02_udp").next().unwrap();
    let ch01 = of_chapter("ch01_addresses").count();

    let en = course(dir.path(), "en", &[]);
    assert!(en.contains(&format!("{ch01}/{ch01} done")), "{en}");
    assert!(en.contains(&format!("Next: exercise {}", first.id)), "{en}");
    assert!(en.contains(first.file), "{en}");
    assert!(en.contains("book/en/src/ch02-udp.md"), "{en}");
    assert!(en.contains(&first.command()), "{en}");
    assert!(en.contains(&format!("{}some_test", first.tests[0])), "{en}");
    // The reason: the failing test's own message, without libtest's backtrace note.
    assert!(en.contains(REASON), "{en}");
    assert!(en.contains("tests/ch02_udp.rs:10:5"), "{en}");
    assert!(!en.contains("RUST_BACKTRACE"), "{en}");

    let ja = course(dir.path(), "ja", &[]);
    assert!(ja.contains(&format!("次は演習 {}", first.id)), "{ja}");
    assert!(ja.contains("book/ja/src/ch02-udp.md"), "{ja}");
    assert!(ja.contains(&format!("{ch01}/{ch01} 完了")), "{ja}");
    // The side this program was built for, in Japanese (`--features solutions` builds it for
    // the reference).
    let side = if cfg!(feature = "solutions") {
        "模範解答"
    } else {
        "あなたの演習"
    };
    assert!(ja.contains(&format!("（{side}）")), "{ja}");
}

#[test]
fn a_chapter_that_does_not_compile_costs_that_chapter_only() {
    let dir = miniature();
    let root = dir.path();
    course(root, "en", &[]);
    // Chapter 2 breaks, and chapter 1 changes: chapter 1 must still be graded (in a copy of
    // the course where chapter 2 is its committed stub).
    fs::write(root.join("exercises/src/ch02_udp/mod.rs"), "BROKEN\n").unwrap();
    for exercise in of_chapter("ch01_addresses") {
        fs::write(root.join(exercise.file), "// solved, and changed\n").unwrap();
    }
    let _ = fs::remove_file(root.join("cargo-calls"));
    let out = course(root, "en", &[]);
    assert!(out.contains("Chapter 2 does not compile"), "{out}");
    assert!(
        out.contains("exercises/src/ch02_udp/mod.rs:3: error: cannot find value `x`"),
        "{out}"
    );
    let ch01 = of_chapter("ch01_addresses").count();
    assert!(out.contains(&format!("{ch01}/{ch01} done")), "{out}");
    let calls = fs::read_to_string(root.join("cargo-calls")).unwrap();
    assert!(
        calls
            .lines()
            .any(|l| l.contains("target/course/shadow ") && l.contains("ch01_addresses")),
        "chapter 1 was not built again in the copy:\n{calls}"
    );
    // The copy holds chapter 2's stub, never the learner's broken file.
    let copy = fs::read_to_string(root.join("target/course/shadow/exercises/src/ch02_udp/mod.rs"));
    assert_eq!(copy.unwrap(), "// stub\n");
    // The learner's file is untouched.
    assert_eq!(
        fs::read_to_string(root.join("exercises/src/ch02_udp/mod.rs")).unwrap(),
        "BROKEN\n"
    );
    // hint and list still answer.
    assert!(course(root, "en", &["list"]).contains("does not compile"));
    assert!(course(root, "en", &["hint"]).contains("Hint 1 of"));

    // Fixed: it is run again.
    fs::write(root.join("exercises/src/ch02_udp/mod.rs"), "// fixed\n").unwrap();
    let out = course(root, "en", &[]);
    assert!(!out.contains("does not compile"), "{out}");
}

#[test]
fn hints_come_in_steps_and_the_step_is_remembered_outside_target() {
    let dir = miniature();
    let ex = of_chapter("ch02_udp").next().unwrap();
    let idea = course_catalog::text_in(course_catalog::Lang::En, &format!("ex.{}.idea", ex.id));
    let api = course_catalog::text_in(course_catalog::Lang::En, &format!("ex.{}.api", ex.id));
    let first = course(dir.path(), "en", &["hint"]);
    assert!(
        first.contains(&format!("Exercise {}", ex.id)) && first.contains(idea),
        "{first}"
    );
    // `cargo clean` removes target/: the step is kept in .course/.
    let _ = fs::remove_dir_all(dir.path().join("target"));
    let second = course(dir.path(), "en", &["hint", ex.id]);
    assert!(second.contains(api) && !second.contains(idea), "{second}");
    let third = course(dir.path(), "en", &["hint", ex.id]);
    assert!(
        third.contains(&ex.book_link(course_catalog::Lang::En)),
        "{third}"
    );
    assert!(third.contains("last hint"), "{third}");
    course(dir.path(), "en", &["hint", ex.id, "--reset"]);
    let again = course(dir.path(), "ja", &["hint", ex.id]);
    let idea_ja = course_catalog::text_in(course_catalog::Lang::Ja, &format!("ex.{}.idea", ex.id));
    assert!(again.contains(idea_ja), "{again}");
    assert!(dir.path().join(".course/hints.txt").is_file());
}

#[test]
fn list_shows_every_exercise_of_the_chapters_present_with_its_state_and_file() {
    let dir = miniature();
    let out = course(dir.path(), "en", &["list"]);
    for exercise in CHAPTERS.iter().flat_map(|c| of_chapter(c)) {
        assert!(out.contains(exercise.id), "{out}");
        assert!(out.contains(exercise.file), "{out}");
    }
    assert!(
        !out.contains("4.1"),
        "chapter 4 is not in the miniature course:\n{out}"
    );
    assert_eq!(out.matches("<- next").count(), 1, "{out}");
}

#[test]
fn list_json_gives_each_exercise_its_state_counts_file_and_grade_command() {
    let dir = miniature();
    let out = course(dir.path(), "en", &["list", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&out).expect(&out);
    let side = if cfg!(feature = "solutions") {
        "solutions"
    } else {
        "exercises"
    };
    assert_eq!(json["side"], side);
    let listed = json["exercises"].as_array().unwrap();
    let expected: Vec<_> = CHAPTERS.iter().flat_map(|c| of_chapter(c)).collect();
    assert_eq!(listed.len(), expected.len(), "{out}");
    for (row, exercise) in listed.iter().zip(&expected) {
        assert_eq!(row["id"], exercise.id);
        assert_eq!(row["file"], exercise.file);
        assert_eq!(row["command"], exercise.command());
        let number = course_catalog::exercises::chapter(exercise.chapter)
            .unwrap()
            .number;
        assert_eq!(row["chapter"], number);
        let total = exercise.tests.len() as u64;
        if exercise.chapter == "ch01_addresses" {
            assert_eq!(row["state"], "done", "{row}");
            assert_eq!(
                (row["passed"].as_u64(), row["total"].as_u64()),
                (Some(total), Some(total))
            );
        } else {
            assert_eq!(row["state"], "failing", "{row}");
            assert_eq!(
                (row["passed"].as_u64(), row["total"].as_u64()),
                (Some(0), Some(total))
            );
        }
        assert!(
            row["title"].as_str().is_some_and(|t| !t.is_empty()),
            "{row}"
        );
    }
}

/// Chapter 4's "go further" exercises (mio, tokio, the limits) never block "Next": with every
/// required exercise solved, the course says so, and counts the optional ones apart.
#[test]
fn go_further_exercises_never_block_next_and_are_marked_in_list_and_json() {
    let chapters = ["ch03_tcp", "ch04_many_clients"];
    let dir = miniature_of(&chapters, |e| !e.optional);
    let optional: Vec<&Exercise> = of_chapter("ch04_many_clients")
        .filter(|e| e.optional)
        .collect();
    assert!(!optional.is_empty(), "chapter 4 has go-further exercises");
    let required = of_chapter("ch04_many_clients").count() - optional.len();

    let en = course(dir.path(), "en", &[]);
    assert!(en.contains("Every exercise passes"), "{en}");
    assert!(!en.contains("Next: exercise"), "{en}");
    assert!(
        en.contains(&format!(
            "{required}/{required} done, go further 0/{}",
            optional.len()
        )),
        "{en}"
    );
    assert!(
        en.contains(&format!(
            "Go further: {} optional exercises remain",
            optional.len()
        )),
        "{en}"
    );
    let ja = course(dir.path(), "ja", &[]);
    assert!(
        ja.contains(&format!("発展課題が {} 個", optional.len())),
        "{ja}"
    );

    let list = course(dir.path(), "en", &["list"]);
    assert_eq!(
        list.matches("(go further)").count(),
        optional.len(),
        "{list}"
    );
    assert!(!list.contains("<- next"), "{list}");

    let json: serde_json::Value =
        serde_json::from_str(&course(dir.path(), "en", &["list", "--json"])).unwrap();
    for row in json["exercises"].as_array().unwrap() {
        let exercise = course_catalog::exercises::exercise(row["id"].as_str().unwrap()).unwrap();
        assert_eq!(row["optional"], exercise.optional, "{row}");
    }

    // `hint` without an exercise has nothing to point at either.
    assert!(course(dir.path(), "en", &["hint"]).contains("Every exercise passes"));
}

#[test]
fn reset_asks_first_keeps_a_backup_and_puts_the_committed_stub_back() {
    let dir = miniature();
    let root = dir.path();
    let exercise = of_chapter("ch02_udp").next().unwrap();
    let file = root.join(exercise.file);
    fs::write(&file, "my work\n").unwrap();

    let out = course_with(root, "en", &["reset", exercise.id], "n\n");
    assert!(out.contains("Nothing changed"), "{out}");
    assert_eq!(fs::read_to_string(&file).unwrap(), "my work\n");

    let out = course_with(root, "ja", &["reset", exercise.id], "y\n");
    assert!(out.contains("コミットされた状態に戻しました"), "{out}");
    assert_eq!(fs::read_to_string(&file).unwrap(), "// stub\n");
    let backups: Vec<_> = fs::read_dir(
        root.join(".course/backup")
            .join(Path::new(exercise.file).parent().unwrap()),
    )
    .unwrap()
    .flatten()
    .map(|e| fs::read_to_string(e.path()).unwrap())
    .collect();
    assert_eq!(backups, ["my work\n"]);

    let out = course(root, "en", &["reset", exercise.id, "--yes"]);
    assert!(out.contains("already as committed"), "{out}");
}

#[test]
fn help_is_in_japanese_under_course_lang_ja() {
    let dir = miniature();
    let ja = course(dir.path(), "ja", &["--help"]);
    for word in ["使い方", "コマンド", "ヒント", "オプション"] {
        assert!(ja.contains(word), "{ja}");
    }
    assert!(!ja.contains("Usage:") && !ja.contains("Print help"), "{ja}");
    let sub = course(dir.path(), "ja", &["reset", "--help"]);
    assert!(sub.contains("確認せずに戻します"), "{sub}");
    let en = course(dir.path(), "en", &["--help"]);
    assert!(en.contains("Usage:"), "{en}");
}

/// `course watch` with its output read on a thread: each screen starts by clearing it.
struct Watch {
    child: std::process::Child,
    output: mpsc::Receiver<String>,
    seen: String,
}

impl Watch {
    fn start(root: &Path) -> Watch {
        let mut child = command(root, "en", &["watch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, output) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buffer) {
                if n == 0
                    || tx
                        .send(String::from_utf8_lossy(&buffer[..n]).into_owned())
                        .is_err()
                {
                    return;
                }
            }
        });
        Watch {
            child,
            output,
            seen: String::new(),
        }
    }

    /// Everything printed until `quiet` passes with nothing new (or 10 s in all).
    fn settle(&mut self, quiet: Duration) -> &str {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            match self.output.recv_timeout(quiet) {
                Ok(text) => self.seen.push_str(&text),
                Err(_) => break,
            }
        }
        &self.seen
    }

    fn screens(&self) -> usize {
        self.seen.matches("\x1b[2J").count()
    }

    fn key(&mut self, key: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(key.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn watch_redraws_once_per_change_of_content_and_shows_the_compiler_error() {
    let dir = miniature();
    let root = dir.path();
    let mut watch = Watch::start(root);
    let first = watch.settle(Duration::from_millis(700)).to_string();
    assert!(first.contains("keys: n next"), "{first}");
    assert!(
        first.contains(REASON),
        "the first failure's message:\n{first}"
    );
    assert_eq!(watch.screens(), 1, "{first}");

    // Idle, and a file only read or rewritten with the same content: no redraw.
    let file = root.join("exercises/src/ch02_udp/mod.rs");
    let _ = fs::read(&file).unwrap();
    fs::write(&file, fs::read(&file).unwrap()).unwrap();
    watch.settle(Duration::from_millis(700));
    assert_eq!(watch.screens(), 1, "{}", watch.seen);

    // A change of content: one redraw, and only chapter 2 is built.
    let _ = fs::remove_file(root.join("cargo-calls"));
    fs::write(&file, "// a change\n").unwrap();
    watch.settle(Duration::from_millis(700));
    assert_eq!(watch.screens(), 2, "{}", watch.seen);
    let calls = fs::read_to_string(root.join("cargo-calls")).unwrap();
    assert!(
        calls
            .lines()
            .all(|l| l.contains("--test ch02_udp") && !l.contains("ch01")),
        "{calls}"
    );

    // A compile error in the current exercise's chapter: shown with its file and line.
    fs::write(&file, "BROKEN\n").unwrap();
    let seen = watch.settle(Duration::from_millis(700)).to_string();
    assert_eq!(watch.screens(), 3, "{seen}");
    let last = seen.rsplit("\x1b[2J").next().unwrap();
    assert!(last.contains("does not compile"), "{last}");
    assert!(last.contains("exercises/src/ch02_udp/mod.rs:3"), "{last}");

    // h shows a hint without running anything; q quits.
    watch.key("h");
    let seen = watch.settle(Duration::from_millis(500)).to_string();
    assert!(
        seen.rsplit("\x1b[2J").next().unwrap().contains("Hint 1 of"),
        "{seen}"
    );
    watch.key("q");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = watch.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "watch did not quit on q"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
}

/// The chapters of a miniature course where chapter 10 (which needs the TLS crates, `--features
/// ch10`) comes after chapter 1.
const WITH_CH10: [&str; 2] = ["ch01_addresses", "ch10_tls"];

/// The cargo calls the stand-in logged since the last call of this function.
fn cargo_calls(root: &Path) -> String {
    let calls = fs::read_to_string(root.join("cargo-calls")).unwrap_or_default();
    let _ = fs::remove_file(root.join("cargo-calls"));
    calls
}

/// Chapter 10's tests compile rustls, ring and quinn: while an exercise before it is not done,
/// no refresh asks cargo for them (`cargo run`, `list`, `hint`), both languages say why and
/// print the command that builds it now, and that command, run as printed, builds it.
#[test]
fn chapter_10_is_not_built_before_the_learner_gets_there_unless_asked() {
    let dir = miniature_of(&WITH_CH10, |_| false);
    let root = dir.path();
    let en = course(root, "en", &[]);
    let calls = cargo_calls(root);
    assert!(calls.contains("--test ch01_addresses"), "{calls}");
    assert!(
        !calls.contains("ch10"),
        "chapter 10 was built before the learner got there:\n{calls}"
    );
    assert!(en.contains("not built yet"), "{en}");
    assert!(
        en.contains("Chapter 10 is not built yet: its tests compile the TLS and QUIC libraries"),
        "{en}"
    );
    let first = of_chapter("ch01_addresses").next().unwrap();
    assert!(en.contains(&format!("Next: exercise {}", first.id)), "{en}");
    let ja = course(root, "ja", &[]);
    assert!(ja.contains("第 10 章はまだビルドしていません"), "{ja}");
    assert!(
        ja.contains("今すぐビルドするには: cargo run -- progress 10"),
        "{ja}"
    );
    let list = course(root, "en", &["list"]);
    assert!(list.contains("not built yet"), "{list}");
    assert!(
        list.contains("To build it now: cargo run -- progress 10"),
        "{list}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&course(root, "en", &["list", "--json"])).unwrap();
    for row in json["exercises"].as_array().unwrap() {
        let in_ch10 = row["file"].as_str().unwrap().contains("ch10_tls");
        assert_eq!(row["deferred"], in_ch10, "{row}");
    }
    course(root, "en", &["hint"]);
    let calls = cargo_calls(root);
    assert!(!calls.contains("ch10"), "{calls}");

    // The command it printed, run as printed, builds chapter 10 with its feature and shows
    // its first exercise.
    let printed = en
        .lines()
        .find_map(|l| l.split("To build it now: ").nth(1))
        .expect("the command that builds chapter 10 now");
    let args: Vec<&str> = printed
        .strip_prefix("cargo run -- ")
        .unwrap_or_else(|| panic!("not a `cargo run` command: {printed}"))
        .split(' ')
        .collect();
    let out = course(root, "en", &args);
    let calls = cargo_calls(root);
    assert!(
        calls
            .lines()
            .any(|l| l.contains("--features ch10") && l.contains("--test ch10_tls")),
        "{calls}"
    );
    let ten = of_chapter("ch10_tls").next().unwrap();
    assert!(out.contains(&format!("Next: exercise {}", ten.id)), "{out}");
    assert!(out.contains(&ten.command()), "{out}");
    assert!(!out.contains("not built yet"), "{out}");
    // Built once, it is kept up to date like the others.
    assert!(!course(root, "en", &[]).contains("not built yet"));

    // A chapter the course does not have is a usage error.
    let status = command(root, "en", &["progress", "42"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2));
}

/// Once every exercise before chapter 10 passes, the same `cargo run` that saw them pass
/// builds chapter 10 (with its feature) and points at its first exercise.
#[test]
fn chapter_10_is_built_once_every_exercise_before_it_passes() {
    let dir = miniature_of(&WITH_CH10, |e| e.chapter == "ch01_addresses");
    let root = dir.path();
    let out = course(root, "en", &[]);
    let calls = cargo_calls(root);
    assert!(
        calls
            .lines()
            .any(|l| l.contains("--features ch10") && l.contains("--test ch10_tls")),
        "{calls}"
    );
    let ten = of_chapter("ch10_tls").next().unwrap();
    assert!(out.contains(&format!("Next: exercise {}", ten.id)), "{out}");
    assert!(!out.contains("not built yet"), "{out}");
}
