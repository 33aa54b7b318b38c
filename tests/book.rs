//! The two books stay in step and include only code that exists: same pages in the same order,
//! a link from every page to its twin, and every `{{#include}}` anchor present in its file.

use std::path::Path;

use course_harness::book::check_books;

#[test]
fn both_books_have_the_same_pages_and_every_include_resolves() {
    let books = Path::new(env!("CARGO_MANIFEST_DIR")).join("book");
    let problems = check_books(&books, &["en", "ja"]);
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
