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
    shutdown.wake_on_stop(&listener)?; // stop() connects once, so accept() returns
    let slots = limits.slots();
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    while !shutdown.is_stopped() {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) if affects_one_connection(&e) => continue,
            Err(e) => {
                // Out of file descriptors, say: report it, give others time to leave.
                log_accept_error(&e);
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        // Forget the threads that are done (their clients left).
        workers.retain(|worker| !worker.is_finished());
        if shutdown.is_stopped() {
            continue;
        }
        // Full, or that address holds its share: dropping `stream` closes it (the
        // client reads end-of-file).
        let Some(slot) = slots.take(peer.ip()) else {
            continue;
        };
        // stop() shuts down tracked streams, which wakes their threads from `read`.
        let stream = shutdown.track(stream);
        let spawned =
            thread::Builder::new()
                .stack_size(STACK_SIZE)
                .spawn(move || {
                    // `move`: the thread owns the stream and the slot; both are
                    // freed when the thread ends, however it ends. The slot also
                    // tells whether others wait for a place.
                    let _ = echo_until_idle(&stream, &limits, &slot);
                });
        match spawned {
            Ok(worker) => workers.push(worker),
            // The closure, its stream and its slot were dropped: that client is
            // closed.
            Err(e) => eprintln!("cannot start a thread: {e}"),
        }
    }
    for worker in workers {
        let _ = worker.join();
    }
    Ok(())
}
// ANCHOR_END: serve
