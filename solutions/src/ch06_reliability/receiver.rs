//! Exercise 6.2: the receiver.
//!
//! Scenario: DATA messages arrive lost, late, twice or out of order. Goal: a receiver that
//! acknowledges what it accepts, acknowledges duplicates again (its first ACK may have been
//! lost), delivers every payload exactly once and in order, and finishes at END.
//! The tests drive [`Receiver::on_message`] by hand (in order, 2-1-3, duplicates, END twice),
//! then run the receiver on a real socket with hand-made datagrams and garbage.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use super::{FIRST_SEQ, Kind, Message};

/// What to do after one message: the reply to send, the payload to deliver, whether the
/// stream is complete.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Step {
    pub reply: Option<Message>,
    pub deliver: Option<Vec<u8>>,
    pub finished: bool,
}

// ANCHOR: receiver
/// The receiving side of stop-and-wait: the sequence number it expects next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receiver {
    next: u32,
    finished: bool,
}

impl Receiver {
    /// A receiver waiting for the first message.
    pub fn new() -> Self {
        Receiver {
            next: FIRST_SEQ,
            finished: false,
        }
    }

    /// Whether END has been accepted.
    pub fn is_finished(&self) -> bool {
        self.finished
    }
    // ANCHOR_END: receiver

    // ANCHOR: on_message
    /// Handles one message from the sender.
    pub fn on_message(&mut self, message: Message) -> Step {
        if message.kind == Kind::Ack {
            return Step::default(); // ACKs go to senders, not to us
        }
        if message.seq < self.next {
            // Accepted before: our ACK was lost or is late. ACK again, deliver nothing.
            return Step {
                reply: Some(Message::ack(message.seq)),
                ..Step::default()
            };
        }
        if message.seq > self.next || self.finished {
            // From the future: stop-and-wait never sends it before `next` is ACKed, so it
            // can only be stale or forged. Unacknowledged, it will be sent again if it matters.
            return Step::default();
        }
        self.next = self.next.wrapping_add(1);
        let reply = Some(Message::ack(message.seq));
        match message.kind {
            Kind::Data => Step {
                reply,
                deliver: Some(message.payload),
                finished: false,
            },
            _ => {
                self.finished = true;
                Step {
                    reply,
                    deliver: None,
                    finished: true,
                }
            }
        }
    }
    // ANCHOR_END: on_message
}

impl Default for Receiver {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs a [`Receiver`] on `socket`: hands each payload, in order, to `deliver`, and after END
/// lingers until `linger` passes without a datagram, so that a retransmitted END (its ACK was
/// lost) is still answered. Returns how many payload bytes were delivered.
///
/// Only the first peer that sends a valid message is heard; anything that does not decode is
/// reported on stderr and dropped. (Given: it uses your `decode`, `on_message` and `encode`.)
pub fn run_receiver(
    socket: &UdpSocket,
    linger: Duration,
    mut deliver: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<u64> {
    let mut receiver = Receiver::new();
    let mut sender: Option<SocketAddr> = None;
    let mut delivered = 0u64;
    let mut buf = vec![0u8; 65_536];
    loop {
        if receiver.is_finished() {
            socket.set_read_timeout(Some(linger))?;
        }
        let (len, from) = match socket.recv_from(&mut buf) {
            Ok(received) => received,
            // After END, silence for `linger` means the sender has its ACK: we are done.
            Err(e) if is_timeout(&e) && receiver.is_finished() => return Ok(delivered),
            // Before END, keep waiting; an ICMP error (Windows) concerns a past peer.
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::ConnectionReset => continue,
            Err(e) => return Err(e),
        };
        if sender.is_some_and(|s| s != from) {
            continue; // not our sender
        }
        let message = match Message::decode(&buf[..len]) {
            Ok(message) => message,
            Err(e) => {
                eprintln!("ignored {len} bytes from {from}: {e}");
                continue;
            }
        };
        sender.get_or_insert(from);
        let step = receiver.on_message(message);
        if let Some(reply) = step.reply {
            // A lost ACK is the protocol's business; a failed send is just another loss.
            let _ = socket.send_to(&reply.encode(), from);
        }
        if let Some(payload) = step.deliver {
            deliver(&payload)?;
            delivered += payload.len() as u64;
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
