//! Exercise 3.1: the echo server of articles B and D.
//!
//! Scenario: article B's server sends back exactly what it receives; article D's
//! prefixes `Receive: `. Both serve one client at a time, and a client that leaves
//! must not stop the server. Goal: [`echo_connection`] serves one connection until
//! the client closes, and [`serve`] accepts clients one after another, forever. The
//! tests check exact echoes, the prefix, a megabyte that comes back whole, clients
//! that leave or reset, and that a second client waits while the first is served.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::show::Screen;

// ANCHOR: echo_connection
/// Serves one connection: for each chunk read, writes `prefix` + chunk back, until
/// the client closes its side. Returns how many bytes the client sent.
pub fn echo_connection(mut stream: TcpStream, prefix: &[u8]) -> io::Result<u64> {
    // TODO: read chunks until read returns 0; answer each with prefix + chunk
    // (write_all). Show each chunk with a `Screen` (given, in given/src/show.rs):
    // `screen.show(peer, chunk)`, and `screen.flush()` after a read that did not fill
    // the buffer (nothing else was waiting).
    todo!()
}
// ANCHOR_END: echo_connection

// ANCHOR: serve
/// Accepts connections on `listener` one at a time and echoes each with
/// [`echo_connection`]. A client that sends nothing, or does not read its echo, for
/// `idle_timeout` is dropped, so the next one gets its turn. Returns only if
/// accepting itself fails for good.
pub fn serve(
    listener: &TcpListener,
    prefix: &[u8],
    idle_timeout: Duration,
) -> io::Result<()> {
    // TODO: accept clients one after another and serve each with echo_connection.
    // Give each stream read and write timeouts of idle_timeout first. An error with
    // one client (a timeout included) must not end the loop.
    todo!()
}
// ANCHOR_END: serve
