//! `cargo run`: the progress table and the next exercise.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use course_catalog::exercises::{Chapter, Exercise};
use course_catalog::{Lang, fill, lang, text};

use crate::build::Step;
use crate::run::{Course, ExState, Note, Outcome, Progress, failure_message};

/// `cargo run` (`chapter`: `None`), or `cargo run -- progress N`: chapter N is built and run
/// even if the learner has not got there, and its first exercise not done is shown.
pub fn main(course: &Course, chapter: Option<u8>) -> ExitCode {
    let asked: Vec<&str> = course
        .chapters()
        .into_iter()
        .filter(|c| Some(c.number) == chapter)
        .map(|c| c.id)
        .collect();
    if let (Some(number), true) = (chapter, asked.is_empty()) {
        eprintln!(
            "{}",
            fill("course.unknown_chapter", &[("chapter", &number)])
        );
        return ExitCode::from(2);
    }
    let Some(progress) = refresh_asked(course, &asked) else {
        return ExitCode::FAILURE;
    };
    println!(
        "{}",
        fill(
            "course.heading",
            &[("side", &text(&format!("course.side.{}", course.side())))]
        )
    );
    println!();
    table(course, &progress);
    println!();
    for note in deferred_notes(course, &progress) {
        println!("{note}");
        println!();
    }
    next(course, &progress, &asked);
    ExitCode::SUCCESS
}

/// For each chapter not built yet (see [`Progress::deferred`]): why, when it will be, and the
/// command that builds it now.
pub fn deferred_notes(course: &Course, progress: &Progress) -> Vec<String> {
    let mut notes: Vec<String> = Vec::new();
    let mut numbers = BTreeSet::new();
    for chapter in progress.deferred_chapters(course) {
        if !numbers.insert(chapter.number) {
            continue;
        }
        let key = format!("deferred.{}", chapter.id);
        let why = text(&key);
        let why = if why == key { "" } else { why };
        notes.push(fill(
            "course.deferred_note",
            &[
                ("chapter", &chapter.number),
                ("why", &why),
                (
                    "command",
                    &format!("cargo run -- progress {}", chapter.number),
                ),
            ],
        ));
    }
    notes
}

/// The results, brought up to date; `None` (after saying why) when cargo cannot run.
pub fn refresh(course: &Course) -> Option<Progress> {
    refresh_with(course, None, &[], false)
}

/// [`refresh`], with the chapters of `asked` built even if the learner has not got there.
pub fn refresh_asked(course: &Course, asked: &[&str]) -> Option<Progress> {
    refresh_with(course, None, asked, false)
}

/// [`refresh`] for some chapters only (`None`: all), run again even when nothing changed
/// if `force`. The chapters named are built even if the learner has not got there.
pub fn refresh_only(course: &Course, only: Option<&[&str]>, force: bool) -> Option<Progress> {
    refresh_with(course, only, &[], force)
}

/// What cargo is doing is shown on stderr as it happens.
fn refresh_with(
    course: &Course,
    only: Option<&[&str]>,
    asked: &[&str],
    force: bool,
) -> Option<Progress> {
    let mut reporter = Reporter::new();
    let result = Progress::refresh(course, only, asked, force, &mut |note| reporter.note(note));
    reporter.finish();
    match result {
        Ok(progress) => Some(progress),
        Err(e) => {
            eprintln!("{e}");
            None
        }
    }
}

/// Shows on stderr what the build and the test runs are doing: on a terminal one line that
/// keeps changing (crates compiled, test binaries n of N), elsewhere a line per test binary.
struct Reporter {
    terminal: bool,
    /// A line without its newline is on the screen.
    open: bool,
    crates: usize,
    binaries: (usize, usize),
    building_said: bool,
    checked: BTreeSet<u8>,
}

impl Reporter {
    fn new() -> Reporter {
        Reporter {
            terminal: std::io::stderr().is_terminal(),
            open: false,
            crates: 0,
            binaries: (0, 0),
            building_said: false,
            checked: BTreeSet::new(),
        }
    }

