//! `course`: the learner's way through socket-course, and the root package's default program
//! (`cargo run`). It answers "where am I, and what do I do next?":
//!
//! - no subcommand ([`progress`]): a table per chapter (exercises done, tests passed), then the
//!   next unfinished exercise: its file, its book section (English or Japanese) and the
//!   command that grades it. A chapter that does not compile is named with the compiler's
//!   first error; the others keep their last known results.
//! - `hint [EXERCISE]` ([`hint`]): the next hint, in steps (the idea, the API, the book).
//! - `list` ([`list`]): every exercise and its state.
//! - `watch` ([`watch`]): runs the tests again whenever a file under `exercises/` changes.
//! - `grade` ([`grade`]): grades learners' clones from a pristine copy of the course.
//! - `book` ([`book`]): builds both books with their search index and serves them.
//!
//! How it knows ([`run`]): it builds the chapter test binaries (`cargo test --no-run`), runs
//! each chapter whose files changed since the last run, and reads libtest's `--logfile`, not
//! the screen (which learner code can write to). Results are kept under `target/course/`, so a
//! `cargo run` with nothing changed answers at once. The texts come from `course-catalog`, in
//! the learner's language (`COURSE_LANG=ja|en`, else `LANG` starting with `ja`).

mod book;
mod grade;
mod hint;
mod list;
mod progress;
mod run;
mod watch;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Your way through socket-course: progress, the next exercise, hints, a watch mode, the
/// book, and grading for teachers.
/// Messages are in Japanese with COURSE_LANG=ja (or a LANG starting with `ja`).
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", if cfg!(feature = "solutions") { "solutions" } else { "exercises" }))]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Progress per chapter and the next exercise (the default).
    Progress,
    /// The next hint for an exercise (default: the one you are on), one step per call.
    Hint {
        /// The exercise, e.g. `2.3` (see `list`).
        exercise: Option<String>,
        /// Start this exercise's hints again from the first step.
        #[arg(long)]
        reset: bool,
    },
    /// Every exercise with its state.
    List,
    /// Run the tests again whenever a file under exercises/ changes; Ctrl-C quits.
    Watch,
    /// Grade learners' clones from a pristine copy of the course.
    Grade(grade::GradeArgs),
    /// Build both books with their search index and serve them on 127.0.0.1.
    Book(book::BookArgs),
}

fn main() -> ExitCode {
    let args = Args::parse();
    let course = match run::Course::find() {
        Ok(course) => course,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match args.command {
        None | Some(Command::Progress) => progress::main(&course),
        Some(Command::Hint { exercise, reset }) => hint::main(&course, exercise.as_deref(), reset),
        Some(Command::List) => list::main(&course),
        Some(Command::Watch) => watch::main(&course),
        Some(Command::Grade(args)) => grade::run(&course.root, &args),
        Some(Command::Book(args)) => book::run(&course.root, &args),
    }
}
