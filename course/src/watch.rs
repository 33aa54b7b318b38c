//! `cargo run -- watch`: runs the tests again whenever a file under `exercises/` changes,
//! clears the screen and says where the current exercise stands. Ctrl-C quits.

use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use course_catalog::{fill, lang, text};
use notify::{RecursiveMode, Watcher};

use crate::progress::refresh;
use crate::run::{Course, ExState};

pub fn main(course: &Course) -> ExitCode {
    let (tx, rx) = mpsc::channel();
    let mut watcher = match notify::recommended_watcher(tx) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("{}", fill("watch.failed_to_watch", &[("error", &e)]));
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = watcher.watch(&course.root.join("exercises"), RecursiveMode::Recursive) {
        eprintln!("{}", fill("watch.failed_to_watch", &[("error", &e)]));
        return ExitCode::FAILURE;
    }
    let mut previous: Option<&'static str> = None;
    loop {
        previous = show(course, previous);
        // Wait for a change, then let a burst of events (an editor saving) settle.
        if rx.recv().is_err() {
            return ExitCode::SUCCESS;
        }
        while rx.recv_timeout(Duration::from_millis(300)).is_ok() {}
    }
}

/// Clears the screen and shows the current exercise; returns its id.
fn show(course: &Course, previous: Option<&'static str>) -> Option<&'static str> {
    // Clear the screen and move to its top-left corner.
    print!("\x1b[2J\x1b[H");
    let progress = refresh(course)?;
    let lang = lang();
    let current = progress.next(course);
    // The exercise worked on until now passes: say so before moving on.
    let passed_now = previous
        .filter(|p| current.map(|c| c.id) != Some(*p))
        .filter(|p| {
            course_catalog::exercises::exercise(p)
                .is_some_and(|e| progress.state(e) == ExState::Done)
        });
    if let Some(done) = passed_now {
        match current {
            Some(next) => println!(
                "{}",
                fill(
                    "watch.pass",
                    &[
                        ("id", &done),
                        ("next", &format!("{} {}", next.id, next.title(lang)))
                    ]
                )
            ),
            None => println!("{}", fill("watch.pass_last", &[("id", &done)])),
        }
        println!();
    }
    let Some(current) = current else {
        println!("{}", text("course.all_done"));
        return None;
    };
    println!(
        "{}",
        fill(
            "watch.heading",
            &[("id", &current.id), ("title", &current.title(lang))]
        )
    );
    println!();
    if let ExState::Failing { passed, total } = progress.state(current) {
        println!(
            "{}",
            fill(
                "watch.fail",
                &[("id", &current.id), ("passed", &passed), ("total", &total)]
            )
        );
        for name in progress.failing(current).iter().take(5) {
            println!("    {name}");
        }
        println!();
    }
    crate::progress::show_exercise(current, lang);
    println!();
    println!("{}", text("watch.saved"));
    Some(current.id)
}
