//! `course`: the learner's way through socket-course, and the default program of the course's
//! root (`cargo run`). It answers "where am I, and what do I do next?":
//!
//! - no subcommand ([`progress`]): a table per chapter (exercises done, tests passed), then the
//!   next unfinished exercise: its file, its book section (English or Japanese), the command
//!   that grades it, and why its first failing test fails. A chapter that does not compile is
//!   named with the compiler's first error; the other chapters are still graded. A chapter
//!   that needs crates of its own (chapter 10's TLS and QUIC) is built only once the learner
//!   gets there; `progress 10` builds it now and shows its next exercise.
//! - `hint [EXERCISE]` ([`hint`]): the next hint, in steps (the idea, the API, the book).
//! - `list` ([`list`]): every exercise, its state and its file; `--json` for tools.
//! - `watch` ([`watch`]): the main screen; runs the tests again when a file under `exercises/`
//!   changes, with single keys (next, hint, list, run, reset, quit).
//! - `reset EXERCISE` ([`reset`]): puts an exercise's file back as committed.
//! - `grade` ([`grade`]): grades learners' clones from a pristine copy of the course, each in a
//!   sandbox of its own: orchestration in `grade/mod.rs`, one submission in
//!   `grade/submission.rs`, one chapter's run in `grade/chapter.rs` under the test supervisor
//!   (`grade/supervise.rs`), the namespaces and limits in `grade/sandbox.rs`, the escape and
//!   similarity checks in `grade/scan.rs`, the formats in `grade/report.rs`.
//! - `book` ([`book`]): builds both books with their search index and serves them.
//!
//! How it knows ([`run`], [`build`]): it builds the stale chapters' test binaries, runs them
//! and reads libtest's `--logfile`, not the screen (which learner code can write to). This
//! package depends on nothing the learner writes: it drives cargo on the exercises, so it
//! starts and answers while an exercise does not compile. Results are kept in `.course/`. The
//! texts come from `course-catalog`, in the learner's language (`COURSE_LANG=ja|en`, else
//! `LANG` starting with `ja`), `--help` included.

mod book;
mod build;
mod grade;
mod hint;
mod list;
mod progress;
mod reset;
mod run;
mod shadow;
mod watch;

use std::process::ExitCode;

use clap::{Arg, ArgAction, CommandFactory, FromArgMatches, Parser, Subcommand};
use course_catalog::{Lang, lang, text};

/// Your way through socket-course: progress, the next exercise, hints, a watch mode, the
/// book, and grading for teachers.
/// Messages are in Japanese with COURSE_LANG=ja (or a LANG starting with `ja`).
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", side()))]
struct Args {
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Progress per chapter and the next exercise (the default).
    Progress {
        /// Build and run this chapter now even if you have not got there yet (e.g. `10`),
        /// and show its next exercise.
        chapter: Option<u8>,
    },
    /// The next hint for an exercise (default: the one you are on), one step per call.
    Hint {
        /// The exercise, e.g. `2.3` (see `list`).
        exercise: Option<String>,
        /// Start this exercise's hints again from the first step.
        #[arg(long)]
        reset: bool,
    },
    /// Every exercise with its state and file.
    List {
        /// Print JSON (id, chapter, title, file, state, tests passed/total, grade command).
        #[arg(long)]
        json: bool,
    },
    /// The main screen: runs the tests again when a file under exercises/ changes; keys n h l r x q.
    Watch,
    /// Put an exercise's file back as committed (your version is kept in .course/backup/).
    Reset {
        /// The exercise, e.g. `2.1` (see `list`).
        exercise: String,
        /// Do not ask first.
        #[arg(long)]
        yes: bool,
    },
    /// Grade learners' clones from a pristine copy of the course.
    Grade(grade::GradeArgs),
    /// Build both books with their search index and serve them on 127.0.0.1.
    Book(book::BookArgs),
}

fn side() -> &'static str {
    if cfg!(feature = "solutions") {
        "solutions"
    } else {
        "exercises"
    }
}

/// The command line, with its help in the learner's language: each subcommand's and
/// argument's help comes from the catalog (`help.<subcommand>`, `help.<subcommand>.<arg>`).
fn command() -> clap::Command {
    let mut command = Args::command();
    if lang() == Lang::En {
        return command;
    }
    command = command
        .about(text("help.about"))
        .after_help(format!("{}: {}", text("help.built_from"), side()))
        .help_template(text("help.template"))
        .subcommand_help_heading(text("help.commands"))
        .next_help_heading(text("help.options"))
        .disable_help_subcommand(true)
        .disable_help_flag(true)
        .arg(help_flag())
        .disable_version_flag(true)
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help(text("help.version")),
        );
    let names: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        command = command.mut_subcommand(&name, |sub| {
            let args: Vec<String> = sub
                .get_arguments()
                .map(|a| a.get_id().to_string())
                .filter(|id| id != "help")
                .collect();
            let mut sub = sub
                .about(text(&format!("help.{name}")))
                .help_template(text("help.template"))
                .next_help_heading(text("help.options"))
                .disable_help_flag(true)
                .arg(help_flag());
            for id in args {
                let key = format!("help.{name}.{id}");
                let help = text(&key);
                sub = sub.mut_arg(&id, |a| {
                    let heading = if a.is_positional() {
                        text("help.arguments")
                    } else {
                        text("help.options")
                    };
                    let a = a.help_heading(heading);
                    if help != key { a.help(help) } else { a }
                });
            }
            sub
        });
    }
    command
}

/// `-h, --help`, its help in the learner's language.
fn help_flag() -> Arg {
    Arg::new("help")
        .short('h')
        .long("help")
        .action(ArgAction::Help)
        .help(text("help.help"))
}

fn main() -> ExitCode {
    let matches = command().get_matches();
    let args = match Args::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(e) => e.exit(),
    };
    // The test supervisor runs inside the grader's sandbox, where there is no course to find.
    if let Some(Cmd::Grade(grade)) = &args.command
        && let Some(code) = grade::supervise_main(grade)
    {
        return code;
    }
    let course = match run::Course::find() {
        Ok(course) => course,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match args.command {
        None => progress::main(&course, None),
        Some(Cmd::Progress { chapter }) => progress::main(&course, chapter),
        Some(Cmd::Hint { exercise, reset }) => hint::main(&course, exercise.as_deref(), reset),
        Some(Cmd::List { json }) => list::main(&course, json),
        Some(Cmd::Watch) => watch::main(&course),
        Some(Cmd::Reset { exercise, yes }) => reset::main(&course, &exercise, yes),
        Some(Cmd::Grade(args)) => grade::run(&course.root, &args),
        Some(Cmd::Book(args)) => book::run(&course.root, &args),
    }
}
