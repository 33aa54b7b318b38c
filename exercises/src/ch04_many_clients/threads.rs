//! Exercise 4.2: one thread per connection.
//!
//! Scenario: chapter 3's server reads from one client until it leaves, so everyone
//! else waits. Give each connection a thread of its own: a thread that blocks in
//! `read` stops only itself. Goal: [`serve`] accepts connections, starts a thread for
//! each (at most `limits.max_clients` at once, `limits.max_per_address` from one
//! address), and when stopped waits for every thread it started. The tests check the
//! chapter's specification: many clients at once, idle, trickling and resetting
//! clients, a client that never reads, the limits, 1,000 connections, and a clean
//! stop.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::pace::Paced;
use super::{Limits, Shutdown, Slot, affects_one_connection, log_accept_error};

/// Stack size of a connection thread: the echo needs a few KiB, not std's default 2
/// MiB.
pub const STACK_SIZE: usize = 128 * 1024;

// ANCHOR: echo
/// Echoes one connection until the client closes, stalls (moves no bytes for the
/// idle timeout, or fewer than the minimum rate while `slot` says others wait for a
/// place), or fails (given).
pub fn echo_until_idle(
    stream: &TcpStream,
    limits: &Limits,
    slot: &Slot,
) -> io::Result<()> {
    // Deadlines turn "wait forever" into an error: a quiet client, one that does not
    // read its echo (then `write_all` waits for room), or one that trickles a byte
    // now and then while others wait is closed.
    let mut stream = Paced::new(stream, limits.pace()).under(slot.pressure());
    let mut buf = [0u8; 4096];
    loop {
        let len = match stream.read(&mut buf) {
            Ok(0) => return Ok(()), // the client closed its side
            Ok(len) => len,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e), // TimedOut (stalled), or a reset
        };
        stream.write_all(&buf[..len])?;
    }
}
// ANCHOR_END: echo

// ANCHOR: serve
/// Accepts connections and echoes each on a thread of its own, until `shutdown` is
/// stopped; then returns after every connection thread has finished.
pub fn serve(
    listener: std::net::TcpListener,
    limits: Limits,
    shutdown: Shutdown,
) -> io::Result<()> {
    // TODO: call shutdown.wake_on_stop(&listener), then accept in a loop until
    // shutdown.is_stopped(). Take a place with limits.slots().take(peer.ip()) (make
    // the Slots once, before the loop); None: drop the stream. Otherwise let stream =
    // shutdown.track(stream), then move it and the slot into a new thread
    // (thread::Builder with STACK_SIZE) that runs echo_until_idle(&stream, &limits,
    // &slot).
    // Keep the JoinHandles, and join them all before returning. Report accept errors
    // with log_accept_error.
    todo!()
}
// ANCHOR_END: serve
