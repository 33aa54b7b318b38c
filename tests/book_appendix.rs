//! The appendix on article E claims that each of the article's two mistakes, copied into
//! Rust, is a compile error with a particular code (and so is using a socket after closing
//! it, which Python's `with` cannot prevent). A `compile_fail` doctest would pass on
//! *any* error (a typo too), so this test runs `rustc` on each wrong listing in
//! `tests/compile_fail/` and checks that it fails with exactly the code the book names, and
//! nothing else. (The fixed version is `examples/appendix_article_e.rs`, compiled by cargo.)

use std::path::PathBuf;
use std::process::Command;

use rstest::rstest;

/// `rustc` of the toolchain that runs the tests (cargo sets `RUSTC` for build scripts only,
/// so fall back to the one on `PATH`, which rustup points at the same toolchain).
fn rustc() -> Command {
    Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
}

#[rstest]
#[case::bind_with_two_arguments(
    "article_e_bind_two_args.rs",
    "E0061",
    "this function takes 1 argument but 2 arguments were supplied"
)]
#[case::receive_on_an_undefined_name(
    "article_e_undefined_name.rs",
    "E0425",
    "cannot find value `conn` in this scope"
)]
#[case::use_after_close("article_e_use_after_close.rs", "E0382", "borrow of moved value: `s`")]
fn the_wrong_listing_fails_with_exactly_the_error_the_book_shows(
    #[case] file: &str,
    #[case] code: &str,
    #[case] message: &str,
) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/compile_fail");
    let out = tempfile::tempdir().expect("test setup: a temporary directory");
    let output = rustc()
        .current_dir(&dir)
        .args([
            "--edition",
            "2024",
            "--crate-type",
            "bin",
            "--emit",
            "metadata",
        ])
        .arg("--out-dir")
        .arg(out.path())
        .arg(file)
        .env_remove("RUSTC_WRAPPER")
        .output()
        .expect("could not run rustc");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "{file} compiled, but the book says it does not"
    );

    // Every error rustc reported, with its code: `error[E0061]: ...` or a bare `error: ...`.
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("error"))
        .filter(|line| !line.starts_with("error: aborting due to"))
        .collect();
    assert_eq!(
        errors,
        [format!("error[{code}]: {message}")],
        "{file}: rustc should report exactly one error, {code}; its output:\n{stderr}"
    );

    // Both books show this error as rustc prints it: the same first line and location.
    let location = stderr
        .lines()
        .find(|line| line.trim_start().starts_with(&format!("--> {file}:")))
        .expect("rustc names the file and line of the error");
    for lang in ["en", "ja"] {
        let page = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("book")
            .join(lang)
            .join("src/appendix-article-e.md");
        let text = std::fs::read_to_string(&page).expect("the appendix page exists");
        for shown in [errors[0], location] {
            assert!(
                text.contains(shown),
                "book/{lang}'s appendix should show rustc's line {shown:?} for {file}"
            );
        }
    }
}