    fn note(&mut self, note: Note) {
        match note {
            Note::Build(step) => {
                if !self.building_said {
                    self.building_said = true;
                    self.line(text("course.building"));
                }
                let name = match step {
                    Step::Started { total } => {
                        self.binaries = (0, total);
                        ""
                    }
                    Step::Compiling(name) => {
                        self.crates += 1;
                        name
                    }
                    Step::TestBinary { done, total } => {
                        self.binaries = (done, total);
                        if !self.terminal {
                            self.line(&fill(
                                "course.test_binaries",
                                &[("done", &done), ("total", &total)],
                            ));
                        }
                        ""
                    }
                };
                if self.terminal {
                    let status = fill(
                        "course.build_status",
                        &[
                            ("crates", &self.crates),
                            ("done", &self.binaries.0),
                            ("total", &self.binaries.1.max(self.binaries.0)),
                            ("name", &name),
                        ],
                    );
                    let _ = write!(std::io::stderr(), "\r\x1b[K{status}");
                    self.open = true;
                }
            }
            Note::Shadow => self.line(text("course.shadow")),
            Note::Running(chapter) => {
                // Chapter 6 has two test files: say it once.
                if self.checked.insert(chapter.number) {
                    self.line(&fill("course.checking", &[("chapter", &chapter.number)]));
                }
            }
        }
    }

    fn line(&mut self, text: &str) {
        if self.open {
            eprint!("\r\x1b[K");
            self.open = false;
        }
        eprintln!("{text}");
    }

    fn finish(&mut self) {
        if self.open {
            eprint!("\r\x1b[K");
            self.open = false;
        }
    }
}

