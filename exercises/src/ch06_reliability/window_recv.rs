//! Exercise 6.6: the receive window.
//!
//! Scenario: with a window, messages 5, 6 and 7 may arrive while 4 is still missing
//! (lost, or overtaken). Throwing them away, as stop-and-wait's receiver does, would
//! force the sender to send them again. Goal: [`RecvWindow`] keeps the early ones
//! (only within its window, so a peer cannot make it hold more), delivers every
//! payload exactly once and in order as soon as the gap is filled, and builds the ACK
//! that says all of it: everything before N arrived, these later ones arrived too,
//! and this is my window. It belongs to one session, and ignores packets of any other
//! (a stranger who sends DATA or END from the sender's address does not know the
//! session's random id). Numbers wrap past `u32::MAX`: compare them with `seq_before`
//! and `seq_offset`, never with `<` or `-`. The tests feed it packets by hand (in
//! order, out of order, duplicates, beyond the window, END early, another session,
//! numbers that wrap) and compare what it delivers and the ACK it builds.

use std::collections::BTreeMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::{
    Ack, Listen, MAX_WINDOW, Packet, Session, Waiter, seq_before, seq_offset,
};

// ANCHOR: window
/// The receiver's side of the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecvWindow {
    /// The session it belongs to: packets of any other are ignored.
    session: u32,
    /// The next message to deliver: everything before it was delivered (or was END).
    next: u32,
    /// We accept messages `next .. next + window`.
    window: u16,
    /// Messages that arrived early, by number: a payload, or `None` for END.
    early: BTreeMap<u32, Option<Vec<u8>>>,
    /// END's number, once END arrived.
    end: Option<u32>,
}

impl RecvWindow {
    /// A receiver for `session` (its id, and the number of its first message) that
    /// accepts `window` messages (1..=[`MAX_WINDOW`]) from the next one on.
    pub fn new(session: Session, window: u16) -> Self {
        RecvWindow {
            session: session.id,
            next: session.first_seq,
            window: window.clamp(1, MAX_WINDOW),
            early: BTreeMap::new(),
            end: None,
        }
    }

    /// The next message to deliver.
    pub fn next(&self) -> u32 {
        self.next
    }

    /// The session it belongs to.
    pub fn session(&self) -> u32 {
        self.session
    }

    /// How many messages wait for an earlier one.
    pub fn buffered(&self) -> usize {
        self.early.len()
    }

    /// Whether END was reached: every message before it was delivered.
    pub fn is_finished(&self) -> bool {
        self.end.is_some_and(|end| seq_before(end, self.next))
    }
    // ANCHOR_END: window

    // ANCHOR: on_packet
    /// Takes in one packet; returns the payloads that can now be delivered, in order
    /// (none, or several when this packet fills a gap). Packets of another session,
    /// duplicates, packets outside the window and anything after END are dropped;
    /// ACKs are not for us.
    pub fn on_packet(&mut self, packet: Packet) -> Vec<Vec<u8>> {
        // TODO: take DATA and END (END is a message without a payload); drop another
        // session, what is outside `next .. next + window` (`seq_offset`), after
        // END (`seq_before`), or a second END; keep the rest in `early`, then deliver
        // from `early` while it holds `next` (`wrapping_add`; END: stop, finished).
        todo!()
    }
    // ANCHOR_END: on_packet

    // ANCHOR: ack
    /// The ACK of everything so far: cumulative up to `next`, a bit for every message
    /// waiting in the buffer, and our window.
    pub fn ack(&self) -> Ack {
        // TODO: `Ack::new(session, next, window)`, then `mark` every message waiting
        // in `early`.
        todo!()
    }
    // ANCHOR_END: ack
}

/// The most datagrams handled before an ACK goes out, even if more are waiting.
const ACK_EVERY: u32 = 16;

