//! Finding Python for the interop tests, by the contract's rule: a Rust test cannot be
//! skipped at run time, so where Python is missing a test says why it did nothing and passes,
//! except under `CI=true`, where a missing tool is a failure (CI installs what it needs).

use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// A `Command` for Python 3 (`python3`, or `python` where only that exists, as on Windows),
/// or `None` with a note on stderr when there is none and this is not CI.
pub fn python3() -> Option<Command> {
    // Starting Python takes a while: look for it once per test binary, not once per test.
    static FOUND: OnceLock<Option<&'static str>> = OnceLock::new();
    let found = *FOUND.get_or_init(|| {
        ["python3", "python"].into_iter().find(|name| {
            Command::new(name)
                .args([
                    "-c",
                    "import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        })
    });
    let Some(name) = found else {
        return missing("Python 3 (python3)");
    };
    let mut command = Command::new(name);
    command.arg("-u"); // unbuffered: each line reaches the test as soon as it is printed
    Some(command)
}

/// [`python3`], provided the Python package `module` can be imported (`cryptography`, say);
/// otherwise `None` with a note (a failure under `CI=true`).
pub fn python3_with(module: &str) -> Option<Command> {
    // Checked once per module and test binary (importing `cryptography` is slow).
    static CHECKED: Mutex<Vec<(String, bool)>> = Mutex::new(Vec::new());
    let mut checked = CHECKED.lock().unwrap_or_else(|e| e.into_inner());
    let importable = match checked.iter().find(|(m, _)| m == module) {
        Some(&(_, importable)) => importable,
        None => {
            let importable = python3()?
                .args(["-c", &format!("import {module}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            checked.push((module.to_owned(), importable));
            importable
        }
    };
    drop(checked);
    if !importable {
        return missing(&format!(
            "the Python package `{module}` (python3 -m pip install -r tests/requirements.txt)"
        ));
    }
    python3()
}

fn missing(what: &str) -> Option<Command> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} is required under CI=true; .ci/run installs it");
    }
    // Straight to stderr: libtest hides what a passing test prints with `eprintln!`.
    let note = format!("note: {what} is not installed here, so this interop test did nothing\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), note.as_bytes());
    None
}
