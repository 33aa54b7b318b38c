//! `cargo run -- watch`: the main screen. It shows the current exercise and why it fails (the
//! compiler's first error, or the first failing test's message), and runs its chapter's tests
//! again whenever the content of a file under `exercises/` changes: not when a file is only
//! read or touched, never because of `target/`. Single keys: n next, h hint, l list, r run
//! again, x reset (after a yes), q quit.
//!
//! On a Unix terminal the keys act at once (the terminal is put in non-canonical mode with
//! `stty`, and put back on quitting); elsewhere type the letter and Enter.

use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use course_catalog::exercises::Exercise;
use course_catalog::{fill, lang, text};
use notify::{EventKind, RecursiveMode, Watcher};

use crate::progress::{cut, refresh_only, show_exercise, show_failing};
use crate::run::{Course, ExState, Outcome, Progress};

/// What wakes the screen.
enum Event {
    /// Something happened under `exercises/` (its content may or may not have changed).
    Files,
    /// A key (a byte of standard input); `None` when standard input ended.
    Key(Option<u8>),
}

pub fn main(course: &Course) -> ExitCode {
    let (tx, rx) = mpsc::channel();
    let files = tx.clone();
    let mut watcher =
        match notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            // Reads (ours, the compiler's, an editor's) are not changes.
            if let Ok(event) = event
                && !matches!(event.kind, EventKind::Access(_))
            {
                let _ = files.send(Event::Files);
            }
        }) {
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
    let terminal = Terminal::keys_at_once();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin();
        let mut byte = [0u8; 1];
        loop {
            match stdin.read(&mut byte) {
                Ok(1) => {
                    if tx.send(Event::Key(Some(byte[0]))).is_err() {
                        return;
                    }
                }
                _ => {
                    let _ = tx.send(Event::Key(None));
                    return;
                }
            }
        }
    });

    let mut screen = Screen {
        course,
        chosen: None,
        snapshot: snapshot(&course.root.join("exercises")),
        previous: None,
        note: None,
    };
    screen.update(false);
    let code = loop {
        let Ok(event) = rx.recv() else {
            break ExitCode::SUCCESS;
        };
        match event {
            Event::Files => {
                // Let a burst of events (an editor saving) settle, then look at the content.
                while let Ok(Event::Files) = rx.recv_timeout(Duration::from_millis(200)) {}
                let now = snapshot(&course.root.join("exercises"));
                if now != screen.snapshot {
                    screen.snapshot = now;
                    screen.note = None;
                    screen.update(false);
                }
            }
            Event::Key(None) => break ExitCode::SUCCESS,
            Event::Key(Some(key)) => match key.to_ascii_lowercase() {
                b'q' | 3 | 4 => break ExitCode::SUCCESS,
                b'n' => {
                    screen.next();
                    screen.update(false);
                }
                b'r' => {
                    screen.note = None;
                    screen.update(true);
                }
                b'h' => {
                    let current = screen.current();
                    screen.note = current.map(|e| crate::hint::next_step_text(course, e));
                    screen.draw_cached();
                }
                b'l' => {
                    let progress = Progress::load(course);
                    screen.note = Some(crate::list::rows_text(course, &progress));
                    screen.draw_cached();
                }
                b'x' => {
                    if let Some(exercise) = screen.current() {
                        screen.note = Some(reset_asked(course, exercise, &rx));
                        screen.snapshot = snapshot(&course.root.join("exercises"));
                        screen.update(false);
                    }
                }
                _ => {}
            },
        }
    };
    drop(terminal);
    code
}

/// Asks whether to reset `exercise`'s file (y/N, a key from the same input) and does it.
fn reset_asked(course: &Course, exercise: &Exercise, rx: &mpsc::Receiver<Event>) -> String {
    print!("\n{} ", fill("reset.confirm", &[("file", &exercise.file)]));
    let _ = std::io::stdout().flush();
    loop {
        match rx.recv() {
            Ok(Event::Key(Some(b'\n' | b'\r'))) | Ok(Event::Files) => continue,
            Ok(Event::Key(Some(b'y' | b'Y'))) => {
                return crate::reset::reset_file(course, exercise)
                    .unwrap_or_else(|message| message);
            }
            _ => return text("reset.kept").to_string(),
        }
    }
}

/// What the screen shows and remembers between redraws.
struct Screen<'a> {
    course: &'a Course,
    /// An exercise chosen with `n` (else the first one not done).
    chosen: Option<&'static Exercise>,
    /// The content of `exercises/` when the tests last ran.
    snapshot: BTreeMap<PathBuf, u64>,
    /// The exercise shown last, to say "passes" when the learner moves past it.
    previous: Option<&'static str>,
    /// A hint, the list, or what a reset did, shown under the exercise until the next change.
    note: Option<String>,
}

