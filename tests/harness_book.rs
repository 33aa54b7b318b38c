//! Self-tests of the book checker: a book pair that is in step passes, and each kind of
//! breakage (missing page, different order, broken anchor, missing file, missing language
//! link) is reported.

use std::fs;
use std::path::Path;

use course_harness::book::{Include, check_books, includes, summary_pages};
use tempfile::TempDir;

/// Two small books in step, plus a source file with one anchor.
fn good_books() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "code/x.rs",
        "// ANCHOR: main\nfn main() {}\n// ANCHOR_END: main\n",
    );
    for (lang, other) in [("en", "ja"), ("ja", "en")] {
        write(
            root,
            &format!("book/{lang}/src/SUMMARY.md"),
            "# Summary\n\n- [One](one.md)\n- [Two](two.md)\n",
        );
        write(
            root,
            &format!("book/{lang}/src/one.md"),
            &format!(
                "[other](../{other}/one.html)\n\n```rust\n{{{{#include ../../../code/x.rs:main}}}}\n```\n"
            ),
        );
        write(
            root,
            &format!("book/{lang}/src/two.md"),
            &format!("[other](../{other}/two.html)\n"),
        );
    }
    dir
}

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn problems(dir: &TempDir) -> Vec<String> {
    check_books(&dir.path().join("book"), &["en", "ja"])
}

#[test]
fn books_in_step_have_no_problems() {
    let dir = good_books();
    assert_eq!(problems(&dir), Vec::<String>::new());
}

#[test]
fn a_page_missing_from_one_book_is_reported() {
    let dir = good_books();
    fs::remove_file(dir.path().join("book/ja/src/two.md")).unwrap();
    let found = problems(&dir);
    assert!(
        found
            .iter()
            .any(|p| p.contains("ja: SUMMARY.md lists `two.md`, which does not exist")),
        "{found:#?}"
    );
}

#[test]
fn pages_in_a_different_order_are_reported() {
    let dir = good_books();
    write(
        dir.path(),
        "book/ja/src/SUMMARY.md",
        "# Summary\n\n- [Two](two.md)\n- [One](one.md)\n",
    );
    let found = problems(&dir);
    assert!(
        found
            .iter()
            .any(|p| p.contains("list different pages or orders")),
        "{found:#?}"
    );
}

#[test]
fn a_broken_anchor_is_reported() {
    let dir = good_books();
    write(
        dir.path(),
        "code/x.rs",
        "// ANCHOR: renamed\nfn main() {}\n// ANCHOR_END: renamed\n",
    );
    let found = problems(&dir);
    assert_eq!(found.len(), 2, "one per book: {found:#?}");
    assert!(found[0].contains("no `ANCHOR: main`"), "{found:#?}");
}

#[test]
fn an_anchor_without_its_end_is_reported() {
    let dir = good_books();
    write(dir.path(), "code/x.rs", "// ANCHOR: main\nfn main() {}\n");
    assert_eq!(problems(&dir).len(), 2);
}

#[test]
fn a_missing_included_file_is_reported() {
    let dir = good_books();
    fs::remove_file(dir.path().join("code/x.rs")).unwrap();
    let found = problems(&dir);
    assert!(
        found
            .iter()
            .any(|p| p.contains("includes `../../../code/x.rs`, which does not exist")),
        "{found:#?}"
    );
}

#[test]
fn a_page_without_a_link_to_its_twin_is_reported() {
    let dir = good_books();
    write(dir.path(), "book/en/src/two.md", "no link here\n");
    let found = problems(&dir);
    assert!(
        found
            .iter()
            .any(|p| p.contains("en/two.md: no link to the same page in `ja`")),
        "{found:#?}"
    );
}

#[test]
fn summary_links_are_read_in_order_and_drafts_skipped() {
    let summary = "# Summary\n[Intro](intro.md)\n- [A](a.md)\n  - [B](sub/b.md)\n- [Draft]()\n";
    assert_eq!(summary_pages(summary), ["intro.md", "a.md", "sub/b.md"]);
}

#[test]
fn include_directives_tell_anchors_from_line_ranges() {
    let text = "{{#include a.rs:main}} {{#include b.rs}} {{#include c.rs:3:10}} {{#rustdoc_include d.rs:x}} {{#include e.rs::5}}";
    let found = includes(text);
    let anchor = |path: &str, anchor: Option<&str>| Include {
        path: path.into(),
        anchor: anchor.map(Into::into),
    };
    assert_eq!(
        found,
        [
            anchor("a.rs", Some("main")),
            anchor("b.rs", None),
            anchor("c.rs", None),
            anchor("e.rs", None),
            anchor("d.rs", Some("x")),
        ]
    );
}

#[test]
fn an_included_line_wider_than_the_text_column_is_reported() {
    let dir = good_books();
    let wide = format!("    let x = \"{}\";", "w".repeat(80));
    write(
        dir.path(),
        "code/x.rs",
        &format!("// ANCHOR: main\nfn main() {{\n{wide}\n}}\n// ANCHOR_END: main\n{wide}\n"),
    );
    let found = problems(&dir);
    // Line 3 is shown (inside the anchor) in both books; line 6 is outside it and not shown.
    let wide_lines: Vec<_> = found
        .iter()
        .filter(|p| p.contains("characters wide"))
        .collect();
    assert_eq!(wide_lines.len(), 2, "{found:#?}");
    assert!(
        wide_lines[0].contains("line 3, 95 characters wide"),
        "{found:#?}"
    );
}
