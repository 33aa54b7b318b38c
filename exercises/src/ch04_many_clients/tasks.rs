//! Exercise 4.6: the same server with async/await on tokio.
//!
//! Scenario: the event loop of 4.5 works, but you wrote the bookkeeping (tokens,
//! buffers, interests) by hand. tokio's runtime runs such a loop for you: `.await` on
//! a socket that is not ready parks the task, and the runtime resumes it when mio
//! says the socket is ready. Code reads like the thread version, one task per
//! connection. Goal: [`serve`] accepts connections and spawns a task for each (at
//! most `limits.max_clients`, `limits.max_per_address` from one address), and when
//! stopped ends every task before it returns.
//! The tests check the chapter's specification.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::timeout_at;

use super::pace::Meter;
use super::{Limits, Shutdown, Slot, affects_one_connection, log_accept_error};

// ANCHOR: echo
/// Echoes one connection until the client closes, stalls (moves no bytes for the
/// idle timeout, or fewer than the minimum rate while `slot` says others wait for a
/// place), or fails (given). The slot is freed when it returns.
pub async fn echo_until_idle(
    mut conn: TcpStream,
    limits: Limits,
    slot: Slot,
) -> io::Result<()> {
    let (pace, pressure) = (limits.pace(), slot.pressure());
    let others_wait = || pressure.others_wait();
    let mut meter = Meter::new();
    let mut buf = [0u8; 4096];
    loop {
        // Each wait ends at the next check at the latest: a quiet client, or one that
        // trickles a byte now and then, is closed.
        let len = match next_check(&meter, &pace) {
            Some(at) => match timeout_at(at, conn.read(&mut buf)).await {
                Ok(read) => read?,
                Err(_elapsed) => {
                    meter.check(&pace, std::time::Instant::now(), others_wait)?;
                    continue; // the window ended with enough bytes: go on
                }
            },
            None => conn.read(&mut buf).await?,
        };
        if len == 0 {
            return Ok(()); // the client closed its side
        }
        meter.moved(len);
        // Waiting for room here is the backpressure: no more reading until it is
        // written. Written in pieces, so that a slow reader is measured as it goes.
        let mut echo = &buf[..len];
        while !echo.is_empty() {
            let written = match next_check(&meter, &pace) {
                Some(at) => match timeout_at(at, conn.write(echo)).await {
                    Ok(written) => written?,
                    Err(_elapsed) => 0,
                },
                None => conn.write(echo).await?,
            };
            meter.sent(written);
            echo = &echo[written..];
            meter.check(&pace, std::time::Instant::now(), others_wait)?;
        }
        meter.check(&pace, std::time::Instant::now(), others_wait)?;
    }
}

/// The meter's next check, as tokio's instant.
fn next_check(meter: &Meter, pace: &super::Pace) -> Option<tokio::time::Instant> {
    meter.next_check(pace).map(tokio::time::Instant::from_std)
}
// ANCHOR_END: echo

// ANCHOR: serve
/// Accepts connections and echoes each in a task of its own, on a one-thread tokio
/// runtime, until `shutdown` is stopped; then ends every task and returns.
pub fn serve(
    listener: std::net::TcpListener,
    limits: Limits,
    shutdown: Shutdown,
) -> io::Result<()> {
    // TODO: build a current-thread tokio runtime and block_on an async loop that
    // accepts with tokio's TcpListener (from_std), takes a place with
    // limits.slots().take(peer.ip()) (None: drop the stream), spawns a task that runs
    // echo_until_idle(stream, limits, slot) into a JoinSet, and stops on a
    // Notify that shutdown.on_stop notifies. Shut the JoinSet down before returning.
    // Report accept errors with log_accept_error.
    todo!()
}
// ANCHOR_END: serve
