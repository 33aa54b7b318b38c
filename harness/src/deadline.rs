//! Deadlines: learner code runs on its own thread and the test waits for it with a timeout.
//!
//! Why a spawned thread and not `thread::scope`: a scope joins its threads before it returns,
//! so a learner function stuck in `recv` or in an endless loop would hang the whole test run.
//! A detached thread that misses its deadline is simply abandoned; the test fails with a plain
//! message and the process ends when the test binary does.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

/// How long learner code may take before the test gives up on it. Well below the contract's
/// 10 s ceiling, and far above what any exercise needs on loopback.
pub const LEARNER_DEADLINE: Duration = Duration::from_secs(5);

/// Runs `f` (a call into learner code) on its own thread and returns its result, failing the
/// test if it panics or does not return within [`LEARNER_DEADLINE`].
///
/// Sockets go in by value: hand the code under test a `try_clone` of a socket the test keeps.
#[track_caller]
pub fn call_learner<T, F>(f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    call_learner_within(LEARNER_DEADLINE, f)
}

/// [`call_learner`] with an explicit deadline.
#[track_caller]
pub fn call_learner_within<T, F>(deadline: Duration, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    start_learner(f).finish_within(deadline)
}

/// Starts `f` (a call into learner code) on its own thread and returns at once, for code that
/// only returns when the test has done its part (a server that returns when its client
/// leaves) or never (a server loop). See [`Running`].
pub fn start_learner<T, F>(f: F) -> Running<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name("learner-code".into())
        .spawn(move || {
            // The panic is caught to hand its message to the test; the panic hook has already
            // printed where it happened. The receiver may be gone if the test gave up.
            let _ = tx.send(panic::catch_unwind(AssertUnwindSafe(f)));
        })
        .expect("test setup: could not spawn a thread for the learner's code");
    Running {
        outcome: rx,
        finished: None,
    }
}

/// Learner code running on its own thread (from [`start_learner`]).
pub struct Running<T> {
    outcome: Receiver<thread::Result<T>>,
    finished: Option<thread::Result<T>>,
}

impl<T> Running<T> {
    /// Waits at most [`LEARNER_DEADLINE`] for the code to return and gives back its result.
    #[track_caller]
    pub fn finish(self) -> T {
        self.finish_within(LEARNER_DEADLINE)
    }

    /// Waits at most `deadline` for the code to return and gives back its result; fails the
    /// test with "timed out: ..." or "your code panicked: ..." otherwise.
    #[track_caller]
    pub fn finish_within(mut self, deadline: Duration) -> T {
        let outcome = match self.finished.take() {
            Some(outcome) => outcome,
            None => match self.outcome.recv_timeout(deadline) {
                Ok(outcome) => outcome,
                Err(_) => panic!(
                    "{}",
                    course_catalog::fill(
                        "harness.timed_out",
                        &[("duration", &format_duration(deadline))]
                    )
                ),
            },
        };
        match outcome {
            Ok(value) => value,
            Err(payload) => panic!("{}", panicked(&*payload)),
        }
    }

    /// Fails the test at once if the code has panicked. Call it when the test's own I/O with
    /// the code fails, so the learner sees the panic, not a consequence of it.
    #[track_caller]
    pub fn check(&mut self) {
        if self.finished.is_none() {
            // A panicking thread drops its sockets first; give it a moment to report.
            if let Ok(outcome) = self.outcome.recv_timeout(Duration::from_millis(100)) {
                self.finished = Some(outcome);
            }
        }
        if let Some(Err(payload)) = &self.finished {
            panic!("{}", panicked(&**payload));
        }
    }

    /// Whether the code has returned (or panicked) already.
    pub fn is_finished(&mut self) -> bool {
        if self.finished.is_none() {
            self.finished = self.outcome.try_recv().ok();
        }
        self.finished.is_some()
    }
}

/// "your code panicked: ..." in the learner's language.
fn panicked(payload: &(dyn Any + Send)) -> String {
    course_catalog::fill("harness.panicked", &[("message", &panic_message(payload))])
}

/// The text of a panic payload (`panic!("...")` carries a `&str` or a `String`).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}

/// Runs `f`, which must panic, and returns its panic message; for tests of code that fails
/// tests (the harness's own self-tests). Fails if `f` returns instead.
#[track_caller]
pub fn panic_text(f: impl FnOnce()) -> String {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(()) => panic!("expected a panic, but the call returned"),
        Err(payload) => panic_message(&*payload),
    }
}

/// `5 s`, `0.5 s`: how the harness prints durations in its messages.
pub fn format_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// A point in time by which something must have happened; loops poll it.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
    total: Duration,
}

impl Deadline {
    /// The deadline `d` from now.
    pub fn after(d: Duration) -> Self {
        Deadline {
            at: Instant::now() + d,
            total: d,
        }
    }

    /// Time left, zero once passed.
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// Whether the deadline has passed.
    pub fn expired(&self) -> bool {
        self.remaining().is_zero()
    }

    /// The duration it was created with, for messages ("within 5 s").
    pub fn total(&self) -> Duration {
        self.total
    }
}
