//! Exercise 6.2: the receiver.
//!
//! Scenario: DATA messages arrive lost, late, twice or out of order. Goal: a receiver
//! that acknowledges what it accepts, acknowledges duplicates again (its first ACK
//! may have been lost), delivers every payload exactly once and in order, and
//! finishes at END. It belongs to one transfer: the session of the first message it
//! accepts (stop-and-wait sends nothing else before that message is acknowledged, so
//! the first message is also the one with the first, random, sequence number); a
//! message of any other session is ignored, whoever sends it. Sequence numbers wrap,
//! so they are compared with `seq_before` (serial arithmetic), never with `<`. The
//! tests drive [`Receiver::on_message`] by hand (in order, 2-1-3, duplicates, END
//! twice, another session, numbers that wrap past `u32::MAX`), then run the receiver
//! on a real socket with hand-made datagrams and garbage.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::{Kind, Message, seq_before};

/// What to do after one message: the reply to send, the payload to deliver, whether
/// the stream is complete.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Step {
    pub reply: Option<Message>,
    pub deliver: Option<Vec<u8>>,
    pub finished: bool,
}

// ANCHOR: receiver
/// The receiving side of stop-and-wait: its session and the sequence number it
/// expects next, both learned from the first message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receiver {
    /// The session of the first DATA or END accepted; `None` before it.
    session: Option<u32>,
    next: u32,
    finished: bool,
}

impl Receiver {
    /// A receiver waiting for the first message.
    pub fn new() -> Self {
        Receiver {
            session: None,
            next: 0,
            finished: false,
        }
    }

    /// The session it belongs to, once it has accepted a message.
    pub fn session(&self) -> Option<u32> {
        self.session
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
        let session = match self.session {
            Some(session) => session,
            None => {
                // The first message: its session and its (random) number start the
                // transfer.
                self.session = Some(message.session);
                self.next = message.seq;
                message.session
            }
        };
        if message.session != session {
            // Another transfer, or a stranger's guess: not ours, whoever sent it.
            return Step::default();
        }
        if seq_before(message.seq, self.next) {
            // Accepted before: our ACK was lost or is late. ACK again, deliver
            // nothing.
            return Step {
                reply: Some(Message::ack(session, message.seq)),
                ..Step::default()
            };
        }
        if message.seq != self.next || self.finished {
            // From the future: stop-and-wait never sends it before `next` is ACKed,
            // so it can only be stale or forged. Unacknowledged, it will be sent
            // again if it matters.
            return Step::default();
        }
        self.next = self.next.wrapping_add(1);
        let reply = Some(Message::ack(session, message.seq));
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

/// Runs a [`Receiver`] on `socket`: hands each payload, in order, to `deliver`, and
/// after END lingers until `linger` passes without a datagram, so that a
/// retransmitted END (its ACK was lost) is still answered. Returns how many payload
/// bytes were delivered. It waits for the first datagram as long as it takes:
/// [`run_receiver_with`] can give up, and can listen to one sender only.
///
/// Only the first peer that sends a valid message is heard, and only the session of
/// its first message; anything that does not decode is reported on stderr and
/// dropped. (Given: it uses your `decode`, `on_message` and `encode`.)
pub fn run_receiver(
    socket: &UdpSocket,
    linger: Duration,
    deliver: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<u64> {
    let listen = Listen {
        from: None,
        idle_timeout: None,
        linger,
    };
    run_receiver_with(socket, listen, deliver)
}

/// Whom [`run_receiver_with`] listens to, and how long it waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen {
    /// Hear only this sender. `None`: the first peer that sends a valid message,
    /// which may be a stranger who was quicker than the real sender.
    pub from: Option<SocketAddr>,
    /// Give up (a `TimedOut` error) when the sender sends nothing for this long
    /// before END. `None`: wait forever.
    pub idle_timeout: Option<Duration>,
    /// After END, stay until this passes without a datagram.
    pub linger: Duration,
}

// ANCHOR: run_receiver_with
/// [`run_receiver`], listening to `listen.from` only (when given) and giving up after
/// `listen.idle_timeout` without a datagram from the sender before END. What was
/// delivered before giving up stays delivered. (Given.)
pub fn run_receiver_with(
    socket: &UdpSocket,
    listen: Listen,
    mut deliver: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<u64> {
    let mut receiver = Receiver::new();
    let mut sender: Option<SocketAddr> = listen.from;
    let mut delivered = 0u64;
    let mut strangers = 0u64;
    let mut other_sessions = 0u64;
    let mut last_heard = Instant::now();
    let mut buf = vec![0u8; 65_536];
    loop {
        if receiver.is_finished() {
            socket.set_read_timeout(Some(listen.linger))?;
        } else if let Some(idle) = listen.idle_timeout {
            let left = idle.saturating_sub(last_heard.elapsed());
            if left.is_zero() {
                let who = sender.map_or("any sender".to_string(), |s| s.to_string());
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "no datagram from {who} for {} s before END; giving up after \
                         {delivered} bytes delivered",
                        idle.as_secs_f64()
                    ),
                ));
            }
            socket.set_read_timeout(Some(left))?;
        }
        let (len, from) = match socket.recv_from(&mut buf) {
            Ok(received) => received,
            // After END, silence for `linger` means the sender has its ACK: we are
            // done.
            Err(e) if is_timeout(&e) && receiver.is_finished() => {
                return Ok(delivered);
            }
            // Before END, look at the idle limit again; an ICMP error (Windows)
            // concerns a past peer.
            Err(e)
                if is_timeout(&e) || e.kind() == io::ErrorKind::ConnectionReset =>
            {
                continue;
            }
            Err(e) => return Err(e),
        };
        if let Some(ours) = sender.filter(|s| *s != from) {
            // Not our sender. Said once only: a flood of strangers must not flood
            // stderr.
            strangers += 1;
            if strangers == 1 {
                eprintln!(
                    "ignored {len} bytes from {from}: not the sender ({ours}); further \
                     strangers are not reported"
                );
            }
            continue;
        }
        let message = match Message::decode(&buf[..len]) {
            Ok(message) => message,
            Err(e) => {
                eprintln!("ignored {len} bytes from {from}: {e}");
                continue;
            }
        };
        if let Some(ours) = receiver.session().filter(|s| *s != message.session) {
            // From the right address, but not our transfer: a forgery or a stale
            // sender. It proves nothing and gets no answer (said once).
            other_sessions += 1;
            if other_sessions == 1 {
                eprintln!(
                    "ignored a message of session {:08x} from {from}: not the session \
                     ({ours:08x}); further ones are not reported",
                    message.session
                );
            }
            continue;
        }
        if message.kind == Kind::Ack {
            continue; // ACKs go to senders; they do not choose our sender
        }
        sender.get_or_insert(from);
        last_heard = Instant::now();
        let step = receiver.on_message(message);
        if let Some(reply) = step.reply {
            // A lost ACK is the protocol's business; a failed send is just another
            // loss.
            let _ = socket.send_to(&reply.encode(), from);
        }
        if let Some(payload) = step.deliver {
            deliver(&payload)?;
            delivered += payload.len() as u64;
        }
    }
}
// ANCHOR_END: run_receiver_with

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
