//! Exercise 4.1: a thread per client, from `bind` to shutdown.
//!
//! Scenario: chapter 3's server serves one client at a time, so one quiet client keeps
//! everyone else waiting. Goal: [`run_server`] is chapter 3's whole server with one
//! change: each accepted client is echoed on a thread of its own. Stopping it means
//! waiting until every thread it started has finished (a graceful shutdown, as in
//! the Rust Book's multithreaded web server). The tests check that a quiet client
//! holds up nobody, that 50 clients are served at once, and that a stopped server
//! closes every connection, returns, and counts its clients.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::{Shutdown, affects_one_connection};

// ANCHOR: echo
/// Echoes one client until it closes its side, stays silent for `idle`, or fails
/// (given). Returns how many bytes it echoed.
pub fn echo(mut stream: &TcpStream, idle: Duration) -> io::Result<u64> {
    // A deadline on every wait: a silent client ends with an error, not never.
    stream.set_read_timeout(Some(idle))?;
    stream.set_write_timeout(Some(idle))?;
    let mut buf = [0u8; 4096];
    let mut total = 0;
    loop {
        let len = match stream.read(&mut buf) {
            Ok(0) => return Ok(total), // the client closed its side
            Ok(len) => len,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e), // silent for `idle`, or a reset
        };
        stream.write_all(&buf[..len])?;
        total += len as u64;
    }
}
// ANCHOR_END: echo

// ANCHOR: run_server
/// Binds `bind`, calls `ready` with the real address, then accepts clients and echoes
/// each on a thread of its own until `shutdown` is stopped. Then it waits for every
/// thread it started (stop() has closed their connections) and returns how many
/// clients it accepted.
pub fn run_server(
    bind: SocketAddr,
    idle: Duration,
    shutdown: &Shutdown,
    ready: impl FnOnce(SocketAddr),
) -> io::Result<u64> {
    let listener = TcpListener::bind(bind)?;
    ready(listener.local_addr()?);
    shutdown.wake_on_stop(&listener)?; // stop() connects once, so accept() returns
    let mut clients = 0;
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    let mut failed = None;
    while !shutdown.is_stopped() {
        let stream = match listener.accept() {
            Ok((stream, _peer)) => stream,
            Err(e) if affects_one_connection(&e) => continue,
            Err(e) => {
                // Accepting failed for good: stop the others too, report it below.
                shutdown.stop();
                failed = Some(e);
                continue;
            }
        };
        if shutdown.is_stopped() {
            break; // that was stop()'s own connection
        }
        // stop() shuts tracked streams down: a thread waiting in `read` wakes up.
        let stream = shutdown.track(stream);
        clients += 1;
        // `move`: the new thread owns the stream. It may outlive this turn of the
        // loop, so it cannot borrow; the connection closes when the thread ends.
        workers.push(thread::spawn(move || {
            if let Err(e) = echo(&stream, idle) {
                eprintln!("closing a connection: {e}");
            }
        }));
        // Forget the threads that have finished, so the list does not grow for ever.
        workers.retain(|worker| !worker.is_finished());
    }
    // Graceful shutdown: no thread outlives the server.
    for worker in workers {
        let _ = worker.join();
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(clients),
    }
}
// ANCHOR_END: run_server
