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
    shutdown.wake_on_stop(&listener)?; // stop() connects once, so accept() returns
    let active = Arc::new(AtomicUsize::new(0));
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    while !shutdown.is_stopped() {
        let stream = match listener.accept() {
            Ok((stream, _peer)) => stream,
            Err(e) if affects_one_connection(&e) => continue,
            Err(e) => {
                // Out of file descriptors, say: report it, give others time to leave.
                eprintln!("accept failed: {e}");
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        // Forget the threads that are done (their clients left).
        workers.retain(|worker| !worker.is_finished());
        let full = active.load(Ordering::SeqCst) >= limits.max_clients;
        if shutdown.is_stopped() || full {
            continue; // dropping `stream` closes it: the client reads end-of-file
        }
        // stop() shuts down tracked streams, which wakes their threads from `read`.
        let stream = shutdown.track(stream);
        active.fetch_add(1, Ordering::SeqCst);
        let slots = Arc::clone(&active);
        let spawned =
            thread::Builder::new()
                .stack_size(STACK_SIZE)
                .spawn(move || {
                    // `move`: the thread owns the stream; it closes when the
                    // thread ends.
                    let _ = echo_until_idle(&stream, limits.idle_timeout);
                    slots.fetch_sub(1, Ordering::SeqCst);
                });
        match spawned {
            Ok(worker) => workers.push(worker),
            Err(e) => {
                // The closure and its stream were dropped: that client is closed.
                eprintln!("cannot start a thread: {e}");
                active.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }
    for worker in workers {
        let _ = worker.join();
    }
    Ok(())
}
// ANCHOR_END: serve
