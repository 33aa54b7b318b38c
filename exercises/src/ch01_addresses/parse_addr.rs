//! Exercise 1.2: read `host:port` text into socket addresses, in four steps.
//!
//! Scenario: every program in this course takes an address on its command line
//! (`--server 127.0.0.1:8890`). A typo there deserves a message that says what is
//! wrong, not "invalid socket address syntax". Goal: turn `127.0.0.1:8890`,
//! `[::1]:8890` or `localhost:8890` into the socket addresses they name, or into an
//! [`AddrError`] that names the mistake. One step per function: 1.2a
//! [`split_host_port`], 1.2b [`parse_port`], 1.2c [`parse_host`], 1.2d
//! [`parse_addr`]. The tests check each step on its own, then good addresses of each
//! kind and one bad input for every error variant.

use std::error::Error;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

// ANCHOR: error
/// What can be wrong with `host:port` text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrError {
    /// No port at the end: `127.0.0.1`, `localhost:`, `[::1]`.
    MissingPort,
    /// The port is not a number: `localhost:http`, `localhost:-1`.
    InvalidPort(String),
    /// The port is a number above 65535: `localhost:70000`.
    PortOutOfRange(String),
    /// Nothing before the colon: `:8890`.
    EmptyHost,
    /// An IPv6 address without brackets: `::1:8890` (write `[::1]:8890`).
    Ipv6NeedsBrackets,
    /// Neither an IP address nor `localhost`: `256.0.0.1`, `example.com`.
    InvalidHost(String),
}
// ANCHOR_END: error

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrError::MissingPort => write!(
                f,
                "no port number: write the address as HOST:PORT, e.g. 127.0.0.1:8890"
            ),
            AddrError::InvalidPort(port) => {
                write!(f, "port `{port}` is not a number from 0 to 65535")
            }
            AddrError::PortOutOfRange(port) => {
                write!(f, "port `{port}` is too large: ports go up to 65535")
            }
            AddrError::EmptyHost => {
                write!(f, "no host before the colon: write e.g. 127.0.0.1:8890")
            }
            AddrError::Ipv6NeedsBrackets => write!(
                f,
                "an IPv6 address needs brackets before the port, e.g. [::1]:8890"
            ),
            AddrError::InvalidHost(host) => write!(
                f,
                "`{host}` is not an IP address or `localhost` (the course looks up no other names, so it never reaches beyond your machine by accident)"
            ),
        }
    }
}

impl Error for AddrError {}

// ANCHOR: split_host_port
/// Step 1.2a: the host and port parts of the text:
/// `"[::1]:80"` -> (`"[::1]"`, `"80"`); `"localhost:80"` -> (`"localhost"`, `"80"`).
/// It only splits: the next steps check the port and the host.
pub fn split_host_port(text: &str) -> Result<(&str, &str), AddrError> {
    // TODO: for text starting with `[`, the port comes after `]:`; otherwise after
    // the last `:`. No colon: MissingPort; an earlier colon too: Ipv6NeedsBrackets.
    todo!()
}
// ANCHOR_END: split_host_port

// ANCHOR: parse_port
/// Step 1.2b: the port number, from the text after the colon.
pub fn parse_port(port: &str) -> Result<u16, AddrError> {
    // TODO: empty is MissingPort; anything but ASCII digits is InvalidPort; digits
    // that do not fit in a u16 are PortOutOfRange.
    todo!()
}
// ANCHOR_END: parse_port

// ANCHOR: parse_host
/// Step 1.2c: the IP addresses the host part names.
/// `localhost` names two: IPv4 first.
pub fn parse_host(host: &str) -> Result<Vec<IpAddr>, AddrError> {
    // TODO: empty (or `[]`) is EmptyHost; `localhost` in any capitals is 127.0.0.1
    // and ::1; `[...]` holds an IPv6 address; else an IPv4 address; else InvalidHost.
    todo!()
}
// ANCHOR_END: parse_host

// ANCHOR: parse_addr
/// Step 1.2d: the socket addresses that `text` names.
/// `localhost` names two: IPv4 first, then IPv6.
pub fn parse_addr(text: &str) -> Result<Vec<SocketAddr>, AddrError> {
    // TODO: split, parse the port, parse the host, and return one address per IP.
    todo!()
}
// ANCHOR_END: parse_addr
