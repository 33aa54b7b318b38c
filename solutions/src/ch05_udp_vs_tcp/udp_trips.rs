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
    // Connected: only datagrams from `server` arrive, and "port unreachable" is an
    // error.
    socket.connect(server)?;
    let mut trips = UdpTrips::default();
    let mut buf = vec![0u8; RECV_BUFFER];
    for seq in 1..=count {
        let message = request(seq);
        let sent = Instant::now();
        // One deadline per request: a stream of wrong datagrams must not keep us
        // waiting.
        let deadline = sent + timeout;
        socket.send(&message)?;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                trips.lost.push(seq);
                break;
            }
            socket.set_read_timeout(Some(left))?;
            match socket.recv(&mut buf) {
                // The reply names its request: only our own number ends the wait.
                Ok(len) if buf[..len] == message[..] => {
                    trips.rtts.push(sent.elapsed());
                    break;
                }
                Ok(_) => trips.stale += 1,
                // The read timeout: WouldBlock on Unix, TimedOut on Windows.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    trips.lost.push(seq);
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(trips)
}
// ANCHOR_END: udp_round_trips
