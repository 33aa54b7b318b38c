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
    if text.starts_with('[') {
        // An IPv6 literal is full of colons; the port comes after the `]`.
        let close = text
            .find(']')
            .ok_or_else(|| AddrError::InvalidHost(text.to_string()))?;
        let port = text[close + 1..]
            .strip_prefix(':')
            .ok_or(AddrError::MissingPort)?;
        return Ok((&text[..=close], port));
    }
    // The last colon separates the port; any colon before it means unbracketed IPv6.
    let (host, port) = text.rsplit_once(':').ok_or(AddrError::MissingPort)?;
    if host.contains(':') {
        return Err(AddrError::Ipv6NeedsBrackets);
    }
    Ok((host, port))
}
// ANCHOR_END: split_host_port

// ANCHOR: parse_port
/// Step 1.2b: the port number, from the text after the colon.
pub fn parse_port(port: &str) -> Result<u16, AddrError> {
    if port.is_empty() {
        return Err(AddrError::MissingPort);
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AddrError::InvalidPort(port.to_string()));
    }
    // Only digits, so `parse` can fail now only for a number too large for a u16.
    port.parse()
        .map_err(|_| AddrError::PortOutOfRange(port.to_string()))
}
// ANCHOR_END: parse_port

// ANCHOR: parse_host
/// Step 1.2c: the IP addresses the host part names.
/// `localhost` names two: IPv4 first.
pub fn parse_host(host: &str) -> Result<Vec<IpAddr>, AddrError> {
    if host.is_empty() || host == "[]" {
        return Err(AddrError::EmptyHost);
    }
    if host.eq_ignore_ascii_case("localhost") {
        // Fixed here instead of asking the OS resolver, which answers differently
        // from machine to machine (some list only 127.0.0.1, most list ::1 as well).
        return Ok(vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()]);
    }
    let invalid = || AddrError::InvalidHost(host.to_string());
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(inside) => inside
            .parse::<Ipv6Addr>()
            .map(|ip| vec![ip.into()])
            .map_err(|_| invalid()),
        None => host
            .parse::<Ipv4Addr>()
            .map(|ip| vec![ip.into()])
            .map_err(|_| invalid()),
    }
}
// ANCHOR_END: parse_host

// ANCHOR: parse_addr
/// Step 1.2d: the socket addresses that `text` names.
/// `localhost` names two: IPv4 first, then IPv6.
pub fn parse_addr(text: &str) -> Result<Vec<SocketAddr>, AddrError> {
    let (host, port) = split_host_port(text)?;
    let port = parse_port(port)?;
    let ips = parse_host(host)?;
    Ok(ips
        .into_iter()
        .map(|ip| SocketAddr::new(ip, port))
        .collect())
}
// ANCHOR_END: parse_addr
