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
    // TODO: bind a TcpListener, call ready(listener.local_addr()?), then
    // shutdown.wake_on_stop(&listener)?. While !shutdown.is_stopped(): accept (skip
    // ConnectionAborted and Interrupted), break if stopped meanwhile, then
    // let stream = shutdown.track(stream); set read and write timeouts of `idle`
    // and echo until read returns 0, counting clients and bytes in a Served. An
    // error ends that client only (print it to stderr). Return Ok(served).
    todo!()
}
// ANCHOR_END: run_echo_server

// ANCHOR: stop_on_ctrl_c
/// Step 3.4b: makes Ctrl-C (SIGINT on Unix) call `shutdown.stop()` instead of ending
/// the program where it stands. A process has one handler: call it once.
pub fn stop_on_ctrl_c(shutdown: &Shutdown) -> io::Result<()> {
    // TODO: give ctrlc::set_handler a `move` closure that owns a clone of `shutdown`
    // and calls stop() on it; turn its error into an io::Error (io::Error::other).
    todo!()
}
// ANCHOR_END: stop_on_ctrl_c
