//! The two books stay in step and include only code that exists: same pages in the same order,
//! a link from every page to its twin, and every `{{#include}}` anchor present in its file.
//!
//! The book shows the exercise stubs as committed. On a learner's clone the files under
//! `exercises/` hold the learner's own code, so the checks that read them (anchors, widths,
//! quoted panic locations) run only where `COURSE_CHECK_STUBS=1` says the files are the stubs:
//! `.ci/run` sets it. Elsewhere they say so and check the rest, so `cargo test --features
//! solutions` passes whatever a learner has written.

use std::path::Path;

use course_harness::book::check_books_skipping;

/// Whether the files under `exercises/` are the committed stubs (the course's own CI).
fn stubs_checked() -> bool {
    let checked = std::env::var("COURSE_CHECK_STUBS").is_ok_and(|v| v == "1");
    if !checked {
        println!(
            "the includes of exercises/ are checked by .ci/run (COURSE_CHECK_STUBS=1), \
             where they are the committed stubs"
        );
    }
    checked
}

#[test]
fn both_books_have_the_same_pages_and_every_include_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let books = root.join("book");
    let exercises = root.join("exercises");
    let check_stubs = stubs_checked();
    let skip = |path: &Path| {
        !check_stubs
            && path
                .canonicalize()
                .is_ok_and(|p| p.starts_with(exercises.canonicalize().unwrap_or_default()))
    };
    let problems = check_books_skipping(&books, &["en", "ja"], &skip);
    assert!(
        problems.is_empty(),
        "the books have {} problem(s):\n- {}",
        problems.len(),
        problems.join("\n- ")
    );
}

/// A stub's panic location quoted in the book (`panicked at exercises/src/...rs:39:5`) still
/// points at the stub's `todo!()`: reformatting a file must not leave the book's output stale.
#[test]
fn quoted_stub_locations_point_at_the_todo() {
    if !stubs_checked() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();
    for lang in ["en", "ja"] {
        let src = root.join("book").join(lang).join("src");
        for entry in std::fs::read_dir(&src).unwrap().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for quoted in text.split("panicked at exercises/").skip(1) {
                let location = quoted.split([':', '\n']).take(3).collect::<Vec<_>>();
                let [file, line, column] = location[..] else {
                    continue;
                };
                let (Ok(line), Ok(column)) = (line.parse::<usize>(), column.parse::<usize>())
                else {
                    continue;
                };
                let source =
                    std::fs::read_to_string(root.join("exercises").join(file)).unwrap_or_default();
                let at = source.lines().nth(line - 1).unwrap_or("");
                if at
                    .get(column - 1..)
                    .is_none_or(|rest| !rest.starts_with("todo!()"))
                {
                    problems.push(format!(
                        "{lang}/{}: quotes exercises/{file}:{line}:{column}, where there is no todo!()",
                        entry.file_name().to_string_lossy()
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The README speaks to both languages alike: the Japanese part has a section for each
/// section of the English one, and shows the same commands.
#[test]
fn the_japanese_readme_has_every_section_and_command_of_the_english_one() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let (english, japanese) = readme
        .split_once("\n## 日本語\n")
        .expect("a `## 日本語` part");
    let sections = |text: &str, mark: &str| {
        text.lines()
            .filter(|l| l.starts_with(mark) && !l.starts_with(&format!("{mark}#")))
            .count()
    };
    assert_eq!(
        sections(english, "## "),
        sections(japanese, "### "),
        "English sections (##) and Japanese sections (###) differ in number"
    );
    // Every `cargo ...`/`python3 ...` command shown after a `$` prompt in English is shown in
    // Japanese too (comments after `#` are the language's own).
    let commands = |text: &str| -> std::collections::BTreeSet<String> {
        text.lines()
            .filter_map(|l| l.trim_start().strip_prefix("$ "))
            .map(|c| c.split(" #").next().unwrap_or(c).trim().to_string())
            .collect()
    };
    let missing: Vec<_> = commands(english)
        .difference(&commands(japanese))
        .cloned()
        .collect();
    assert!(missing.is_empty(), "not in the Japanese part: {missing:?}");
}

/// The README names the Rust version the workspace asks for (`rust-version` in Cargo.toml), in
/// both languages: a learner with an older toolchain reads it before cargo refuses.
#[test]
fn the_readme_names_the_workspace_s_rust_version() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let version = manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("rust-version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("rust-version in the workspace's Cargo.toml");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for wanted in [
        format!("version {version} or newer"),
        format!("バージョン {version} 以降"),
    ] {
        assert!(
            readme.contains(&wanted),
            "README.md does not say `{wanted}`"
        );
    }
}
