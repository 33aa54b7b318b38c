//! Chapter 5: UDP and TCP, measured.
//!
//! The articles compare UDP and TCP in words; this chapter measures them on loopback.
//! Three exercises build the measuring tools that the `udp-vs-tcp` program runs:
//! - [`stats`]: sum up a sample of round-trip times: min, median, p99 and mean.
//! - [`udp_trips`]: numbered UDP requests, each with its own deadline; count what is
//!   lost, and never take a late reply for the current one.
//! - [`tcp_trips`]: the same over TCP, on one connection with line framing, and with
//!   a new connection for every request.

use std::time::Duration;

pub mod stats;
pub mod tcp_trips;
pub mod udp_trips;

pub use stats::{Summary, summarize};
pub use tcp_trips::{TripError, tcp_connect_per_request, tcp_round_trips};
pub use udp_trips::{UdpTrips, udp_round_trips};

// ANCHOR: request
/// The request numbered `seq`: its number as decimal text, `b"42"` for 42. Over UDP
/// the datagram is exactly these bytes; over TCP they are followed by `\n` (one
/// line). The echo server sends the same bytes back, so a reply names the request it
/// answers.
pub fn request(seq: u32) -> Vec<u8> {
    seq.to_string().into_bytes()
}
// ANCHOR_END: request

/// The longest reply line accepted over TCP, newline included: a number is at most 10
/// digits, so anything longer than this is not a reply of ours.
pub const MAX_REPLY_LINE: u64 = 64;

/// How long one TCP read or write may take before the measurement gives up.
pub const TCP_TIMEOUT: Duration = Duration::from_secs(5);
