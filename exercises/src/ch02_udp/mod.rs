//! Chapter 2: UDP basics.
//!
//! A UDP socket sends and receives *datagrams*: whole messages with a sender address,
//! each delivered once, or not at all. This chapter builds the request/reply pair of
//! the first UDP article, one exercise per file, each building on the one before:
//! - [`recv_one`]: receive one datagram and say who sent it.
//! - [`limits`]: notice a datagram that is larger than you accept, instead of cutting
//!   it.
//! - [`reply_server`]: answer each datagram with `Success to receive message`, at
//!   once.
//! - [`client`]: send a request and wait for the reply, but not forever.
//! - [`program`]: the whole server and the whole client, from bind to close: the
//!   programs `udp-server` and `udp-client` run them.

use std::borrow::Cow;
use std::net::SocketAddr;

pub mod client;
pub mod limits;
pub mod program;
pub mod recv_one;
pub mod reply_server;

pub use client::{RequestError, request};
pub use limits::{RecvError, recv_limited};
pub use program::{affects_one_peer, run_client, run_server};
pub use recv_one::recv_one;
pub use reply_server::{REPLY, answer_one};

// ANCHOR: datagram
/// One received datagram: its bytes and the address of the socket that sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    pub data: Vec<u8>,
    pub from: SocketAddr,
}
// ANCHOR_END: datagram

impl Datagram {
    /// The bytes as text; invalid UTF-8 is shown as `�` instead of failing.
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.data)
    }
}

/// Received bytes as one printable line: invalid UTF-8 shown as `�`, control
/// characters (a newline inside a datagram, say) escaped so that one message stays
/// one line and no peer can send escape sequences to your terminal.
pub fn printable(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// A receive buffer larger than any datagram, so that nothing is ever cut off.
pub const RECV_BUFFER: usize = 65_536;

/// The largest UDP payload over IPv4: 65,535 bytes minus 8 (UDP header) minus 20 (IP
/// header).
pub const MAX_UDP_PAYLOAD: usize = 65_507;
