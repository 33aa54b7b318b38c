//! Every exercise's grade command (`cargo run` prints it; the book and the hints show it) is
//! true: one line a shell accepts, `cargo test --test <chapter>` and its filters, that runs
//! exactly that exercise's tests, at least one, and none of another exercise's.
//!
//! How: the command is split into argv as a shell would and read as cargo reads it (one test
//! name before `--`, any number after); the chapter's test binary is run with `--list` and
//! those filters, and what it lists must equal the chapter's tests for which
//! [`Exercise::grades`] is true. Every chapter test must be graded by exactly one exercise.
//!
//! What this file does not run: that the listed tests pass on the reference is
//! `cargo test --features solutions` itself (it runs every chapter test); that at least one of
//! them fails on the stub follows from `.ci/run`'s stub check (every chapter test fails on the
//! untouched stubs) together with the non-emptiness checked here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use course_catalog::exercises::{CHAPTERS, EXERCISES, Exercise};

/// The tests a binary lists for `filters` (`--list` prints `name: test` per test, ignored
/// tests included).
fn listed(binary: &Path, filters: &[&str]) -> BTreeSet<String> {
    let output = Command::new(binary)
        .arg("--list")
        .args(filters)
        .output()
        .unwrap_or_else(|e| panic!("test setup: could not run {}: {e}", binary.display()));
    assert!(
        output.status.success(),
        "test setup: {} --list {filters:?} failed: {}",
        binary.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_string)
        .collect()
}

