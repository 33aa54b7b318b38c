//! Exercise 2.1: receive one datagram.
//!
//! Scenario: the UDP server of article D binds, waits for one datagram, prints what
//! came and from whom, and stops. Goal: the "wait for one datagram" part. The tests
//! send text, an empty datagram, bytes that are not UTF-8 and a 65,507-byte datagram,
//! and check that each arrives whole with the right sender.

use std::cell::RefCell;
use std::io;
use std::net::UdpSocket;

use super::{Datagram, RECV_BUFFER};

// ANCHOR: recv_one
thread_local! {
    /// Given: one receive buffer per thread, reused for every datagram. (Making and
    /// zeroing 64 KiB for each datagram would cost more than receiving a small one.)
    static BUFFER: RefCell<Vec<u8>> = RefCell::new(vec![0u8; RECV_BUFFER]);
}

/// Waits for one datagram on `socket` and returns it with its sender.
pub fn recv_one(socket: &UdpSocket) -> io::Result<Datagram> {
    BUFFER.with_borrow_mut(|buf| {
        // TODO: receive into `buf` (RECV_BUFFER bytes) with `recv_from`, copy out
        // only the bytes that arrived, and return them with the sender's address.
        todo!()
    })
}
// ANCHOR_END: recv_one