fn table(course: &Course, progress: &Progress) {
    // One row per book chapter (chapter 6's two test files make one row).
    let mut groups: Vec<Vec<&Chapter>> = Vec::new();
    for chapter in course.chapters() {
        match groups.last_mut() {
            Some(group) if group[0].number == chapter.number => group.push(chapter),
            _ => groups.push(vec![chapter]),
        }
    }
    let rows: Vec<[String; 3]> = groups
        .iter()
        .map(|group| {
            let first = group[0];
            let name = format!(
                "{:>2}  {}",
                first.number,
                text(&format!("chapter.{}", first.id))
            );
            let exercises: Vec<&Exercise> = group
                .iter()
                .flat_map(|c| course_catalog::exercises::of_chapter(c.id))
                .collect();
            // "Go further" exercises are counted apart: they never block the way on.
            let count = |optional: bool| {
                let of_kind = || exercises.iter().filter(move |e| e.optional == optional);
                let done = of_kind()
                    .filter(|e| progress.state(e) == ExState::Done)
                    .count();
                (done, of_kind().count())
            };
            let ((done, required), (further_done, further)) = (count(false), count(true));
            let outcomes: Vec<Option<&Outcome>> = group
                .iter()
                .map(|c| progress.chapters.get(c.id).map(|s| &s.outcome))
                .collect();
            let state = if group.iter().all(|c| progress.deferred(course, c)) {
                text("course.deferred").to_string()
            } else if outcomes
                .iter()
                .any(|o| matches!(o, Some(Outcome::NotCompiled { .. })))
            {
                text("course.not_compiled").to_string()
            } else if outcomes.iter().any(Option::is_none) {
                text("course.not_run").to_string()
            } else {
                let (mut passed, mut total) = (0, 0);
                for chapter in group {
                    let (p, t) = progress.chapter_tests(chapter.id).unwrap_or((0, 0));
                    passed += p;
                    total += t;
                }
                let mut state = fill(
                    "course.tests_passed",
                    &[("passed", &passed), ("total", &total)],
                );
                let timed_out = outcomes.iter().any(|o| {
                    matches!(
                        o,
                        Some(Outcome::Ran {
                            timed_out: true,
                            ..
                        })
                    )
                });
                if timed_out {
                    state.push_str("  ");
                    state.push_str(&fill("course.timed_out", &[("secs", &120)]));
                }
                state
            };
            [
                name,
                {
                    let mut cell = fill(
                        "course.exercises_done",
                        &[("done", &done), ("total", &required)],
                    );
                    if further > 0 {
                        cell.push_str(&fill(
                            "course.further_done",
                            &[("done", &further_done), ("total", &further)],
                        ));
                    }
                    cell
                },
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

/// The compile errors, then the next exercise: the first one not done of the chapters in
/// `asked` (`cargo run -- progress 10`), else of the course.
fn next(course: &Course, progress: &Progress, asked: &[&str]) {
    if let Some(error) = &progress.other_error {
        println!("{}", text("course.compile_error_other"));
        for line in error.lines().take(6) {
            println!("  {}", cut(line, 100));
        }
        println!("{}", text("course.compile_fix"));
        return;
    }
    // Every chapter that does not compile, with the compiler's first error.
    let mut said = BTreeSet::new();
    for chapter in course.chapters() {
        if let Some(Outcome::NotCompiled { error }) =
            progress.chapters.get(chapter.id).map(|s| &s.outcome)
            && said.insert(chapter.number)
        {
            println!(
                "{}",
                fill("course.compile_error", &[("chapter", &chapter.number)])
            );
            println!("  {}", cut(error, 100));
        }
    }
    if !said.is_empty() {
        println!("{}", text("course.compile_fix"));
        println!();
    }
    let in_asked = course
        .exercises()
        .into_iter()
        .filter(|e| asked.contains(&e.chapter))
        .find(|e| !e.optional && progress.state(e) != ExState::Done);
    let Some(exercise) = in_asked.or_else(|| progress.next(course)) else {
        println!("{}", text("course.all_done"));
        let left = progress.optional_left(course);
        if left > 0 {
            println!("{}", fill("course.further_left", &[("count", &left)]));
        }
        return;
    };
    show_exercise(exercise, lang());
    show_failing(course, progress, exercise, 5, REASON_LINES);
}

/// Lines of a failing test's message that `cargo run` shows.
pub const REASON_LINES: usize = 12;

/// The names of `exercise`'s failing tests (at most `names`), then the first one's message
/// (at most `lines` lines, each cut to the width of a terminal).
pub fn show_failing(
    course: &Course,
    progress: &Progress,
    exercise: &Exercise,
    names: usize,
    lines: usize,
) {
    let failing = progress.failing(exercise);
    if failing.is_empty() {
        return;
    }
    println!("  {}", text("course.failing"));
    for name in failing.iter().take(names) {
        println!("    {name}");
    }
    if failing.len() > names {
        println!(
            "    {}",
            fill(
                "course.more_failing",
                &[("count", &(failing.len() - names))]
            )
        );
    }
    if let Some(message) = failure_message(course, exercise.chapter, &failing[0]) {
        println!();
        println!("  {}", fill("course.reason", &[("name", &failing[0])]));
        let all: Vec<&str> = message.lines().collect();
        for line in all.iter().take(lines) {
            println!("    {}", cut(line, 100));
        }
        if all.len() > lines {
            println!(
                "    {}",
                fill(
                    "course.more_lines",
                    &[
                        ("count", &(all.len() - lines)),
                        ("chapter", &exercise.chapter)
                    ]
                )
            );
        }
    }
}

/// `text` cut to `columns` terminal columns, with `…` where it was cut. Control characters
/// (the learner's own output can hold any) are shown as `?`.
pub fn cut(text: &str, columns: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let c = if c.is_control() { '?' } else { c };
        let w = width(c.encode_utf8(&mut [0; 4]));
        if used + w > columns.saturating_sub(1) {
            out.push('…');
            return out;
        }
        used += w;
        out.push(c);
    }
    out
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
