//! The `course` program, run on a miniature course: a folder with two chapters' files, a
//! stand-in `cargo` (a shell script, through the `CARGO` variable the program honours) that
//! "builds" test binaries, and stand-in test binaries that write libtest's `--logfile`
//! lines. So these tests check what the program concludes from test results (the table, the
//! next exercise, both languages, a chapter that does not compile, hints in steps) without
//! compiling anything. Unix only: the stand-ins are shell scripts.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use course_catalog::exercises::of_chapter;

/// A miniature course in a temporary folder: chapter 1 passes, chapter 2 fails.
fn miniature() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for chapter in ["ch01_addresses", "ch02_udp"] {
        fs::create_dir_all(root.join("exercises/src").join(chapter)).unwrap();
        fs::write(root.join("exercises/src").join(chapter).join("mod.rs"), "").unwrap();
        fs::create_dir_all(root.join("tests")).unwrap();
        fs::write(root.join("tests").join(format!("{chapter}.rs")), "").unwrap();
        // The test binary: one line per test of each exercise, as libtest logs it.
        let verdict = if chapter == "ch01_addresses" {
            "ok"
        } else {
            "failed"
        };
        let mut lines = String::new();
        for exercise in of_chapter(chapter) {
            for prefix in exercise.tests {
                lines.push_str(&format!("{verdict} {prefix}some_test\n"));
            }
        }
        script(
            &root.join("bin").join(chapter),
            &format!("[ \"$1\" = --logfile ] || exit 9\nprintf '%s' '{lines}' > \"$2\"\n"),
        );
    }
    // `cargo test --no-run`: fails with a compile error while the file `broken` exists.
    script(
        &root.join("bin/cargo"),
        &format!(
            "if [ -f {root}/broken ]; then\n\
             echo 'exercises/src/ch02_udp/mod.rs:3:5: error[E0425]: cannot find value `x` in this scope' >&2\n\
             exit 101\nfi\n\
             echo '  Executable tests/ch01_addresses.rs ({root}/bin/ch01_addresses)' >&2\n\
             echo '  Executable tests/ch02_udp.rs ({root}/bin/ch02_udp)' >&2\n",
            root = root.display()
        ),
    );
    dir
}

fn script(path: &Path, body: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs `course ARGS` on the miniature course in `lang`; returns its stdout.
fn course(root: &Path, lang: &str, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_course"))
        .args(args)
        .current_dir(root)
        .env("CARGO_MANIFEST_DIR", root)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env("CARGO", root.join("bin/cargo"))
        .env("COURSE_LANG", lang)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "course {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn with_chapter_1_solved_it_points_at_chapter_2s_first_exercise_in_both_languages() {
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

    let ja = course(dir.path(), "ja", &[]);
    assert!(ja.contains(&format!("次は演習 {}", first.id)), "{ja}");
    assert!(ja.contains("book/ja/src/ch02-udp.md"), "{ja}");
    assert!(ja.contains(&format!("{ch01}/{ch01} 完了")), "{ja}");
}

#[test]
fn a_chapter_that_does_not_compile_is_named_and_the_others_keep_their_results() {
    let dir = miniature();
    course(dir.path(), "en", &[]);
    fs::write(dir.path().join("broken"), "").unwrap();
    fs::write(
        dir.path().join("exercises/src/ch02_udp/mod.rs"),
        "let y = x;\n",
    )
    .unwrap();
    let out = course(dir.path(), "en", &[]);
    assert!(out.contains("Chapter 2 does not compile"), "{out}");
    assert!(
        out.contains("exercises/src/ch02_udp/mod.rs:3:5: error[E0425]"),
        "{out}"
    );
    let ch01 = of_chapter("ch01_addresses").count();
    assert!(out.contains(&format!("{ch01}/{ch01} done")), "{out}");

    // Fixed: it is run again.
    fs::remove_file(dir.path().join("broken")).unwrap();
    fs::write(dir.path().join("exercises/src/ch02_udp/mod.rs"), "").unwrap();
    let out = course(dir.path(), "en", &[]);
    assert!(!out.contains("does not compile"), "{out}");
}

#[test]
fn hints_come_in_steps_and_the_step_is_remembered() {
    let dir = miniature();
    let ex = of_chapter("ch02_udp").next().unwrap();
    let idea = course_catalog::text_in(course_catalog::Lang::En, &format!("ex.{}.idea", ex.id));
    let api = course_catalog::text_in(course_catalog::Lang::En, &format!("ex.{}.api", ex.id));
    let first = course(dir.path(), "en", &["hint"]);
    assert!(
        first.contains(&format!("Exercise {}", ex.id)) && first.contains(idea),
        "{first}"
    );
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
}

#[test]
fn list_shows_every_exercise_of_the_chapters_present_with_its_state() {
    let dir = miniature();
    let out = course(dir.path(), "en", &["list"]);
    for exercise in of_chapter("ch01_addresses").chain(of_chapter("ch02_udp")) {
        assert!(out.contains(exercise.id), "{out}");
    }
    assert!(
        !out.contains("3.1"),
        "chapter 3 is not in the miniature course:\n{out}"
    );
    assert_eq!(out.matches("<- next").count(), 1, "{out}");
}
