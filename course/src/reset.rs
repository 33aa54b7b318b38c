//! `cargo run -- reset EXERCISE`: puts an exercise's file back as it is committed (the stub,
//! unless you committed your own work), after a yes. Your version is kept in
//! `.course/backup/` first, so nothing is lost.

use std::fs;
use std::io::{BufRead, Write};
use std::process::{Command, ExitCode, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use course_catalog::exercises::{EXERCISES, Exercise, exercise};
use course_catalog::{fill, text};

use crate::run::{Course, write_state};

pub fn main(course: &Course, id: &str, yes: bool) -> ExitCode {
    let Some(exercise) = exercise(id) else {
        eprintln!("{}", fill("course.unknown_exercise", &[("id", &id)]));
        return ExitCode::from(2);
    };
    let sharing: Vec<&str> = EXERCISES
        .iter()
        .filter(|e| e.file == exercise.file)
        .map(|e| e.id)
        .collect();
    if sharing.len() > 1 {
        println!(
            "{}",
            fill(
                "reset.shared",
                &[("file", &exercise.file), ("ids", &sharing.join(", "))]
            )
        );
    }
    if !yes {
        print!("{} ", fill("reset.confirm", &[("file", &exercise.file)]));
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "はい") {
            println!("{}", text("reset.kept"));
            return ExitCode::SUCCESS;
        }
    }
    match reset_file(course, exercise) {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// Puts `exercise`'s file back as committed; says what it did (and where the learner's
/// version went).
pub fn reset_file(course: &Course, exercise: &Exercise) -> Result<String, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(&course.root)
        .args(["show", &format!("HEAD:{}", exercise.file)])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| fill("course.no_stubs", &[("error", &e)]))?;
    if !output.status.success() {
        let error = String::from_utf8_lossy(&output.stderr).trim().to_string();
        return Err(fill("course.no_stubs", &[("error", &error)]));
    }
    let path = course.root.join(exercise.file);
    let current = fs::read(&path).unwrap_or_default();
    if current == output.stdout {
        return Ok(fill("reset.already", &[("file", &exercise.file)]));
    }
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let backup = course
        .state_dir()
        .join("backup")
        .join(format!("{}.{stamp}", exercise.file));
    write_state(&backup, &current).map_err(|e| e.to_string())?;
    fs::write(&path, &output.stdout).map_err(|e| e.to_string())?;
    let shown = backup.strip_prefix(&course.root).unwrap_or(&backup);
    Ok(fill(
        "reset.done",
        &[("file", &exercise.file), ("backup", &shown.display())],
    ))
}