impl Screen<'_> {
    fn current(&self) -> Option<&'static Exercise> {
        let progress = Progress::load(self.course);
        self.chosen
            .filter(|e| progress.state(e) != ExState::Done)
            .or_else(|| progress.next(self.course))
    }

    /// `n`: the exercise after the current one, in the course's order.
    fn next(&mut self) {
        let all = self.course.exercises();
        let current = self.current().map(|e| e.id);
        let at = all.iter().position(|e| Some(e.id) == current);
        self.chosen = at
            .and_then(|i| all.get(i + 1))
            .copied()
            .or(all.first().copied());
        self.note = None;
    }

    /// Runs the current exercise's chapter (if its files changed, or always with `force`),
    /// then draws.
    fn update(&mut self, force: bool) {
        let chapter = self.current().map(|e| e.chapter);
        let only: Vec<&str> = chapter.into_iter().collect();
        clear();
        let progress = refresh_only(self.course, Some(&only), force);
        // The learner may have moved on to an exercise of another chapter: run that one too.
        let progress = match (progress, self.current()) {
            (Some(p), Some(next)) if Some(next.chapter) != chapter => {
                refresh_only(self.course, Some(&[next.chapter]), false).or(Some(p))
            }
            (p, _) => p,
        };
        if let Some(progress) = progress {
            self.draw(&progress);
        }
    }

    /// Draws from the saved results, running nothing.
    fn draw_cached(&mut self) {
        clear();
        let progress = Progress::load(self.course);
        self.draw(&progress);
    }

    fn draw(&mut self, progress: &Progress) {
        let lang = lang();
        let current = self
            .chosen
            .filter(|e| progress.state(e) != ExState::Done)
            .or_else(|| progress.next(self.course));
        let passed_now = self
            .previous
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
        self.previous = current.map(|e| e.id);
        let Some(current) = current else {
            println!("{}", text("course.all_done"));
            println!();
            println!("{}", text("watch.keys"));
            return;
        };
        println!(
            "{}",
            fill(
                "watch.heading",
                &[("id", &current.id), ("title", &current.title(lang))]
            )
        );
        println!();
        let outcome = progress.chapters.get(current.chapter).map(|s| &s.outcome);
        if let Some(Outcome::NotCompiled { error }) = outcome {
            println!("{}", text("watch.compile_error"));
            for line in error.lines().take(6) {
                println!("    {}", cut(line, 100));
            }
            println!();
        } else if let Some(error) = &progress.other_error {
            println!("{}", text("course.compile_error_other"));
            for line in error.lines().take(6) {
                println!("    {}", cut(line, 100));
            }
            println!();
        } else if let ExState::Failing { passed, total } = progress.state(current) {
            println!(
                "{}",
                fill(
                    "watch.fail",
                    &[("id", &current.id), ("passed", &passed), ("total", &total)]
                )
            );
            show_failing(self.course, progress, current, 3, 10);
            println!();
        }
        show_exercise(current, lang);
        if let Some(note) = &self.note {
            println!();
            println!("{note}");
        }
        println!();
        println!("{}", text("watch.keys"));
        let _ = std::io::stdout().flush();
    }
}

/// Clears the screen and moves to its top-left corner.
fn clear() {
    print!("\x1b[2J\x1b[H");
    let _ = std::io::stdout().flush();
}

/// Each file under `dir` with a hash of its content.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, u64> {
    let mut files = BTreeMap::new();
    walk(dir, &mut files);
    files
}

fn walk(dir: &Path, files: &mut BTreeMap<PathBuf, u64>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => walk(&path, files),
            Ok(kind) if kind.is_file() => {
                let mut hasher = DefaultHasher::new();
                fs::read(&path).unwrap_or_default().hash(&mut hasher);
                files.insert(path, hasher.finish());
            }
            _ => {}
        }
    }
}

/// The terminal in "keys at once" mode while this lives (Unix terminals only, with `stty`).
struct Terminal {
    saved: Option<String>,
}

impl Terminal {
    fn keys_at_once() -> Terminal {
        let mut saved = None;
        if cfg!(unix) && std::io::stdin().is_terminal() {
            let stty = |args: &[&str]| {
                Command::new("stty")
                    .args(args)
                    .stdin(Stdio::inherit())
                    .output()
                    .ok()
                    .filter(|o| o.status.success())
            };
            if let Some(output) = stty(&["-g"]) {
                // Ctrl-C arrives as a key (3) and quits like q, so the terminal is put back.
                if stty(&["-icanon", "-echo", "-isig", "min", "1", "time", "0"]).is_some() {
                    saved = Some(String::from_utf8_lossy(&output.stdout).trim().to_string());
                }
            }
        }
        Terminal { saved }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = Command::new("stty")
                .arg(saved)
                .stdin(Stdio::inherit())
                .status();
        }
    }
}
