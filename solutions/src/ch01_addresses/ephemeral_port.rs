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
    // Port 0 means "any free port". Loopback keeps the socket unreachable from other
    // machines.
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    // The real port is only known after bind; ask the socket which address it ended
    // up with.
    let port = socket.local_addr()?.port();
    Ok((socket, port))
}
// ANCHOR_END: bind_ephemeral
