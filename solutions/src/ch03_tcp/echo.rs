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
    let peer = stream.peer_addr()?;
    // 64 KiB: one read takes what a fast client has sent meanwhile (a 4 KiB
    // buffer needs 16 reads, writes and previews for the same bytes). On the heap:
    // a thread's stack is small.
    let mut buf = vec![0u8; 64 * 1024];
    let mut reply = Vec::with_capacity(prefix.len() + buf.len());
    let mut screen = Screen::new();
    let mut total = 0;
    loop {
        let len = match stream.read(&mut buf) {
            // Zero bytes: the client shut down its writing side. Nothing more will
            // come.
            Ok(0) => return Ok(total),
            Ok(len) => len,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..len];
        // One write_all for prefix and chunk: write_all loops until every byte is
        // handed to the OS, and keeping them in one buffer lets them travel together.
        // The reply goes first, the screen second: the client should not wait for our
        // terminal.
        reply.clear();
        reply.extend_from_slice(prefix);
        reply.extend_from_slice(chunk);
        stream.write_all(&reply)?;
        screen.show(peer, chunk);
        // A read that did not fill the buffer took all that was waiting: print now.
        if len < buf.len() {
            screen.flush();
        }
        total += len as u64;
    }
    // `stream` and `screen` are dropped here: the connection closes (the client reads
    // end-of-file) and the last lines are printed.
}
// ANCHOR_END: echo_connection

// ANCHOR: serve
/// Accepts connections on `listener` one at a time and echoes each with
/// [`echo_connection`]. A client that moves no bytes for `pace.idle_timeout`, or,
/// while another client waits, fewer than `pace.min_rate` a second over that long,
/// is dropped, so the next one gets its turn. [`Queue`] (given) accepts and tells
/// whether another client waits. Returns only if accepting itself fails for good.
pub fn serve(listener: &TcpListener, prefix: &[u8], pace: Pace) -> io::Result<()> {
    let queue = Queue::new(listener)?;
    loop {
        let (stream, peer) = match queue.accept() {
            Ok(accepted) => accepted,
            // A client that gave up before we accepted it: its problem, not the
            // server's.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            Err(e) => return Err(e),
        };
        eprintln!("{peer} connected");
        // Without a deadline, a client that stays silent (or never reads, or sends a
        // byte now and then) blocks `read` (or `write_all`) forever, and everybody
        // waiting behind it with it. Paced gives every call one; the minimum rate
        // applies only while another client waits.
        let stream = Paced::new(stream, pace).under(queue.pressure());
        // One client's error (a reset, a stall) ends that client only; the loop goes
        // on.
        match echo_connection(stream, prefix) {
            Ok(bytes) => {
                eprintln!("{peer} closed the connection after {bytes} bytes")
            }
            // "idle for 30 s", "too slow: ...", "Connection reset by peer", ...
            Err(e) => eprintln!("{peer}: {e}, closing the connection"),
        }
    }
}
// ANCHOR_END: serve
