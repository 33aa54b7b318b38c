//! Exercise 6.7: the window sender's loop, with a timer per message.
//!
//! Scenario: stop-and-wait leaves the link idle while it waits; with 30 % loss it
//! spends most of its time waiting for timeouts, one at a time. Goal: keep up to
//! `window` messages in flight, each with its own timer; on an ACK, send what the
//! window now allows; when a timer runs out, send that message again (only that one).
//! The timeout backs off only when no ACK of anything new came during that message's
//! whole timeout: under random loss, some timer runs out all the time while ACKs keep
//! coming, and doubling on each of them would slow everything down. An ACK of nothing
//! new does not count: it may only answer a copy we sent too early. The tests run it
//! through the lossy relay with scripted losses (the first and the last of a window,
//! a burst as long as the window, ACKs), reordering and duplicates, against the
//! reference receiver, and count how many times each message was sent; then they
//! forge ACKs from the receiver's address and check that none of them counts.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Instant;

use super::{
    MAX_PAYLOAD, Packet, Report, RetransmitTimer, SendError, SendWindow, Session,
    WINDOW_HEADER_LEN, Waiter, write_data,
};

// ANCHOR: send_window
/// Sends every payload, then END, as `session`, keeping up to `window` messages in
/// flight; each message is sent at most `tries` times.
pub fn send_window(
    socket: &UdpSocket,
    peer: SocketAddr,
    session: Session,
    payloads: &[Vec<u8>],
    window: u16,
    timer: &mut impl RetransmitTimer,
    tries: u32,
) -> Result<Report, SendError> {
    let mut waiter = prepare(socket, peer, payloads)?;
    let mut state = SendWindow::new(session, payloads.len() + 1, window);
    let mut out = Vec::with_capacity(WINDOW_HEADER_LEN + MAX_PAYLOAD);
    let mut buf = [0u8; 128];
    // When the last ACK of something new came (or we last backed off): the back-off
    // rule's clock.
    let mut last_heard = Instant::now();
    while !state.is_done() {
        let now = Instant::now();
        // New messages, as many as the windows allow.
        while let Some(seq) = state.next_new() {
            transmit(&mut waiter, session, payloads, seq, &mut out)?;
            state.on_sent(seq, now, timer.timeout());
        }
        // Timers that ran out: resend those messages, oldest first.
        while let Some(seq) = state.due(now) {
            let Some(&slot) = state.slot(seq) else { break };
            if slot.transmissions >= tries {
                return Err(SendError::GaveUp { seq, tries });
            }
            if slot.sent_at.is_some_and(|sent| last_heard <= sent) {
                // Its whole timeout passed without an ACK of anything new: back
                // off (once for this silence).
                timer.on_timeout();
                last_heard = now;
            }
            transmit(&mut waiter, session, payloads, seq, &mut out)?;
            state.on_sent(seq, now, timer.timeout());
        }
        // Wait for an ACK until the first timer runs out.
        let Some(deadline) = state.next_deadline() else {
            continue;
        };
        let len = match waiter.recv_until(&mut buf, deadline) {
            Ok(Some(len)) => len,
            Ok(None) => continue,
            Err(e) => return Err(gone(e, state.base())),
        };
        // Anything but an ACK (garbage, a late duplicate of nothing) is skipped;
        // `on_ack` ignores (and counts) an ACK of another session or of nothing sent.
        if let Ok(Packet::Ack(ack)) = Packet::decode(&buf[..len]) {
            let now = Instant::now();
            let progress = state.on_ack(&ack, now);
            if progress.newly_acked > 0 {
                last_heard = now;
                timer.on_ack(progress.rtt);
            }
        }
    }
    Ok(Report {
        transmissions: state.transmissions(),
        ignored_acks: state.ignored(),
    })
}
// ANCHOR_END: send_window

/// Checks every payload's length (nothing is sent if one is too long), connects to
/// `peer`, and prepares the precise waits of `Waiter` (see given/src/wait.rs).
fn prepare(
    socket: &UdpSocket,
    peer: SocketAddr,
    payloads: &[Vec<u8>],
) -> Result<Waiter, SendError> {
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
    Ok(Waiter::new(socket)?)
}

/// Sends message `seq` of `session`: DATA with its payload, or END after the last
/// one.
fn transmit(
    waiter: &mut Waiter,
    session: Session,
    payloads: &[Vec<u8>],
    seq: u32,
    out: &mut Vec<u8>,
) -> Result<(), SendError> {
    out.clear();
    let id = session.id;
    match payloads.get(super::seq_offset(session.first_seq, seq) as usize) {
        Some(payload) => write_data(id, seq, payload, out),
        None => Packet::End { session: id, seq }.encode_into(out),
    }
    waiter.send(out).map(drop).map_err(|e| gone(e, seq))
}

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
