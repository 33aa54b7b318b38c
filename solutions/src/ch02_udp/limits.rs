//! Exercise 2.2: refuse datagrams that are too large, instead of cutting them.
//!
//! Scenario: the articles read with `recvfrom(1024)`. A longer datagram is cut to
//! 1,024 bytes and the rest is thrown away without a word. Goal: accept at most
//! `limit` bytes and report a longer datagram as an error that says how long it
//! really was. The tests send datagrams of exactly `limit` bytes, one byte more, and
//! 65,507 bytes, and check that a valid datagram after a rejected one still arrives.

use std::fmt;
use std::io;
use std::net::{SocketAddr, UdpSocket};

use super::{Datagram, recv_one};

// ANCHOR: error
/// Why no datagram was returned.
#[derive(Debug)]
pub enum RecvError {
    /// A datagram of `len` bytes came from `from`, more than the `limit` we accept.
    TooLong {
        from: SocketAddr,
        len: usize,
        limit: usize,
    },
    /// The socket itself failed (or its read timeout passed).
    Io(io::Error),
}
// ANCHOR_END: error

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::TooLong { from, len, limit } => {
                write!(
                    f,
                    "a datagram of {len} bytes from {from} is larger than {limit} bytes; dropped"
                )
            }
            RecvError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RecvError {}

impl From<io::Error> for RecvError {
    fn from(e: io::Error) -> Self {
        RecvError::Io(e)
    }
}

// ANCHOR: recv_limited
/// Receives one datagram of at most `limit` bytes; a longer one is dropped and
/// reported.
pub fn recv_limited(socket: &UdpSocket, limit: usize) -> Result<Datagram, RecvError> {
    // recv_one reads into a buffer larger than any datagram, so `len` is the real
    // size.
    let datagram = recv_one(socket)?;
    if datagram.data.len() > limit {
        return Err(RecvError::TooLong {
            from: datagram.from,
            len: datagram.data.len(),
            limit,
        });
    }
    Ok(datagram)
}
// ANCHOR_END: recv_limited
