//! Exercise 3.4: the whole echo server, from `bind` to a clean stop, in two steps.
//!
//! Scenario: exercises 3.1 to 3.3 wrote the pieces, and chapter 3's `serve` never
//! returns: the only way to stop `tcp-server` is to kill it. A whole program starts,
//! runs until someone stops it, finishes what it is doing, says what it did and exits
//! with 0. Goal (3.4a): [`run_echo_server`] binds, says where it listens, echoes one
//! client after another until it is stopped, and returns what it served. Goal (3.4b):
//! [`stop_on_ctrl_c`] makes Ctrl-C stop it instead of killing the program. The tests
//! run your server on real sockets, then run `tcp-echo-server` and press Ctrl-C
//! (they send it SIGINT).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use super::shutdown::Shutdown;

/// What the server did before it stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Served {
    /// Clients accepted (those that left with an error too).
    pub clients: u64,
    /// Bytes echoed back, all clients together.
    pub bytes: u64,
}

// ANCHOR: run_echo_server
/// Step 3.4a: binds `bind`, calls `ready` with the real address (the program prints
/// `listening on` there), then accepts clients one at a time and echoes each until it
/// closes its side, stays silent for `idle`, or fails. Returns what it served once
/// `shutdown` is stopped (a client being served is disconnected), or the error if
/// accepting fails for good.
pub fn run_echo_server(
    bind: SocketAddr,
    idle: Duration,
    shutdown: &Shutdown,
    ready: impl FnOnce(SocketAddr),
) -> io::Result<Served> {
    let listener = TcpListener::bind(bind)?;
    // With port 0, only the listener knows its real port.
    ready(listener.local_addr()?);
    // stop() connects to the listener once, so that a waiting accept() returns.
    shutdown.wake_on_stop(&listener)?;
    let mut served = Served::default();
    while !shutdown.is_stopped() {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            // A client that gave up before we accepted it: not the server's problem.
            Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if shutdown.is_stopped() {
            break; // that was stop()'s own connection
        }
        // stop() shuts tracked streams down: a read that waits returns at once.
        let stream = shutdown.track(stream);
        served.clients += 1;
        // One client's error (silence, a reset) ends that client only.
        if let Err(e) = echo_until_closed(&stream, idle, &mut served.bytes) {
            eprintln!("{peer}: {e}, closing the connection");
        }
        // `stream` is dropped here: the connection closes.
    }
    Ok(served)
}

/// Echoes until the client closes its side, adding each chunk to `bytes`.
fn echo_until_closed(
    mut stream: &TcpStream,
    idle: Duration,
    bytes: &mut u64,
) -> io::Result<()> {
    // A deadline on every wait: a silent client must not hold the server for ever.
    stream.set_read_timeout(Some(idle))?;
    stream.set_write_timeout(Some(idle))?;
    let mut buf = [0u8; 4096];
    loop {
        let len = match stream.read(&mut buf) {
            Ok(0) => return Ok(()), // end-of-file: the client closed its side
            Ok(len) => len,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        stream.write_all(&buf[..len])?;
        *bytes += len as u64;
    }
}
// ANCHOR_END: run_echo_server

// ANCHOR: stop_on_ctrl_c
/// Step 3.4b: makes Ctrl-C (SIGINT on Unix) call `shutdown.stop()` instead of ending
/// the program where it stands. A process has one handler: call it once.
pub fn stop_on_ctrl_c(shutdown: &Shutdown) -> io::Result<()> {
    // The handler runs on a thread of its own, later: it needs its own handle.
    let shutdown = shutdown.clone();
    ctrlc::set_handler(move || shutdown.stop()).map_err(io::Error::other)
}
// ANCHOR_END: stop_on_ctrl_c
