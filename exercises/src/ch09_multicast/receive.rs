//! Exercise 9.3: a receive loop that returns what arrived.
//!
//! Scenario: article B's receiver prints datagrams forever. A program (or a test)
//! wants them as values: what arrived and who sent it, until enough arrived or the
//! group went quiet. Goal: collect up to `max` datagrams, stopping early after
//! `quiet` without one. The tests send a few datagrams and check what comes back, in
//! order and with the sender, and that a quiet group ends the loop with what arrived
//! so far, not with an error.

use std::io;
use std::net::UdpSocket;
use std::time::Duration;

use super::Datagram;
use crate::ch02_udp::RECV_BUFFER;

// ANCHOR: receive
/// Receives up to `max` datagrams; stops early when none arrives for `quiet`.
/// A quiet group is not an error: the result holds what arrived, perhaps nothing.
pub fn receive(
    socket: &UdpSocket,
    max: usize,      // stop after this many datagrams
    quiet: Duration, // or after this long without one (more than 0)
) -> io::Result<Vec<Datagram>> {
    // TODO: give the socket a read timeout of `quiet`, then receive (into a buffer of
    // RECV_BUFFER bytes) until `max` datagrams arrived or the timeout passes
    // (WouldBlock or TimedOut: stop, that is not an error).
    todo!()
}
// ANCHOR_END: receive
