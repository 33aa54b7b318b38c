//! `cargo run -- list`: every exercise with its state.

use std::process::ExitCode;

use course_catalog::{fill, lang, text};

use crate::progress::{pad, refresh, width};
use crate::run::{Course, ExState};

pub fn main(course: &Course) -> ExitCode {
    let Some(progress) = refresh(course) else {
        return ExitCode::FAILURE;
    };
    let lang = lang();
    let next = progress.next(course).map(|e| e.id);
    println!("{}", text("list.heading"));
    let rows: Vec<(String, String, bool)> = course
        .exercises()
        .into_iter()
        .map(|e| {
            let state = match progress.state(e) {
                ExState::Done => text("list.done").to_string(),
                ExState::Failing { passed: 0, .. } => text("list.todo").to_string(),
                ExState::Failing { passed, total } => {
                    fill("list.partial", &[("passed", &passed), ("total", &total)])
                }
                ExState::NotRun => text("list.not_run").to_string(),
                ExState::NotCompiled => text("list.not_compiled").to_string(),
            };
            (
                format!("{:<5} {}", e.id, e.title(lang)),
                state,
                next == Some(e.id),
            )
        })
        .collect();
    let w = rows
        .iter()
        .map(|(name, _, _)| width(name))
        .max()
        .unwrap_or(0);
    for (name, state, current) in rows {
        let mark = if current { text("list.current") } else { "" };
        println!("  {}  {state}  {mark}", pad(&name, w));
    }
    ExitCode::SUCCESS
}
