//! Checks that keep the two mdBooks honest: the same pages in the same order, a link from each
//! page to the same page in the other language, every `{{#include}}` pointing at a file and
//! an anchor that exist (a renamed anchor would otherwise silently include nothing), and every
//! included line fitting the text column (wider lines scroll sideways).
//!
//! `tests/book.rs` runs [`check_books`] on the real books; `tests/harness_book.rs` feeds it
//! broken books to show that it catches what it claims to.

use std::fs;
use std::path::{Path, PathBuf};

/// The widest included line, in characters, that fits mdBook's text column without scrolling.
pub const MAX_LISTING_WIDTH: usize = 86;

/// Every problem found in the books under `books` (which holds one folder per language, each
/// an mdBook with `src/SUMMARY.md`). Empty means all is well.
pub fn check_books(books: &Path, languages: &[&str]) -> Vec<String> {
    check_books_skipping(books, languages, &|_| false)
}

/// [`check_books`], leaving out includes of the files for which `skip` is true (the course's
/// own `tests/book.rs` leaves out the exercise files on a learner's clone, where they are no
/// longer the stubs the book shows).
pub fn check_books_skipping(
    books: &Path,
    languages: &[&str],
    skip: &dyn Fn(&Path) -> bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut summaries = Vec::new();
    for lang in languages {
        let src = books.join(lang).join("src");
        match fs::read_to_string(src.join("SUMMARY.md")) {
            Ok(text) => summaries.push((*lang, src, summary_pages(&text))),
            Err(e) => problems.push(format!("{lang}: cannot read src/SUMMARY.md: {e}")),
        }
    }

    if let Some((first_lang, _, first_pages)) = summaries.first() {
        for (lang, _, pages) in &summaries[1..] {
            if pages != first_pages {
                problems.push(format!(
                    "SUMMARY.md of `{first_lang}` and `{lang}` list different pages or orders:\n  {first_lang}: {}\n  {lang}: {}",
                    first_pages.join(", "),
                    pages.join(", ")
                ));
            }
        }
    }

    for (lang, src, pages) in &summaries {
        for page in pages {
            let path = src.join(page);
            let Ok(text) = fs::read_to_string(&path) else {
                problems.push(format!(
                    "{lang}: SUMMARY.md lists `{page}`, which does not exist"
                ));
                continue;
            };
            for other in languages.iter().filter(|other| *other != lang) {
                let link = format!(
                    "(../{other}/{})",
                    page.trim_end_matches(".md").to_string() + ".html"
                );
                if !text.contains(&link) {
                    problems.push(format!(
                        "{lang}/{page}: no link to the same page in `{other}` (expected a link to `{}`)",
                        &link[1..link.len() - 1]
                    ));
                }
            }
        }
        for file in markdown_files(src) {
            let text = fs::read_to_string(&file).unwrap_or_default();
            let shown = file
                .strip_prefix(books)
                .unwrap_or(&file)
                .display()
                .to_string();
            problems.extend(
                check_includes(&file, &text, skip)
                    .into_iter()
                    .map(|p| format!("{shown}: {p}")),
            );
        }
    }
    problems
}

/// The page paths a `SUMMARY.md` links to, in order (`[Title](path.md)`; drafts with an empty
/// link are skipped).
pub fn summary_pages(summary: &str) -> Vec<String> {
    let mut pages = Vec::new();
    for line in summary.lines() {
        let mut rest = line;
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].trim();
            if target.ends_with(".md") {
                pages.push(target.to_string());
            }
            rest = &after[end..];
        }
    }
    pages
}

/// One `{{#include path:anchor}}` (or `rustdoc_include`) directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    pub path: String,
    /// `None` for a whole file or a line range (`:3:10`).
    pub anchor: Option<String>,
}

/// The include directives in a markdown text.
pub fn includes(markdown: &str) -> Vec<Include> {
    let mut found = Vec::new();
    for directive in ["{{#include ", "{{#rustdoc_include "] {
        let mut rest = markdown;
        while let Some(start) = rest.find(directive) {
            let after = &rest[start + directive.len()..];
            let Some(end) = after.find("}}") else { break };
            let spec = after[..end].trim();
            let (path, selector) = match spec.split_once(':') {
                Some((path, selector)) => (path, Some(selector)),
                None => (spec, None),
            };
            // A selector that starts with a digit or a colon is a line range, not an anchor.
            let anchor = selector
                .filter(|s| {
                    !s.is_empty() && !s.starts_with(|c: char| c.is_ascii_digit() || c == ':')
                })
                .map(str::to_string);
            found.push(Include {
                path: path.to_string(),
                anchor,
            });
            rest = &after[end..];
        }
    }
    found
}

/// Problems with the includes of one markdown file at `file`.
fn check_includes(file: &Path, text: &str, skip: &dyn Fn(&Path) -> bool) -> Vec<String> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut problems = Vec::new();
    for include in includes(text) {
        let target = dir.join(&include.path);
        if skip(&target) {
            continue;
        }
        let Ok(source) = fs::read_to_string(&target) else {
            problems.push(format!("includes `{}`, which does not exist", include.path));
            continue;
        };
        if let Some(anchor) = &include.anchor {
            check_anchor(&include.path, anchor, &source, &mut problems);
        }
        let shown = shown_lines(&source, include.anchor.as_deref());
        for (number, line) in shown {
            let width = line.chars().count();
            if width > MAX_LISTING_WIDTH {
                problems.push(format!(
                    "includes `{}` line {number}, {width} characters wide (at most {MAX_LISTING_WIDTH} fit the text column)",
                    include.path
                ));
            }
        }
    }
    problems
}

/// The lines of `source` that an include shows, with their 1-based line numbers: the region
/// of `anchor` (or the whole file), without the ANCHOR marker lines mdBook removes.
pub fn shown_lines<'a>(source: &'a str, anchor: Option<&str>) -> Vec<(usize, &'a str)> {
    let is_marker = |line: &str| line.contains("ANCHOR: ") || line.contains("ANCHOR_END: ");
    let names = |line: &str, marker: &str, name: &str| {
        line.split_once(marker)
            .is_some_and(|(_, found)| found.trim() == name)
    };
    let mut inside = anchor.is_none();
    let mut lines = Vec::new();
    for (index, line) in source.lines().enumerate() {
        if let Some(name) = anchor {
            if names(line, "ANCHOR: ", name) {
                inside = true;
                continue;
            }
            if names(line, "ANCHOR_END: ", name) {
                inside = false;
                continue;
            }
        }
        if inside && !is_marker(line) {
            lines.push((index + 1, line));
        }
    }
    lines
}

fn check_anchor(path: &str, anchor: &str, source: &str, problems: &mut Vec<String>) {
    let has = |marker: &str| {
        source.lines().any(|line| {
            line.split_once(marker)
                .is_some_and(|(_, name)| name.trim() == anchor)
        })
    };
    if !has("ANCHOR: ") || !has("ANCHOR_END: ") {
        problems.push(format!(
            "includes `{path}:{anchor}`, but that file has no `ANCHOR: {anchor}` ... `ANCHOR_END: {anchor}` pair"
        ));
    }
}

fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(markdown_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "md") {
            files.push(path);
        }
    }
    files.sort();
    files
}
