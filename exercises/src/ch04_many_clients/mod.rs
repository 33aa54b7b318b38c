//! Chapter 4: many clients at once.
//!
//! Chapter 3's server blocks in `accept` or `read` and so serves one client at a
//! time, as article B points out. This chapter serves them all at once. First the
//! whole server with a thread per client ([`thread_server`], exercise 4.1); then, to go
//! further, three designs that meet one specification with the limits a server on a
//! network needs (tests/ch04_many_clients.rs):
//! - [`threads`]: one thread per connection, with limits; each thread may block.
//! - [`connection`]: one connection that never blocks: read and write until
//!   `WouldBlock`, with a bounded buffer and a read budget.
//! - [`events`]: article B's `select`, done with `mio`: one thread waits for
//!   readiness on the listener and every connection, and serves whichever is ready.
//! - [`tasks`]: the same server with async/await on tokio, which runs an event loop
//!   for you.
//!
//! Given, not exercises: [`Limits`] (what one server allows), [`Slots`] (places, in all
//! and per address), [`pace`] (deadlines on progress, shared with chapter 3),
//! [`log_accept_error`] (at most one line a second) and [`Shutdown`] (how a test or
//! Ctrl-C stops a server, so that no thread outlives it).

pub mod connection;
pub mod events;
pub use course_given::{pace, shutdown, slots};
pub mod tasks;
pub mod thread_server;
pub mod threads;

use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use connection::{Connection, Progress};
pub use pace::Pace;
pub use shutdown::Shutdown;
pub use slots::{Slot, Slots};

// ANCHOR: limits
/// What one server allows, so that no client can cost it without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A client that moves no bytes for this long is closed; also the window over
    /// which `min_rate` is measured.
    pub idle_timeout: Duration,
    /// Bytes a second a client must move on average over each window (what it sends
    /// and the echo it reads); one that trickles less is closed (0: no minimum).
    pub min_rate: u64,
    /// Connections served at once; one more is accepted and closed at once.
    pub max_clients: usize,
    /// Connections from one source address at once; one more is closed at once.
    pub max_per_address: usize,
    /// Echo bytes one connection may hold while its client is not reading them.
    pub max_buffer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            idle_timeout: Duration::from_secs(30),
            min_rate: pace::MIN_RATE,
            max_clients: 10_000,
            max_per_address: 1_000,
            max_buffer: 16 * 1024,
        }
    }
}

impl Limits {
    /// The deadlines on progress: the idle timeout and the minimum rate.
    pub fn pace(&self) -> Pace {
        Pace {
            idle_timeout: self.idle_timeout,
            min_rate: self.min_rate,
        }
    }

    /// Places for this server's clients: `max_clients`, `max_per_address` each.
    pub fn slots(&self) -> Slots {
        Slots::new(self.max_clients, self.max_per_address)
    }
}
// ANCHOR_END: limits

/// Bytes one connection may read per event before the loop turns to the others.
pub const READ_BUDGET: usize = 64 * 1024;

// ANCHOR: log_accept_error
/// Reports an `accept` that failed for the server as a whole (out of file
/// descriptors, say) on stderr, at most once a second: such an error repeats for as
/// long as clients wait, and a log is no place for a hundred lines a second.
pub fn log_accept_error(e: &io::Error) {
    static LAST: Mutex<Option<(Instant, u64)>> = Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    match &mut *last {
        Some((at, quiet)) if at.elapsed() < Duration::from_secs(1) => *quiet += 1,
        _ => {
            let quiet = last.map_or(0, |(_, quiet)| quiet);
            if quiet > 0 {
                eprintln!("accept failed: {e} (and {quiet} more times)");
            } else {
                eprintln!("accept failed: {e}");
            }
            *last = Some((Instant::now(), 0));
        }
    }
}
// ANCHOR_END: log_accept_error

/// Whether an `accept` error concerns one connection only (a client that gave up
/// before it was accepted, a signal): the server goes on accepting.
pub fn affects_one_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}
