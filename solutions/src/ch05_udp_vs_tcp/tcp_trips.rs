//! Exercise 5.3: TCP round trips, on one connection and with a connection per
//! request.
//!
//! Scenario: the same numbered requests as exercise 5.2, over TCP to a line echo
//! server: each request is one line, `42\n`, and so is its reply. TCP loses nothing
//! and keeps the order, so there is no deadline per request and no stale reply to
//! skip; but a byte stream has no message boundaries, so replies are read as lines
//! (chapter 3's framing; here std's `BufReader` does it, through [`read_reply`],
//! which is given). Goal: (1) time `count` round trips over one connection; (2) time
//! `count` of them with a new connection each (connect, one request, close), to see
//! what a TCP handshake costs. The tests check the number of round trips and
//! connections and that every reply matched its request, never how long they took.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::{MAX_REPLY_LINE, request};

// ANCHOR: error
/// Why a TCP measurement stopped.
#[derive(Debug)]
pub enum TripError {
    /// The reply to request `seq` was not its number (shown as text, invalid UTF-8 as
    /// `�`).
    Mismatch { seq: u32, reply: String },
    /// The server closed the connection before it replied to request `seq`.
    Closed { seq: u32 },
    /// Connecting, reading or writing failed (refused, reset, timed out).
    Io(io::Error),
}
// ANCHOR_END: error

impl fmt::Display for TripError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TripError::Mismatch { seq, reply } => {
                write!(
                    f,
                    "request {seq} got the reply \"{}\"",
                    reply.escape_debug()
                )
            }
            TripError::Closed { seq } => {
                write!(
                    f,
                    "the server closed the connection before replying to {seq}"
                )
            }
            TripError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for TripError {}

impl From<io::Error> for TripError {
    fn from(e: io::Error) -> Self {
        TripError::Io(e)
    }
}

// ANCHOR: read_reply
/// Given: reads one reply line from `reader` and checks that it is request `seq`'s
/// number. Reads at most [`MAX_REPLY_LINE`] bytes, so a server that never sends `\n`
/// cannot make us buffer without limit.
pub fn read_reply(reader: &mut impl BufRead, seq: u32) -> Result<(), TripError> {
    let mut line = Vec::new();
    reader.take(MAX_REPLY_LINE).read_until(b'\n', &mut line)?;
    if line.pop() != Some(b'\n') && (line.len() as u64) < MAX_REPLY_LINE {
        // No newline, and fewer bytes than the limit: the stream ended (mid-line or
        // not).
        return Err(TripError::Closed { seq });
    }
    if line != request(seq) {
        let reply = String::from_utf8_lossy(&line).into_owned();
        return Err(TripError::Mismatch { seq, reply });
    }
    Ok(())
}
// ANCHOR_END: read_reply

// ANCHOR: tcp_round_trips
/// Sends the requests numbered 1 to `count` over `conn`, each as one line, and
/// waits for each reply before the next request. Returns the round-trip times, in
/// order. The caller sets the connection's timeouts.
pub fn tcp_round_trips(
    conn: TcpStream,
    count: u32,
) -> Result<Vec<Duration>, TripError> {
    // Two handles on one connection: a buffered one for reading lines, a plain one to
    // write.
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut writer = conn;
    let mut rtts = Vec::with_capacity(count as usize);
    for seq in 1..=count {
        let mut line = request(seq);
        line.push(b'\n');
        let sent = Instant::now();
        // One write for the whole line: see "Nagle meets delayed ACK" in the book.
        writer.write_all(&line)?;
        read_reply(&mut reader, seq)?;
        rtts.push(sent.elapsed());
    }
    Ok(rtts)
}
// ANCHOR_END: tcp_round_trips

// ANCHOR: tcp_connect_per_request
/// Like [`tcp_round_trips`], but each request gets a connection of its own: connect
/// (within `timeout`), send one line, read the reply, close. Each time covers all of
/// that.
pub fn tcp_connect_per_request(
    server: SocketAddr,
    count: u32,
    timeout: Duration,
) -> Result<Vec<Duration>, TripError> {
    let mut rtts = Vec::with_capacity(count as usize);
    for seq in 1..=count {
        let started = Instant::now();
        let mut stream = TcpStream::connect_timeout(&server, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        let mut line = request(seq);
        line.push(b'\n');
        stream.write_all(&line)?;
        read_reply(&mut BufReader::new(&stream), seq)?;
        // Closing sends FIN and returns at once; the server sees end-of-file.
        drop(stream);
        rtts.push(started.elapsed());
    }
    Ok(rtts)
}
// ANCHOR_END: tcp_connect_per_request
