//! Exercise 2.3: the request/reply server of article A.
//!
//! Scenario: the server prints each message and answers `Success to receive message`.
//! The article sleeps one second before answering "so that the client is ready"; that
//! is not needed, because a datagram that arrives early waits in the client's receive
//! buffer. Goal: receive one datagram (at most `limit` bytes) and answer its sender
//! at once. The tests check the exact reply, that it goes to the sender, that it
//! comes without delay, and that a datagram that is too long gets no reply.

use std::net::UdpSocket;

use super::{Datagram, RecvError, recv_limited};

/// What the server answers to every datagram.
pub const REPLY: &[u8] = b"Success to receive message";

// ANCHOR: answer_one
/// Receives one datagram of at most `limit` bytes, replies [`REPLY`] to its sender,
/// and returns it so the caller can print it.
pub fn answer_one(socket: &UdpSocket, limit: usize) -> Result<Datagram, RecvError> {
    let datagram = recv_limited(socket, limit)?;
    // The sender's address came with the datagram: that is where the reply goes.
    socket.send_to(REPLY, datagram.from)?;
    Ok(datagram)
}
// ANCHOR_END: answer_one
