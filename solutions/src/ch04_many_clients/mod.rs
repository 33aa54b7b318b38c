//! Chapter 4: many clients at once.
//!
//! Chapter 3's server blocks in `accept` or `read` and so serves one client at a
//! time, as article B points out. This chapter serves them all at once, three ways,
//! and every design meets the same specification (tests/ch04_many_clients.rs):
//! - [`threads`]: one thread per connection; each thread may block, the others go on.
//! - [`connection`]: one connection that never blocks: read and write until
//!   `WouldBlock`, with a bounded buffer and a read budget.
//! - [`events`]: article B's `select`, done with `mio`: one thread waits for
//!   readiness on the listener and every connection, and serves whichever is ready.
//! - [`tasks`]: the same server with async/await on tokio, which runs an event loop
//!   for you.
//!
//! Given, not exercises: [`Limits`] (what one server allows) and [`Shutdown`] (how a
//! test or Ctrl-C stops a server, so that no thread outlives it).

pub mod connection;
pub mod events;
pub use course_given::shutdown;
pub mod tasks;
pub mod threads;

use std::io;
use std::time::Duration;

pub use connection::{Connection, Progress};
pub use shutdown::Shutdown;

// ANCHOR: limits
/// What one server allows, so that no client can cost it without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A client that moves no bytes for this long is closed.
    pub idle_timeout: Duration,
    /// Connections served at once; one more is accepted and closed at once.
    pub max_clients: usize,
    /// Echo bytes one connection may hold while its client is not reading them.
    pub max_buffer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            idle_timeout: Duration::from_secs(30),
            max_clients: 10_000,
            max_buffer: 64 * 1024,
        }
    }
}
// ANCHOR_END: limits

/// Bytes one connection may read per event before the loop turns to the others.
pub const READ_BUDGET: usize = 64 * 1024;

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
