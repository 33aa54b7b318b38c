//! `cargo run -- hint [EXERCISE]`: hints in steps (the idea, the API to look at, the book
//! section), never the answer. The step each exercise has reached is kept in
//! `.course/hints.txt`, so each call shows the next one.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::ExitCode;

use course_catalog::exercises::{Exercise, exercise};
use course_catalog::{fill, lang};

use crate::progress::refresh;
use crate::run::{Course, write_state};

pub fn main(course: &Course, id: Option<&str>, reset: bool) -> ExitCode {
    let exercise: &Exercise = match id {
        Some(id) => match exercise(id) {
            Some(e) => e,
            None => {
                eprintln!("{}", fill("course.unknown_exercise", &[("id", &id)]));
                return ExitCode::from(2);
            }
        },
        None => {
            let Some(progress) = refresh(course) else {
                return ExitCode::FAILURE;
            };
            match progress.next(course) {
                Some(e) => e,
                None => {
                    println!("{}", course_catalog::text("course.all_done"));
                    return ExitCode::SUCCESS;
                }
            }
        }
    };
    if reset {
        let file = course.state_dir().join("hints.txt");
        let mut seen = load(&file);
        seen.remove(exercise.id);
        save(&file, &seen);
        println!("{}", fill("hint.reset", &[("id", &exercise.id)]));
        return ExitCode::SUCCESS;
    }
    println!("{}", next_step_text(course, exercise));
    ExitCode::SUCCESS
}

/// The next hint step of `exercise` (the heading, the hint, how to get the next one), and
/// remembers that it was shown.
pub fn next_step_text(course: &Course, exercise: &Exercise) -> String {
    let file = course.state_dir().join("hints.txt");
    let mut seen = load(&file);
    let lang = lang();
    let steps = Exercise::HINT_STEPS;
    let step = (seen.get(exercise.id).copied().unwrap_or(0) + 1).min(steps);
    let heading = fill(
        "hint.heading",
        &[
            ("id", &exercise.id),
            ("title", &exercise.title(lang)),
            ("step", &step),
            ("steps", &steps),
        ],
    );
    let after = if step < steps {
        "hint.next"
    } else {
        "hint.last"
    };
    seen.insert(exercise.id.to_string(), step);
    save(&file, &seen);
    format!(
        "{heading}\n\n  {}\n\n{}",
        exercise.hint(lang, step),
        fill(after, &[("id", &exercise.id)])
    )
}

fn load(file: &Path) -> BTreeMap<String, usize> {
    fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (id, step) = line.split_once(' ')?;
            Some((id.to_string(), step.parse().ok()?))
        })
        .collect()
}

fn save(file: &Path, seen: &BTreeMap<String, usize>) {
    let text: String = seen
        .iter()
        .map(|(id, step)| format!("{id} {step}\n"))
        .collect();
    let _ = write_state(file, &text);
}
