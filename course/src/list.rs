//! `cargo run -- list`: every exercise with its state and file; `--json` for tools and
//! teachers (id, chapter, title, file, whether it is a "go further" exercise, state, tests
//! passed/total, grade command).

use std::process::ExitCode;

use course_catalog::{fill, lang, text};
use serde_json::json;

use course_catalog::exercises::Exercise;

use crate::progress::{deferred_notes, pad, refresh, width};
use crate::run::{Course, ExState, Progress};

pub fn main(course: &Course, as_json: bool) -> ExitCode {
    let Some(progress) = refresh(course) else {
        return ExitCode::FAILURE;
    };
    if as_json {
        println!("{}", json_text(course, &progress));
    } else {
        println!("{}", rows_text(course, &progress));
    }
    ExitCode::SUCCESS
}

/// The table: one line per exercise (id, title, state, file), the next one marked.
pub fn rows_text(course: &Course, progress: &Progress) -> String {
    let lang = lang();
    let deferred = |e: &Exercise| {
        course_catalog::exercises::chapter(e.chapter).is_some_and(|c| progress.deferred(course, c))
    };
    let next = progress.next(course).map(|e| e.id);
    let rows: Vec<(String, String, &str, bool)> = course
        .exercises()
        .into_iter()
        .map(|e| {
            let state = match progress.state(e) {
                ExState::Done => text("list.done").to_string(),
                ExState::Failing { passed: 0, .. } => text("list.todo").to_string(),
                ExState::Failing { passed, total } => {
                    fill("list.partial", &[("passed", &passed), ("total", &total)])
                }
                ExState::NotRun if deferred(e) => text("list.deferred").to_string(),
                ExState::NotRun => text("list.not_run").to_string(),
                ExState::NotCompiled => text("list.not_compiled").to_string(),
            };
            let further = if e.optional {
                format!(" {}", text("list.optional"))
            } else {
                String::new()
            };
            (
                format!("{:<5} {}{further}", e.id, e.title(lang)),
                state,
                e.file,
                next == Some(e.id),
            )
        })
        .collect();
    let name_w = rows.iter().map(|r| width(&r.0)).max().unwrap_or(0);
    let state_w = rows.iter().map(|r| width(&r.1)).max().unwrap_or(0);
    let mut out = text("list.heading").to_string();
    for (name, state, file, current) in rows {
        let mark = if current { text("list.current") } else { "" };
        out.push_str(&format!(
            "\n  {}  {}  {file}  {mark}",
            pad(&name, name_w),
            pad(&state, state_w)
        ));
    }
    for note in deferred_notes(course, progress) {
        out.push_str(&format!("\n\n{note}"));
    }
    out
}

/// Every exercise as JSON: `{"side": ..., "exercises": [{"id", "chapter", "title", "file",
/// "optional", "state", "passed", "total", "command"}, ...]}`. `optional` marks a "go
/// further" exercise (it never becomes "next"); `state` is one of `done`, `failing`,
/// `not_run`, `not_compiled`; `deferred` marks an exercise whose chapter is not built until
/// the learner gets there (chapter 10, state `not_run`); `passed`/`total` count its tests in
/// the last run.
pub fn json_text(course: &Course, progress: &Progress) -> String {
    let lang = lang();
    let exercises: Vec<serde_json::Value> = course
        .exercises()
        .into_iter()
        .map(|e| {
            let (state, passed, total) = match progress.state(e) {
                ExState::Done => {
                    let total = progress.tests_of(e);
                    ("done", total, total)
                }
                ExState::Failing { passed, total } => ("failing", passed, total),
                ExState::NotRun => ("not_run", 0, 0),
                ExState::NotCompiled => ("not_compiled", 0, 0),
            };
            let chapter = course_catalog::exercises::chapter(e.chapter)
                .map(|c| c.number)
                .unwrap_or(0);
            json!({
                "id": e.id,
                "chapter": chapter,
                "test_file": format!("tests/{}.rs", e.chapter),
                "title": e.title(lang),
                "file": e.file,
                "optional": e.optional,
                "state": state,
                "deferred": course_catalog::exercises::chapter(e.chapter)
                    .is_some_and(|c| progress.deferred(course, c)),
                "passed": passed,
                "total": total,
                "command": e.command(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&json!({
        "side": course.side(),
        "exercises": exercises,
    }))
    .unwrap_or_default()
}