/// The filters cargo hands to the test binary for `command`, or why a shell or cargo would
/// not run it as meant.
fn filters_of(command: &str, chapter: &str) -> Result<Vec<String>, String> {
    // A shell splits at runs of blanks and gives meaning to quotes, globs and the like; a
    // command that needs none of that is one it runs as written, word for word.
    if let Some(c) = command
        .chars()
        .find(|c| "'\"\\$`*?[]{}()<>|&;#~!\t\n".contains(*c))
    {
        return Err(format!("a shell would treat `{c}` specially"));
    }
    let argv: Vec<&str> = command.split(' ').collect();
    if argv.iter().any(|word| word.is_empty()) {
        return Err("stray spaces: an empty word between two spaces".into());
    }
    // Chapter 10's commands name the feature its tests need: `cargo test --features ch10 ...`.
    let mut start = vec!["cargo", "test"];
    if let Some(feature) = course_catalog::exercises::chapter_features(chapter) {
        start.extend(["--features", feature]);
    }
    start.extend(["--test", chapter]);
    if argv.len() < start.len() || argv[..start.len()] != start {
        return Err(format!("it does not start with `{}`", start.join(" ")));
    }
    // Cargo takes one TESTNAME before `--` and passes everything after `--` to the binary.
    let rest = &argv[start.len()..];
    let (before, after) = match rest.iter().position(|w| *w == "--") {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    if let Some(option) = before.iter().find(|w| w.starts_with('-')) {
        return Err(format!("unexpected option `{option}` before `--`"));
    }
    if before.len() > 1 {
        return Err(format!(
            "cargo rejects it: unexpected argument '{}' (one test name before `--`)",
            before[1]
        ));
    }
    if let Some(option) = after.iter().find(|w| w.starts_with('-')) {
        return Err(format!("`{option}` would change what libtest runs"));
    }
    Ok(before.iter().chain(after).map(|w| w.to_string()).collect())
}

#[test]
fn every_grade_command_runs_exactly_its_exercises_tests() {
    let chapters: Vec<&str> = CHAPTERS.iter().map(|c| c.id).collect();
    let binaries = course_harness::program::test_binaries(
        &chapters,
        env!("CARGO_MANIFEST_DIR"),
        cfg!(feature = "solutions"),
    )
    .unwrap_or_else(|e| panic!("test setup: could not build the chapter tests:\n{e}"));
    let mut problems = Vec::new();
    for chapter in &chapters {
        let binary = &binaries[*chapter];
        let all = listed(binary, &[]);
        let exercises: Vec<&Exercise> =
            EXERCISES.iter().filter(|e| e.chapter == *chapter).collect();
        for exercise in &exercises {
            let command = exercise.command();
            let filters = match filters_of(&command, chapter) {
                Ok(filters) => filters,
                Err(why) => {
                    problems.push(format!("{} `{command}`: {why}", exercise.id));
                    continue;
                }
            };
            let filters: Vec<&str> = filters.iter().map(String::as_str).collect();
            let runs = listed(binary, &filters);
            let graded: BTreeSet<String> =
                all.iter().filter(|t| exercise.grades(t)).cloned().collect();
            if runs.is_empty() {
                problems.push(format!("{} `{command}` runs no test", exercise.id));
            }
            for test in runs.difference(&graded) {
                problems.push(format!(
                    "{} `{command}` runs {test}, which grades() does not count",
                    exercise.id
                ));
            }
            for test in graded.difference(&runs) {
                problems.push(format!(
                    "{} `{command}` does not run {test}, which grades() counts",
                    exercise.id
                ));
            }
        }
        // One owner per test: a filter that also matches another exercise's test (a module
        // whose name contains another's, `run_client::` and `client::`) shows up here.
        let mut owners: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for test in &all {
            let of: Vec<&str> = exercises
                .iter()
                .filter(|e| e.grades(test))
                .map(|e| e.id)
                .collect();
            owners.insert(test, of);
        }
        for (test, of) in owners {
            match of.len() {
                1 => {}
                0 => problems.push(format!("{chapter}: {test} grades no exercise")),
                _ => problems.push(format!(
                    "{chapter}: {test} is graded by several exercises: {}",
                    of.join(", ")
                )),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "grade commands that are not true ({}):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Every `cargo test --test chNN_...` the book, the README and the catalogs show: (file:line,
/// command), without a trailing `# comment`.
fn shown_commands() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    for folder in ["book/en/src", "book/ja/src", "catalog/messages"] {
        let mut entries: Vec<_> = std::fs::read_dir(root.join(folder))
            .unwrap_or_else(|e| panic!("test setup: cannot read {folder}: {e}"))
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        files.extend(entries);
    }
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let name = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        for (number, line) in text.lines().enumerate() {
            let mut rest = line;
            // Chapter 10's commands name its feature first: `cargo test --features ch10 --test`.
            while let Some(at) = [
                "cargo test --test ch",
                "cargo test --features ch10 --test ch",
            ]
            .iter()
            .filter_map(|p| rest.find(p))
            .min()
            {
                let command = &rest[at..];
                let end = command.find('`').unwrap_or(command.len());
                let command = command[..end].split(" #").next().unwrap_or("").trim_end();
                found.push((format!("{name}:{}", number + 1), command.to_string()));
                rest = &rest[at + end..];
            }
        }
    }
    found
}

#[test]
fn every_shown_command_is_true_and_the_books_show_every_grade_command() {
    let chapters: Vec<&str> = CHAPTERS.iter().map(|c| c.id).collect();
    let binaries = course_harness::program::test_binaries(
        &chapters,
        env!("CARGO_MANIFEST_DIR"),
        cfg!(feature = "solutions"),
    )
    .unwrap_or_else(|e| panic!("test setup: could not build the chapter tests:\n{e}"));
    let shown = shown_commands();
    let mut problems = Vec::new();
    for (place, command) in &shown {
        let Some(chapter) = chapters.iter().find(|c| {
            let words: Vec<&str> = command.split(' ').collect();
            let at = words.iter().position(|w| *w == "--test");
            at.and_then(|at| words.get(at + 1)) == Some(*c)
        }) else {
            problems.push(format!("{place}: `{command}` names no chapter's tests"));
            continue;
        };
        // The whole chapter, or its ignored (soak) tests: nothing to select.
        let features = course_catalog::exercises::chapter_features(chapter)
            .map(|f| format!(" --features {f}"))
            .unwrap_or_default();
        let whole = format!("cargo test{features} --test {chapter}");
        if *command == whole || *command == format!("{whole} -- --ignored") {
            continue;
        }
        match filters_of(command, chapter) {
            Err(why) => problems.push(format!("{place}: `{command}`: {why}")),
            Ok(filters) => {
                let filters: Vec<&str> = filters.iter().map(String::as_str).collect();
                if listed(&binaries[*chapter], &filters).is_empty() {
                    problems.push(format!("{place}: `{command}` runs no test"));
                }
            }
        }
    }
    for exercise in EXERCISES {
        let command = exercise.command();
        for lang in ["en", "ja"] {
            let in_book = shown
                .iter()
                .any(|(place, c)| place.starts_with(&format!("book/{lang}/")) && *c == command);
            if !in_book {
                problems.push(format!(
                    "book/{lang} does not show {}'s grade command `{command}`",
                    exercise.id
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_command_is_read_as_a_shell_and_cargo_would_read_it() {
    let ok = |command: &str| filters_of(command, "ch01_addresses");
    assert_eq!(
        ok("cargo test --test ch01_addresses port_range::"),
        Ok(vec!["port_range::".to_string()])
    );
    assert_eq!(
        ok("cargo test --test ch01_addresses -- a:: b::"),
        Ok(vec!["a::".to_string(), "b::".to_string()])
    );
    for bad in [
        "cargo test --test ch01_addresses a:: b::",
        "cargo test --test ch01_addresses  a::",
        "cargo test --test ch01_addresses spec::*_threads",
        "cargo test --test ch02_udp a::",
        "cargo test --test ch01_addresses -- a:: --exact",
    ] {
        assert!(ok(bad).is_err(), "`{bad}` should be rejected");
    }
}
