//! Connecting to a name that has several addresses (`localhost` is `127.0.0.1` and `::1`):
//! Happy Eyeballs, simplified from RFC 8305. The TCP clients (`tcp-client`, `tls-client`)
//! connect through [`first_to_connect`].
//!
//! Trying the addresses one after the other would make a client wait a whole timeout on an
//! address that never answers before it tries the next. Racing all of them at once would
//! open connections for nothing. Happy Eyeballs gives each address in turn a head start of
//! [`NEXT_ATTEMPT_DELAY`]: if it has neither connected nor failed by then, the next one
//! starts too, and the first to connect wins.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

// ANCHOR: happy_eyeballs
/// How long an attempt has to itself before the next address starts too
/// (RFC 8305 recommends 250 ms).
pub const NEXT_ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Tries `addrs` in order with `attempt` (which must have a deadline of its own):
/// the next address starts when the running ones have failed or have not
/// succeeded within `delay`. The first success wins. Attempts still running
/// finish on their own threads and their connections are dropped (closed).
/// Without a success, every address with its error.
pub fn first_to_connect<T, F>(
    addrs: &[SocketAddr],
    delay: Duration,
    attempt: F,
) -> Result<(SocketAddr, T), Vec<(SocketAddr, io::Error)>>
where
    T: Send + 'static,
    F: Fn(SocketAddr) -> io::Result<T> + Send + Sync + 'static,
{
    let attempt = Arc::new(attempt);
    let (done, outcomes) = mpsc::channel();
    let mut started = 0;
    let mut failed = Vec::new();
    loop {
        if let Some(&addr) = addrs.get(started) {
            started += 1;
            let (done, attempt) = (done.clone(), Arc::clone(&attempt));
            thread::spawn(move || {
                let _ = done.send((addr, attempt(addr)));
            });
        }
        if failed.len() == started {
            return Err(failed); // every address tried, every one failed
        }
        let outcome = if started < addrs.len() {
            match outcomes.recv_timeout(delay) {
                Ok(outcome) => outcome,
                Err(_) => continue, // too slow: the next address starts too
            }
        } else {
            // Nothing left to start: wait for the running ones (each has a deadline).
            match outcomes.recv() {
                Ok(outcome) => outcome,
                Err(_) => return Err(failed),
            }
        };
        match outcome {
            (addr, Ok(connection)) => return Ok((addr, connection)),
            (addr, Err(e)) => failed.push((addr, e)), // the next one starts at once
        }
    }
}
// ANCHOR_END: happy_eyeballs

/// The errors of [`first_to_connect`] as one line: `127.0.0.1:4000: refused; [::1]:4000:
/// timed out`; `show` gives each error's text. A single address gives its error alone.
pub fn describe(
    failed: &[(SocketAddr, io::Error)],
    show: impl Fn(&io::Error) -> String,
) -> String {
    match failed {
        [(_, e)] => show(e),
        [] => "no address to connect to".to_string(),
        many => many
            .iter()
            .map(|(addr, e)| format!("{addr}: {}", show(e)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}