/// Runs a [`RecvWindow`] on `socket`: hands each payload, in order, to `deliver`;
/// after END, lingers until `listen.linger` passes without a datagram, answering a
/// resent END. Returns how many payload bytes were delivered. (Given: it uses your
/// `on_packet` and `ack`.)
///
/// It ACKs a batch, not every datagram: it handles what is waiting in the socket (up
/// to 16 datagrams), then sends one ACK that covers all of them. It hears
/// `listen.from` only (when given; else the first peer that sends a valid packet),
/// and only the session of the first DATA or END it accepts: the sender sends
/// nothing else before that first message is acknowledged, so its number is the
/// session's first. It gives up with a `TimedOut` error when that sender is silent
/// for `listen.idle_timeout` before END. Anything that does not decode, and every
/// packet of another session, is reported on stderr (once) and dropped.
pub fn run_window_receiver(
    socket: &UdpSocket,
    window: u16,
    listen: Listen,
    mut deliver: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<u64> {
    // No session before the first DATA or END: that packet starts it.
    let mut state: Option<RecvWindow> = None;
    let mut waiter = Waiter::new(socket)?; // precise waits (given/src/wait.rs)
    let mut sender: Option<SocketAddr> = listen.from;
    let mut delivered = 0u64;
    let mut strangers = 0u64;
    let mut other_sessions = 0u64;
    let mut buf = vec![0u8; 65_536];
    let mut out = Vec::with_capacity(64);
    let mut owed = 0u32; // datagrams handled since the last ACK
    let mut last_heard = Instant::now();
    loop {
        let now = Instant::now();
        // An owed ACK goes out as soon as the socket is empty: look, but do not wait.
        let deadline = if owed > 0 {
            now
        } else if state.as_ref().is_some_and(RecvWindow::is_finished) {
            // After END, silence for `linger` means the sender has its ACK: we are
            // done.
            let until = last_heard + listen.linger;
            if until <= now {
                return Ok(delivered);
            }
            until
        } else if let Some(idle) = listen.idle_timeout {
            let until = last_heard + idle;
            if until <= now {
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
            until
        } else {
            now + Duration::from_secs(3600)
        };
        let (len, from) = match waiter.recv_from_until(&mut buf, deadline) {
            Ok(Some(received)) => received,
            Ok(None) => {
                if let (Some(peer), Some(state), true) = (sender, &state, owed > 0) {
                    send_ack(&mut waiter, state, peer, &mut out);
                    owed = 0;
                }
                continue;
            }
            // An ICMP error (Windows) concerns a past datagram, not this transfer.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => continue,
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
        let packet = match Packet::decode(&buf[..len]) {
            Ok(packet) => packet,
            Err(e) => {
                eprintln!("ignored {len} bytes from {from}: {e}");
                continue;
            }
        };
        let seq = match &packet {
            Packet::Ack(_) => continue, // ACKs go to senders
            Packet::Data { seq, .. } | Packet::End { seq, .. } => *seq,
        };
        let id = packet.session();
        let state = state.get_or_insert_with(|| {
            RecvWindow::new(Session { id, first_seq: seq }, window)
        });
        if id != state.session() {
            // From the right address, but not our transfer: a forgery or a stale
            // sender. It proves nothing and gets no answer (said once).
            other_sessions += 1;
            if other_sessions == 1 {
                eprintln!(
                    "ignored a packet of session {id:08x} from {from}: not the session \
                     ({:08x}); further ones are not reported",
                    state.session()
                );
            }
            continue;
        }
        sender.get_or_insert(from);
        last_heard = Instant::now();
        for payload in state.on_packet(packet) {
            deliver(&payload)?;
            delivered += payload.len() as u64;
        }
        owed += 1;
        if owed >= ACK_EVERY {
            send_ack(&mut waiter, state, from, &mut out);
            owed = 0;
        }
    }
}

fn send_ack(
    waiter: &mut Waiter,
    state: &RecvWindow,
    peer: SocketAddr,
    out: &mut Vec<u8>,
) {
    out.clear();
    Packet::Ack(state.ack()).encode_into(out);
    // A lost ACK is the protocol's business; a failed send is just another loss.
    let _ = waiter.send_to(out, peer);
}
