//! Exercise 2.4: a client that does not wait forever.
//!
//! Scenario: article A's client sends a line and blocks in `recvfrom` until the reply
//! comes. If the datagram or the reply is lost, or no server runs, it waits forever.
//! Goal: send one request and return the reply, or give up after `timeout` with an
//! error that says why. The tests check a normal reply, a silent server (the
//! timeout), a port where nothing listens (refused), and that a stranger's datagram
//! is not taken for the reply.

use std::fmt;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use super::RECV_BUFFER;

// ANCHOR: error
/// Why a request got no reply.
#[derive(Debug)]
pub enum RequestError {
    /// Nothing came back within the timeout: the request or the reply was lost, or
    /// the server is slow, busy or not running.
    NoReply,
    /// The OS reported that nothing listens at the server's address (an ICMP "port
    /// unreachable" came back).
    Refused,
    /// Any other failure of the socket.
    Io(io::Error),
}
// ANCHOR_END: error

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::NoReply => write!(f, "no reply in time"),
            RequestError::Refused => {
                write!(f, "nothing is listening at the server's address")
            }
            RequestError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RequestError {}

impl From<io::Error> for RequestError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            // A read timeout shows up as WouldBlock on Unix and TimedOut on Windows.
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                RequestError::NoReply
            }
            // ICMP port unreachable: Refused on Linux and macOS, Reset on Windows.
            io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset => {
                RequestError::Refused
            }
            _ => RequestError::Io(e),
        }
    }
}

// ANCHOR: request
/// Sends `message` to `server` and waits at most `timeout` (more than zero) for the
/// reply.
pub fn request(
    socket: &UdpSocket,
    server: SocketAddr,
    message: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, RequestError> {
    // A connected UDP socket only receives datagrams from `server`, and the OS
    // reports an ICMP "port unreachable" to it as an error instead of dropping it.
    socket.connect(server)?;
    socket.set_read_timeout(Some(timeout))?;
    socket.send(message)?;
    let mut buf = vec![0u8; RECV_BUFFER];
    // `?` turns a timeout into NoReply and an ICMP error into Refused (the `From`
    // impl above).
    let len = socket.recv(&mut buf)?;
    buf.truncate(len);
    Ok(buf)
}
// ANCHOR_END: request
