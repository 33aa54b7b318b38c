//! Exercise 6.7: the window sender's loop, with a timer per message.
//!
//! Scenario: stop-and-wait leaves the link idle while it waits; with 30 % loss it
//! spends most of its time waiting for timeouts, one at a time. Goal: keep up to
//! `window` messages in flight, each with its own timer; on an ACK, send what the
//! window now allows; resend at once what the ACKs show lost (`SendWindow::lost`,
//! which asks your `judge` of exercise 6.8). A timer that runs out is for what no
//! ACK can report (the tail of the transfer, or every ACK lost): resend that message
//! (and the next one due) as a probe, and let the other timers wait for what its ACK
//! tells.
//! The timeout backs off only when a probe got no ACK of anything new during its
//! whole timeout: under random loss, some timer runs out all the time while ACKs keep
//! coming, and doubling on each of them would slow everything down. An ACK of nothing
//! new does not count: it may only answer a copy we sent too early. The tests run it
//! through the lossy relay with scripted losses (the first and the last of a window,
//! a burst as long as the window, ACKs), reordering and duplicates, against the
//! reference receiver, and count how many times each message was sent; they check
//! that a reported gap is resent long before its timer; then they forge ACKs from
//! the receiver's address and check that none of them counts.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Instant;

use super::{
    MAX_PAYLOAD, Packet, Report, RetransmitTimer, RoundTrip, SendError, SendWindow,
    Session, WINDOW_HEADER_LEN, Waiter, write_data,
};

/// How many datagrams a probe sends when a timer runs out.
const PROBES: u32 = 2;

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
    // The round trip the loss detector judges by (exercise 6.8).
    let mut rtt = RoundTrip::default();
    // Whether a probe went out since the last ACK of something new.
    let mut probing = false;
    while !state.is_done() {
        let now = Instant::now();
        // Gaps the receiver reports (later messages arrived): resend them at once.
        while let Some(seq) = state.lost(now, rtt.get()) {
            resend(&mut waiter, &state, session, payloads, seq, tries, &mut out)?;
            state.on_sent(seq, now, timer.timeout());
        }
        // New messages, as many as the windows allow.
        while let Some(seq) = state.next_new() {
            transmit(&mut waiter, session, payloads, seq, &mut out)?;
            state.on_sent(seq, now, timer.timeout());
        }
        // A timer that ran out with no report: the tail of the transfer, or every
        // ACK lost. Resend the oldest such message, and the next one if its timer
        // ran out too, as a probe (two datagrams, as in QUIC, so that one loss does
        // not fail it); their ACKs will say what else is missing, so the other
        // timers wait for them. The first probe after an ACK of something new is a
        // tail loss probe (RFC 8985): no back-off, since random loss, not a slow
        // network, is the likely cause. Only a probe that goes unanswered for its
        // whole timeout backs the timer off.
        let mut probes = 0;
        while let Some(seq) = state.due(now).filter(|_| probes < PROBES) {
            let sent = state.slot(seq).and_then(|s| s.sent_at);
            if probing && sent.is_some_and(|s| last_heard <= s) {
                // Its whole timeout passed without an ACK of anything new: back
                // off (once for this silence).
                timer.on_timeout();
                last_heard = now;
            }
            resend(&mut waiter, &state, session, payloads, seq, tries, &mut out)?;
            state.on_sent(seq, now, timer.timeout());
            probes += 1;
        }
        if probes > 0 {
            probing = true;
            state.postpone(now + timer.timeout());
        }
        // Wait for an ACK until the first timer runs out, or the next message
        // counts as lost.
        let deadline = [state.next_deadline(), state.next_loss_time(now, rtt.get())]
            .into_iter()
            .flatten()
            .min();
        let Some(deadline) = deadline else {
            continue;
        };
        let len = match waiter.recv_until(&mut buf, deadline) {
            Ok(Some(len)) => len,
            Ok(None) => continue,
            Err(e) => return Err(gone(e, state.base())),
        };
        // Anything but an ACK (garbage, a late duplicate of nothing) is skipped;
        // `take_ack` (given: your `on_ack`, then the evidence for `lost`) ignores
        // (and counts) an ACK of another session or of nothing sent.
        if let Ok(Packet::Ack(ack)) = Packet::decode(&buf[..len]) {
            let now = Instant::now();
            let progress = state.take_ack(&ack, now);
            if progress.newly_acked > 0 {
                last_heard = now;
                probing = false;
                timer.on_ack(progress.rtt);
                if let Some(sample) = progress.rtt {
                    rtt.on_sample(sample);
                }
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

/// Sends message `seq` again, unless it was sent `tries` times already (then the
/// transfer gives up).
fn resend(
    waiter: &mut Waiter,
    state: &SendWindow,
    session: Session,
    payloads: &[Vec<u8>],
    seq: u32,
    tries: u32,
    out: &mut Vec<u8>,
) -> Result<(), SendError> {
    if state.slot(seq).is_some_and(|s| s.transmissions >= tries) {
        return Err(SendError::GaveUp { seq, tries });
    }
    transmit(waiter, session, payloads, seq, out)
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
