//! Exercise 3.1: the echo server of articles B and D.
//!
//! Scenario: article B's server sends back exactly what it receives; article D's
//! prefixes `Receive: `. Both serve one client at a time, and a client that leaves
//! must not stop the server. Goal: [`echo_connection`] serves one connection until
//! the client closes, and [`serve`] accepts clients one after another, forever. The
//! tests check exact echoes, the prefix, a megabyte that comes back whole, clients
//! that leave or reset, that a second client waits while the first is served, that
//! a client trickling a byte now and then does not keep it waiting for long, and that a
//! slow client is kept while nobody else waits.

use std::io::{self, Read, Write};
use std::net::TcpListener;

use super::{Pace, Paced, Queue};
use crate::show::Screen;

// ANCHOR: echo_connection
/// Serves one connection: for each chunk read, writes `prefix` + chunk back, until
/// the client closes its side. Returns how many bytes the client sent. [`Paced`]
/// (given) reads and writes like a `TcpStream`, and fails a read or write once the
/// client has stalled.
pub fn echo_connection(mut stream: Paced, prefix: &[u8]) -> io::Result<u64> {
    // TODO: read chunks (into a 64 KiB buffer) until read returns 0; answer each
    // with prefix + chunk (write_all). Show each chunk with a `Screen` (given, in
    // given/src/show.rs): `screen.show(peer, chunk)`, and `screen.flush()` after a
    // read that did not fill the buffer (nothing else was waiting).
    todo!()
}
// ANCHOR_END: echo_connection

// ANCHOR: serve
/// Accepts connections on `listener` one at a time and echoes each with
/// [`echo_connection`]. A client that moves no bytes for `pace.idle_timeout`, or,
/// while another client waits, fewer than `pace.min_rate` a second over that long,
/// is dropped, so the next one gets its turn. [`Queue`] (given) accepts and tells
/// whether another client waits. Returns only if accepting itself fails for good.
pub fn serve(listener: &TcpListener, prefix: &[u8], pace: Pace) -> io::Result<()> {
    // TODO: make a Queue::new(listener) once; accept clients one after another with
    // queue.accept() and serve each with echo_connection. Wrap each stream in
    // Paced::new(stream, pace).under(queue.pressure()) first (it gives every read and
    // write a deadline). An error with one client (a stall included) must not end the
    // loop.
    todo!()
}
// ANCHOR_END: serve
