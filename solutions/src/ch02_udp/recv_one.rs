//! Exercise 2.1: receive one datagram.
//!
//! Scenario: the UDP server of article D binds, waits for one datagram, prints what came and
//! from whom, and stops. Goal: the "wait for one datagram" part.
//! The tests send text, an empty datagram, bytes that are not UTF-8 and a 65,507-byte
//! datagram, and check that each arrives whole with the right sender.

use std::io;
use std::net::UdpSocket;

use super::{Datagram, RECV_BUFFER};

// ANCHOR: recv_one
/// Waits for one datagram on `socket` and returns it with its sender.
pub fn recv_one(socket: &UdpSocket) -> io::Result<Datagram> {
    // The buffer must be larger than any datagram: UDP cuts what does not fit, silently.
    let mut buf = vec![0u8; RECV_BUFFER];
    let (len, from) = socket.recv_from(&mut buf)?;
    // recv_from wrote `len` bytes at the start of the buffer; the rest is not part of it.
    buf.truncate(len);
    Ok(Datagram { data: buf, from })
}
// ANCHOR_END: recv_one
