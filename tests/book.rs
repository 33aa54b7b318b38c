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
