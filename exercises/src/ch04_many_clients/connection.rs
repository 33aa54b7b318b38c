//! Exercise 4.3: a connection that never blocks.
//!
//! Scenario: an event loop serves every client on one thread, so no call may wait. A
//! non-blocking socket answers `WouldBlock` instead of waiting, and mio tells the
//! loop only when readiness changes (edge-triggered): after an event, read and write
//! until `WouldBlock`, or no new event will come. Goal: [`Connection::pump`] moves as
//! many bytes as it can without blocking: it writes what is waiting, reads more while
//! the buffer has room, and stops at `WouldBlock`, at a full buffer, or when the read
//! budget is spent. The tests check exact echoes, the buffer bound while the client
//! does not read, the budget, end-of-file and resets.

use std::io::ErrorKind::{Interrupted, WouldBlock};
use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::time::Instant;

use mio::net::TcpStream;

use super::pace::{Meter, Metered};

/// What [`Connection::pump`] found out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Blocked on the socket (`WouldBlock`): wait for the next event.
    Waiting,
    /// The read budget is spent and there may be more to read: call `pump` again
    /// soon, without waiting for an event (none will come for bytes already there).
    Again,
    /// The client closed its side and every echo byte was written: close the
    /// connection.
    Done,
}

/// One client of the event loop: its non-blocking stream (whose reads and writes are
/// counted, for the minimum rate) and the echo bytes not yet written.
#[derive(Debug)]
pub struct Connection {
    stream: Metered<TcpStream>,
    peer: Option<IpAddr>,
    pending: Vec<u8>,
    max_buffer: usize,
    peer_closed: bool,
    last_active: Instant,
}

impl Connection {
    /// Wraps a non-blocking stream; at most `max_buffer` echo bytes will wait in
    /// memory.
    pub fn new(stream: TcpStream, max_buffer: usize) -> Self {
        Connection {
            peer: stream.peer_addr().ok().map(|addr| addr.ip()),
            stream: Metered::new(stream),
            pending: Vec::new(),
            max_buffer: max_buffer.max(1),
            peer_closed: false,
            last_active: Instant::now(),
        }
    }

    /// The stream, to register it with a `mio::Registry`.
    pub fn stream_mut(&mut self) -> &mut TcpStream {
        self.stream.get_mut()
    }

    /// The client's address (`None` if the OS could not tell).
    pub fn peer(&self) -> Option<IpAddr> {
        self.peer
    }

    /// The bytes this connection moved, for the deadlines on progress.
    pub fn meter(&mut self) -> &mut Meter {
        self.stream.meter()
    }

    /// Echo bytes read but not yet written.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Whether the connection has bytes to write, so it needs `Interest::WRITABLE`.
    pub fn wants_to_write(&self) -> bool {
        !self.pending.is_empty()
    }

    /// When bytes last moved either way.
    pub fn last_active(&self) -> Instant {
        self.last_active
    }

    // ANCHOR: pump
    /// Writes pending echo bytes and reads more, without blocking, until the socket
    /// says `WouldBlock`, the buffer is full (while writing blocks), or `budget`
    /// bytes were read.
    pub fn pump(&mut self, budget: usize) -> io::Result<Progress> {
        // TODO: in a loop: write self.pending until it is empty or WouldBlock
        // (drain what was written); if the client has closed, Done once pending is
        // empty; if the buffer is full, Waiting; if the budget is spent, Again; else
        // read at most min(room, budget) bytes: 0 means end-of-file, WouldBlock
        // means Waiting. Update last_active whenever bytes move.
        todo!()
    }
    // ANCHOR_END: pump
}
