//! Given (not an exercise): a log that never stops a server.
//!
//! A server that writes a line to stderr for every bad datagram, on the thread that serves,
//! can be stopped by anyone who can send: stderr may be a pipe nobody reads (a paused
//! `2>&1 | less`), and once its 64 KiB are full, `eprintln!` waits until someone reads. So
//! the servers' lines go through this module instead:
//! - [`line`] hands a line to a logging thread through a bounded queue ([`QUEUE`] lines)
//!   and never waits: when the queue is full, the line is dropped and counted, and the
//!   count is written once stderr takes lines again;
//! - [`Every`] lets one kind of line through at most once a second and counts the others:
//!   the next line that gets through says how many were left out (a flood of refusals is
//!   one line a second, not one per datagram).
//!
//! [`flush`] waits (with a deadline) for the queued lines to be written, before a
//! program's last words.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// The most lines waiting for the logging thread.
pub const QUEUE: usize = 256;

/// How often one kind of line is written, at most ([`Every`]).
pub const INTERVAL: Duration = Duration::from_secs(1);

struct Logger {
    sender: Mutex<SyncSender<String>>,
}

static LOGGER: OnceLock<Option<Logger>> = OnceLock::new();
/// Lines handed to the logging thread.
static QUEUED: AtomicU64 = AtomicU64::new(0);
/// Lines the logging thread has written (or failed to write).
static DONE: AtomicU64 = AtomicU64::new(0);
/// Lines dropped because the queue was full, not yet reported.
static DROPPED: AtomicU64 = AtomicU64::new(0);

fn logger() -> Option<&'static Logger> {
    LOGGER
        .get_or_init(|| {
            let (sender, receiver) = sync_channel::<String>(QUEUE);
            let spawned = thread::Builder::new()
                .name("log".into())
                .spawn(move || {
                    for text in receiver {
                        let mut err = std::io::stderr().lock();
                        let _ = writeln!(err, "{text}");
                        let dropped = DROPPED.swap(0, Ordering::Relaxed);
                        if dropped > 0 {
                            let _ = writeln!(
                                err,
                                "({dropped} log line(s) dropped: stderr was not keeping up)"
                            );
                        }
                        drop(err);
                        DONE.fetch_add(1, Ordering::Release);
                    }
                });
            spawned.ok().map(|_| Logger {
                sender: Mutex::new(sender),
            })
        })
        .as_ref()
}

/// Writes `text` as a line on stderr, from the logging thread; never waits. When the queue
/// is full (stderr is not keeping up), the line is dropped and counted.
pub fn line(text: impl Into<String>) {
    let text = text.into();
    let Some(logger) = logger() else {
        DROPPED.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let Ok(sender) = logger.sender.lock() else {
        return;
    };
    QUEUED.fetch_add(1, Ordering::Release);
    match sender.try_send(text) {
        Ok(()) => {}
        Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
            QUEUED.fetch_sub(1, Ordering::Release);
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Lines dropped so far and not yet reported on stderr.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// Waits until the lines queued so far are written, or `deadline` has passed; whether
/// they were.
pub fn flush(deadline: Duration) -> bool {
    let until = Instant::now() + deadline;
    loop {
        if DONE.load(Ordering::Acquire) >= QUEUED.load(Ordering::Acquire) {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// One kind of line, written at most once per [`INTERVAL`]: the others are counted, and
/// the next line written says how many there were.
#[derive(Debug, Default)]
pub struct Every {
    last: Option<Instant>,
    skipped: u64,
}

impl Every {
    /// A kind of line not written yet.
    pub const fn new() -> Self {
        Every {
            last: None,
            skipped: 0,
        }
    }

    /// Writes the line `text` makes (through [`line`]) if none of this kind was written
    /// in the last [`INTERVAL`]; else only counts it (`text` is not called). Whether it
    /// was written.
    pub fn say(&mut self, now: Instant, text: impl FnOnce() -> String) -> bool {
        if self
            .last
            .is_some_and(|at| now.saturating_duration_since(at) < INTERVAL)
        {
            self.skipped += 1;
            return false;
        }
        self.last = Some(now);
        let skipped = std::mem::take(&mut self.skipped);
        let mut text = text();
        if skipped > 0 {
            text.push_str(&format!(" (and {skipped} more like it, not written)"));
        }
        line(text);
        true
    }
}
