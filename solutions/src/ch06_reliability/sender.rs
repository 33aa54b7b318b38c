//! Exercise 6.3: the stop-and-wait sender.
//!
//! Scenario: article C asks for "resend until the server ACKs, a bounded number of
//! times" but only resends when `sendto` raises, which it never does for a lost
//! datagram. Goal: send one message at a time and wait for *its* ACK (its session and
//! its number: an ACK anyone could forge must not count); resend when the timeout
//! passes; give up after `tries` with an error that says which message; end with END,
//! itself acknowledged. The session (a random id and a random first number) is passed
//! in, so the tests can start just before `u32::MAX` and watch the numbers wrap. The tests run it through the lossy relay with
//! scripted losses and duplicates of DATA, ACK and END, check how many times each
//! message was sent, and point it at a peer that is gone.

use std::fmt;
use std::io;
use std::iter;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::{Kind, MAX_PAYLOAD, Message, Session, Waiter};

/// Decides how long the sender waits for an ACK, and learns from what happens.
pub trait RetransmitTimer {
    /// How long to wait for the ACK of a message sent now.
    fn timeout(&self) -> Duration;
    /// The ACK came. `rtt` is how long after sending, for a message sent once; `None`
    /// after a retransmission (Karn's rule: nobody knows which copy the ACK answers).
    fn on_ack(&mut self, rtt: Option<Duration>);
    /// No ACK came in time.
    fn on_timeout(&mut self);
}

/// The articles' habit: always wait the same time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedTimer(pub Duration);

impl RetransmitTimer for FixedTimer {
    fn timeout(&self) -> Duration {
        self.0
    }
    fn on_ack(&mut self, _rtt: Option<Duration>) {}
    fn on_timeout(&mut self) {}
}

/// What a successful transfer took.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// How many times each message was sent: one entry per DATA, then one for END.
    pub transmissions: Vec<u32>,
    /// How many ACKs were ignored because they were of another session or
    /// acknowledged messages never sent (counted by the window sender).
    pub ignored_acks: u32,
}

// ANCHOR: error
/// Why the transfer stopped.
#[derive(Debug)]
pub enum SendError {
    /// Message `seq` was sent `tries` times and never acknowledged.
    GaveUp { seq: u32, tries: u32 },
    /// The OS reported that nothing listens at the peer's address (ICMP port
    /// unreachable).
    PeerGone { seq: u32 },
    /// Payload number `index` is longer than [`MAX_PAYLOAD`]; nothing was sent.
    TooLong { index: usize, len: usize },
    /// Any other socket failure.
    Io(io::Error),
}
// ANCHOR_END: error

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::GaveUp { seq, tries } => {
                write!(
                    f,
                    "message {seq} was sent {tries} times and never acknowledged; giving up"
                )
            }
            SendError::PeerGone { seq } => write!(
                f,
                "nothing is listening at the peer's address (at message {seq})"
            ),
            SendError::TooLong { index, len } => {
                write!(
                    f,
                    "payload {index} has {len} bytes, more than {MAX_PAYLOAD}"
                )
            }
            SendError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SendError {}

impl From<io::Error> for SendError {
    fn from(e: io::Error) -> Self {
        SendError::Io(e)
    }
}

// ANCHOR: wait_for_ack
/// Step 6.3a: waits until the instant `by` for the ACK of message `seq` of `session`.
/// Anything else (a late ACK of an earlier message, an ACK of another session, a
/// duplicate, garbage) is skipped. `Ok(false)`: the deadline passed.
pub fn wait_for_ack(
    waiter: &mut Waiter,
    session: u32,
    seq: u32,
    by: Instant,
) -> io::Result<bool> {
    let mut buf = [0u8; 64];
    while let Some(len) = waiter.recv_until(&mut buf, by)? {
        if let Ok(ack) = Message::decode(&buf[..len])
            && ack.kind == Kind::Ack
            && ack.session == session
            && ack.seq == seq
        {
            return Ok(true);
        }
    }
    Ok(false) // the deadline passed
}
// ANCHOR_END: wait_for_ack

// ANCHOR: send_one
/// Step 6.3b: sends `message` until its ACK comes, at most `tries` times, telling the
/// timer what happened; returns how many times it was sent.
pub fn send_one(
    waiter: &mut Waiter,
    message: &Message,
    timer: &mut impl RetransmitTimer,
    tries: u32,
) -> Result<u32, SendError> {
    let bytes = message.encode();
    for attempt in 1..=tries {
        waiter.send(&bytes).map_err(|e| gone(e, message.seq))?;
        let sent_at = Instant::now();
        let by = sent_at + timer.timeout();
        if wait_for_ack(waiter, message.session, message.seq, by)
            .map_err(|e| gone(e, message.seq))?
        {
            // Karn's rule: a round-trip sample only from a message sent once.
            timer.on_ack((attempt == 1).then(|| sent_at.elapsed()));
            return Ok(attempt);
        }
        timer.on_timeout();
    }
    Err(SendError::GaveUp {
        seq: message.seq,
        tries,
    })
}
// ANCHOR_END: send_one

// ANCHOR: send_all
/// Step 6.3c: sends every payload, in order, then END, each until acknowledged (at
/// most `tries` times), numbered from `session.first_seq` and marked with
/// `session.id`.
pub fn send_all(
    socket: &UdpSocket,
    peer: SocketAddr,
    session: Session,
    payloads: &[Vec<u8>],
    timer: &mut impl RetransmitTimer,
    tries: u32,
) -> Result<Report, SendError> {
    if let Some((index, p)) = payloads
        .iter()
        .enumerate()
        .find(|(_, p)| p.len() > MAX_PAYLOAD)
    {
        return Err(SendError::TooLong {
            index,
            len: p.len(),
        });
    }
    // Connected: only the peer's datagrams reach us, and ICMP errors are reported.
    socket.connect(peer)?;
    // The ACK wait needs a precise timer: `Waiter` (given/src/wait.rs) polls for
    // readiness.
    let mut waiter = Waiter::new(socket)?;
    let data = payloads
        .iter()
        .enumerate()
        .map(|(i, payload)| Message::data(session.id, session.seq(i), payload));
    let end = Message::end(session.id, session.seq(payloads.len()));
    let mut report = Report::default();
    for message in data.chain(iter::once(end)) {
        report
            .transmissions
            .push(send_one(&mut waiter, &message, timer, tries)?);
    }
    Ok(report)
}
// ANCHOR_END: send_all

/// ICMP "port unreachable" surfaces as ConnectionRefused (ConnectionReset on
/// Windows).
fn gone(e: io::Error, seq: u32) -> SendError {
    match e.kind() {
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset => {
            SendError::PeerGone { seq }
        }
        _ => SendError::Io(e),
    }
}
