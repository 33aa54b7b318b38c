//! `course`: the learner's and the teacher's way into the course.

mod book;
mod grade;

use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "The socket course: progress, hints, grading, the book")]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Grade learners' clones from a pristine copy of the course.
    Grade(grade::GradeArgs),
    /// Build both books with their search index and serve them on 127.0.0.1.
    Book(book::BookArgs),
}

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    match Cli::parse().command {
        Commands::Grade(args) => grade::run(root, &args),
        Commands::Book(args) => book::run(root, &args),
    }
}
