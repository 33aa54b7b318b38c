//! [`program!`]: the path of one of the course's command-line programs, built on demand.
//!
//! The programs live in a package of their own (`programs/`), so a chapter's test binary links
//! only the code it calls: editing an exercise rebuilds that chapter's tests, not 20 programs.
//! A test that runs a program asks for it here; the first call in a test process runs
//! `cargo build -p course-programs --bin NAME` for the same side of the switch (`--features
//! solutions` when the test was built with it), the same profile and the same target folder,
//! and later calls reuse the answer.
//!
//! [`test_binaries`] finds the chapters' test binaries the same way, for the test that runs
//! each exercise's grade command against them (`tests/grade_commands.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// The path of program `name` (`"udp-server"`), built for the side of the switch the calling
/// test was built for. Panics (test setup) with cargo's message if it does not build.
///
/// ```ignore
/// let mut command = std::process::Command::new(course_harness::program!("udp-server"));
/// ```
#[macro_export]
macro_rules! program {
    ($name:expr) => {
        $crate::program::path(
            $name,
            env!("CARGO_MANIFEST_DIR"),
            cfg!(feature = "solutions"),
        )
    };
}

/// What [`program!`] expands to: `manifest_dir` is the calling package's folder (the course's
/// root), `solutions` whether it was built with `--features solutions`.
pub fn path(name: &str, manifest_dir: &str, solutions: bool) -> PathBuf {
    static BUILT: OnceLock<Mutex<BTreeMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    // One build at a time in this process: cargo would serialise them on its lock anyway.
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let path = build(name, Path::new(manifest_dir), solutions)
        .unwrap_or_else(|message| panic!("test setup: could not build `{name}`:\n{message}"));
    built.insert(name.to_string(), path.clone());
    path
}

/// The target folder and cargo profile this test binary was built in:
/// `<target>/<profile dir>/deps/<test>-<hash>`.
fn target_and_profile() -> Option<(PathBuf, &'static str)> {
    let exe = std::env::current_exe().ok()?;
    let deps = exe.parent()?;
    let profile_dir = deps.parent()?;
    let target = profile_dir.parent()?;
    let profile = match profile_dir.file_name()?.to_str()? {
        "release" => "release",
        _ => "dev",
    };
    Some((target.to_path_buf(), profile))
}

/// `cargo` in `root`, for the side of the switch `solutions` names, and for the same target
/// folder and profile as the running test binary (`cargo test` builds tests with the `test`
/// profile, which makes the same binaries as `dev`: `--profile dev` for `build`, nothing for
/// `test`).
fn cargo(root: &Path, solutions: bool, args: &[&str]) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(root).args(args).stdin(Stdio::null());
    course_catalog::without_inherited_cargo_env(&mut command);
    if solutions {
        command.args(["--features", "solutions"]);
    }
    if let Some((target, profile)) = target_and_profile() {
        // A target folder named in the environment wins (the `course` program builds a copy
        // of the course in a target folder of its own, and runs its tests with
        // CARGO_TARGET_DIR naming that folder).
        if std::env::var_os("CARGO_TARGET_DIR").is_none() {
            command.arg("--target-dir").arg(target);
        }
        if args.first() != Some(&"test") {
            command.args(["--profile", profile]);
        } else if profile == "release" {
            command.arg("--release");
        }
    }
    command
}

/// The integration-test binaries `names` (`"ch01_addresses"`) of the package in
/// `manifest_dir`, built if need be (`cargo test --no-run --test NAME ...`) for the side of the
/// switch `solutions` names, the running test's profile and target folder: name to path.
pub fn test_binaries(
    names: &[&str],
    manifest_dir: &str,
    solutions: bool,
) -> Result<BTreeMap<String, PathBuf>, String> {
    let mut args = vec!["test", "--quiet", "--no-run"];
    args.extend(["--message-format", "json-render-diagnostics"]);
    for name in names {
        args.extend(["--test", name]);
    }
    // Chapter 10's tests need the feature `ch10` (its TLS crates); the others none.
    let features: Vec<&str> = names
        .iter()
        .filter_map(|n| course_catalog::exercises::chapter_features(n))
        .collect();
    let features = features.join(",");
    if !features.is_empty() {
        args.extend(["--features", &features]);
    }
    let output = cargo(Path::new(manifest_dir), solutions, &args)
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let mut found = BTreeMap::new();
    for line in stdout.lines() {
        if !line.contains("\"reason\":\"compiler-artifact\"") {
            continue;
        }
        // `.../deps/ch01_addresses-0123456789abcdef`: the test's name, a dash, a hash.
        if let Some(path) = json_string(line, "executable") {
            let stem = Path::new(&path).file_stem().and_then(|s| s.to_str());
            if let Some((name, _hash)) = stem.and_then(|s| s.rsplit_once('-'))
                && names.contains(&name)
            {
                found.insert(name.to_string(), PathBuf::from(&path));
            }
        }
    }
    match names.iter().find(|n| !found.contains_key(**n)) {
        Some(missing) => Err(format!("cargo named no test binary `{missing}`:\n{stdout}")),
        None => Ok(found),
    }
}

fn build(name: &str, root: &Path, solutions: bool) -> Result<PathBuf, String> {
    let mut command = cargo(
        root,
        solutions,
        &["build", "--quiet", "-p", "course-programs", "--bin", name],
    );
    // Chapter 10's programs need its TLS crates (the feature `ch10`), the others do not.
    if name.starts_with("tls-") || name.starts_with("quic-") {
        command.args(["--features", "ch10"]);
    }
    command.args(["--message-format", "json-render-diagnostics"]);
    let output = command.output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    // The artifact message of the binary: `..."executable":"/path/to/udp-server",...`.
    for line in stdout.lines() {
        if !line.contains("\"reason\":\"compiler-artifact\"") {
            continue;
        }
        if let Some(path) = json_string(line, "executable")
            && Path::new(&path).file_stem().and_then(|s| s.to_str()) == Some(name)
        {
            return Ok(PathBuf::from(path));
        }
    }
    Err(format!(
        "cargo built `{name}` but named no executable:\n{stdout}"
    ))
}

/// The string value of `"key":"..."` in one line of cargo's JSON (paths: `\\` and `\"` are
/// the only escapes they can hold).
fn json_string(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut value = String::new();
    let mut chars = line[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => value.push(chars.next()?),
            c => value.push(c),
        }
    }
    None
}
