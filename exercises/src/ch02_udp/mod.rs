//! Chapter 2: UDP basics.
//!
//! A UDP socket sends and receives *datagrams*: whole messages with a sender address, each
//! delivered once, or not at all. This chapter builds the request/reply pair of the first UDP
//! article, one exercise per file, each building on the one before:
//! - [`recv_one`]: receive one datagram and say who sent it.
//! - [`limits`]: notice a datagram that is larger than you accept, instead of cutting it.
//! - [`reply_server`]: answer each datagram with `Success to receive message`, at once.
//! - [`client`]: send a request and wait for the reply, but not forever.

use std::borrow::Cow;
use std::net::SocketAddr;

pub mod client;
pub mod limits;
pub mod recv_one;
pub mod reply_server;

pub use client::{RequestError, request};
pub use limits::{RecvError, recv_limited};
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

/// A receive buffer larger than any datagram, so that nothing is ever cut off.
pub const RECV_BUFFER: usize = 65_536;

/// The largest UDP payload over IPv4: 65,535 bytes minus 8 (UDP header) minus 20 (IP header).
pub const MAX_UDP_PAYLOAD: usize = 65_507;
