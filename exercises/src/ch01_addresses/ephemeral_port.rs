//! Exercise 1.3: let the operating system choose the port.
//!
//! Scenario: article A's client never calls `bind`, yet the server sees it at some
//! port. The OS picked that port (an ephemeral port). Binding to port 0 asks for the
//! same service explicitly, and is how every test in this course gets a port that is
//! certainly free. Goal: bind a UDP socket to port 0 on loopback and report the port
//! the OS chose. The tests check that the socket really receives at 127.0.0.1 and
//! that port, and that two calls get two different ports.

use std::io;
use std::net::{Ipv4Addr, UdpSocket};

// ANCHOR: bind_ephemeral
/// Binds a UDP socket to `127.0.0.1:0` and returns it with the port the OS chose.
pub fn bind_ephemeral() -> io::Result<(UdpSocket, u16)> {
    // TODO: bind a UdpSocket to 127.0.0.1 port 0, then ask it which port it got.
    todo!()
}
// ANCHOR_END: bind_ephemeral
