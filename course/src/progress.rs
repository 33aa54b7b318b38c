//! `cargo run`: the progress table and the next exercise.

use std::process::ExitCode;

use course_catalog::exercises::Exercise;
use course_catalog::{Lang, fill, lang, text};

use crate::run::{Course, ExState, Outcome, Progress};

pub fn main(course: &Course) -> ExitCode {
    let Some(progress) = refresh(course) else {
        return ExitCode::FAILURE;
    };
    println!("{}", fill("course.heading", &[("side", &course.side())]));
    println!();
    table(course, &progress);
    println!();
    next(course, &progress);
    ExitCode::SUCCESS
}

/// The results, brought up to date; `None` (after saying why) when cargo cannot run.
pub fn refresh(course: &Course) -> Option<Progress> {
    match Progress::refresh(course, &mut |note| eprintln!("{note}")) {
        Ok(progress) => Some(progress),
        Err(e) => {
            eprintln!("{e}");
            None
        }
    }
}

fn table(course: &Course, progress: &Progress) {
    let rows: Vec<[String; 3]> = course
        .chapters()
        .into_iter()
        .map(|chapter| {
            let name = format!(
                "{:>2}  {}",
                chapter.number,
                text(&format!("chapter.{}", chapter.id))
            );
            let exercises: Vec<&Exercise> =
                course_catalog::exercises::of_chapter(chapter.id).collect();
            let done = exercises
                .iter()
                .filter(|e| progress.state(e) == ExState::Done)
                .count();
            let state = match progress.chapters.get(chapter.id).map(|s| &s.outcome) {
                None => text("course.not_run").to_string(),
                Some(Outcome::NotCompiled { .. }) => text("course.not_compiled").to_string(),
                Some(Outcome::Ran { timed_out, .. }) => {
                    let (passed, total) = progress.chapter_tests(chapter.id).unwrap_or((0, 0));
                    let mut state = fill(
                        "course.tests_passed",
                        &[("passed", &passed), ("total", &total)],
                    );
                    if *timed_out {
                        state.push_str("  ");
                        state.push_str(&fill("course.timed_out", &[("secs", &120)]));
                    }
                    state
                }
            };
            [
                name,
                fill(
                    "course.exercises_done",
                    &[("done", &done), ("total", &exercises.len())],
                ),
                state,
            ]
        })
        .collect();
    let header = [
        format!("    {}", text("course.col_chapter")),
        text("course.col_exercises").to_string(),
        text("course.col_tests").to_string(),
    ];
    let widths: Vec<usize> = (0..2)
        .map(|col| {
            rows.iter()
                .chain([&header])
                .map(|row| width(&row[col]))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in [&header].into_iter().chain(&rows) {
        println!(
            "  {}  {}  {}",
            pad(&row[0], widths[0]),
            pad(&row[1], widths[1]),
            row[2]
        );
    }
}

fn next(course: &Course, progress: &Progress) {
    if let Some(error) = &progress.other_error {
        println!("{}", text("course.compile_error_other"));
        println!("  {error}");
        println!("{}", text("course.compile_fix"));
        return;
    }
    let Some(exercise) = progress.next(course) else {
        println!("{}", text("course.all_done"));
        return;
    };
    if let Some(Outcome::NotCompiled { error }) =
        progress.chapters.get(exercise.chapter).map(|s| &s.outcome)
    {
        let number = course_catalog::exercises::chapter(exercise.chapter)
            .map(|c| c.number)
            .unwrap_or(0);
        println!("{}", fill("course.compile_error", &[("chapter", &number)]));
        println!("  {error}");
        println!("{}", text("course.compile_fix"));
        println!();
    }
    show_exercise(exercise, lang());
    let failing = progress.failing(exercise);
    if !failing.is_empty() {
        println!("  {}", text("course.failing"));
        for name in failing.iter().take(5) {
            println!("    {name}");
        }
        if failing.len() > 5 {
            println!(
                "    {}",
                fill("course.more_failing", &[("count", &(failing.len() - 5))])
            );
        }
    }
}

/// The exercise's title, file, book section, grading command and hint command.
pub fn show_exercise(exercise: &Exercise, lang: Lang) {
    let page = course_catalog::exercises::chapter(exercise.chapter)
        .map(|c| c.page)
        .unwrap_or("");
    println!(
        "{}",
        fill(
            "course.next",
            &[("id", &exercise.id), ("title", &exercise.title(lang))]
        )
    );
    let labels = [
        text("course.edit"),
        text("course.read"),
        text("course.grade"),
        text("course.stuck"),
    ];
    let w = labels.iter().map(|l| width(l)).max().unwrap_or(0) + 1;
    let label = |i: usize| pad(&format!("{}:", labels[i]), w);
    println!("  {} {}", label(0), exercise.file);
    println!("  {} book/{}/src/{page}", label(1), lang.code());
    println!(
        "  {} {}",
        pad("", w),
        fill(
            "course.served",
            &[("lang", &lang.code()), ("link", &exercise.book_link(lang))]
        )
    );
    println!("  {} {}", label(2), exercise.command());
    println!("  {} cargo run -- hint {}", label(3), exercise.id);
}

/// Columns a text takes in a terminal: East Asian wide characters take two.
pub fn width(text: &str) -> usize {
    text.chars()
        .map(|c| {
            let c = c as u32;
            let wide = (0x1100..=0x115F).contains(&c)
                || (0x2E80..=0xA4CF).contains(&c)
                || (0xAC00..=0xD7A3).contains(&c)
                || (0xF900..=0xFAFF).contains(&c)
                || (0xFE30..=0xFE4F).contains(&c)
                || (0xFF00..=0xFF60).contains(&c)
                || (0xFFE0..=0xFFE6).contains(&c);
            if wide { 2 } else { 1 }
        })
        .sum()
}

/// `text` followed by spaces up to `columns` terminal columns.
pub fn pad(text: &str, columns: usize) -> String {
    format!("{text}{}", " ".repeat(columns.saturating_sub(width(text))))
}
