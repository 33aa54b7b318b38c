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
    // TODO: `prepare` (given), then `SendWindow::new(session, ...)`; loop until
    // every message is acked: resend (`resend`, given) what `lost` reports (with the
    // round trip of a `RoundTrip`); send new messages (`transmit`) while `next_new`
    // allows; resend up to PROBES messages that are `due`, as a probe, then
    // `postpone` the other timers (back off only for a probe sent after an earlier
    // probe, with no ACK of anything new since); wait for an ACK with the waiter
    // until `next_deadline` or `next_loss_time`, whichever comes first; give it to
    // `take_ack` (given: it calls your `on_ack`), the timer and the `RoundTrip`. The
    // Report counts the ignored ACKs too (`ignored`).
    todo!()
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
