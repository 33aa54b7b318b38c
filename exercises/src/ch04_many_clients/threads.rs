//! Exercise 4.1: one thread per connection.
//!
//! Scenario: chapter 3's server reads from one client until it leaves, so everyone
//! else waits. Give each connection a thread of its own: a thread that blocks in
//! `read` stops only itself. Goal: [`serve`] accepts connections, starts a thread for
//! each (at most `limits.max_clients` at once), and when stopped waits for every
//! thread it started. The tests check the chapter's specification: many clients at
//! once, idle and resetting clients, a client that never reads, 1,000 connections,
//! and a clean stop.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::{Limits, Shutdown, affects_one_connection};

/// Stack size of a connection thread: the echo needs a few KiB, not std's default 2
/// MiB.
pub const STACK_SIZE: usize = 128 * 1024;

// ANCHOR: echo
/// Echoes one connection until the client closes, or moves no bytes for `idle`
/// (given).
pub fn echo_until_idle(stream: &TcpStream, idle: Duration) -> io::Result<()> {
    let mut stream = stream; // `&TcpStream` reads and writes too
    // Timeouts turn "wait forever" into an error: a quiet client, or one that does
    // not read its echo (then `write_all` waits for room), is closed after `idle`.
    stream.set_read_timeout(Some(idle))?;
    stream.set_write_timeout(Some(idle))?;
    let mut buf = [0u8; 4096];
    loop {
        let len = match stream.read(&mut buf) {
            Ok(0) => return Ok(()), // the client closed its side
            Ok(len) => len,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e), // WouldBlock/TimedOut (idle), or a reset
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
    // shutdown.is_stopped(). Past limits.max_clients, drop the stream. Otherwise
    // let stream = shutdown.track(stream), then move it into a new thread
    // (thread::Builder with STACK_SIZE) that runs echo_until_idle(&stream). Keep the
    // JoinHandles, and join them all before returning.
    todo!()
}
// ANCHOR_END: serve
