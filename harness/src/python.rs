//! Finding Python for the interop tests, by the contract's rule: a Rust test cannot be
//! skipped at run time, so where Python is missing a test says why it did nothing and passes,
//! except under `CI=true`, where a missing tool is a failure (CI installs what it needs).

use std::process::{Command, Stdio};

/// A `Command` for Python 3 (`python3`, or `python` where only that exists, as on Windows),
/// or `None` with a note on stderr when there is none and this is not CI.
pub fn python3() -> Option<Command> {
    for name in ["python3", "python"] {
        let works = Command::new(name)
            .args([
                "-c",
                "import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if works {
            let mut command = Command::new(name);
            command.arg("-u"); // unbuffered: each line reaches the test as soon as it is printed
            return Some(command);
        }
    }
    missing("Python 3 (python3)")
}

/// [`python3`], provided the Python package `module` can be imported (`cryptography`, say);
/// otherwise `None` with a note (a failure under `CI=true`).
pub fn python3_with(module: &str) -> Option<Command> {
    let mut check = python3()?;
    let importable = check
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
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
    eprintln!("note: {what} is not installed here, so this interop test did nothing");
    None
}
