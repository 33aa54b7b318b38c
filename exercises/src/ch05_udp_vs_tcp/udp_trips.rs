//! Exercise 5.2: UDP round trips, and the ones that never come back.
//!
//! Scenario: to measure UDP we send numbered requests to an echo server and time each
//! reply. On a real network some requests or replies are lost, and a reply can come
//! so late that we have given up on it and sent the next request already. Goal: send
//! requests 1 to `count` one after another, each with its own deadline; record the
//! round trip of every request that got its own reply, the numbers of those that did
//! not, and ignore any other datagram. The tests go through the lossy relay with
//! scripts, so they know exactly which datagrams are lost, duplicated or late, and
//! check the lists and counts exactly.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::request;
use crate::ch02_udp::RECV_BUFFER;

// ANCHOR: trips
/// What [`udp_round_trips`] measured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UdpTrips {
    /// The round-trip time of each request that got its reply in time, in the order
    /// sent.
    pub rtts: Vec<Duration>,
    /// The numbers of the requests whose reply did not come in time, in order.
    pub lost: Vec<u32>,
    /// Datagrams that came while we waited but were not the awaited reply (a late
    /// reply to an earlier request, a duplicate): counted and ignored.
    pub stale: u32,
}
// ANCHOR_END: trips

// ANCHOR: udp_round_trips
/// Sends the requests numbered 1 to `count` (see [`request`](super::request)) to the
/// echo server at `server`, one at a time. Each waits at most `timeout` after it was
/// sent for its own reply; then it counts as lost and the next one goes.
pub fn udp_round_trips(
    socket: &UdpSocket,
    server: SocketAddr,
    count: u32,
    timeout: Duration,
) -> io::Result<UdpTrips> {
    // TODO: connect the socket to `server`. For each number: send `request(seq)`,
    // note the time and the deadline (sent + timeout), then receive until the
    // deadline; only a reply equal to the request ends the wait (record its round
    // trip); any other datagram counts as stale; the deadline passing makes the
    // request lost.
    todo!()
}
// ANCHOR_END: udp_round_trips
