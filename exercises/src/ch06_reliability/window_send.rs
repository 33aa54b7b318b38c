//! Exercise 6.5: the send window's bookkeeping.
//!
//! Scenario: a sender with a window keeps many messages in flight at once. For each
//! one it must know whether it was sent, when, how often, whether it was
//! acknowledged, and when its timer runs out. Goal: [`SendWindow`], which answers
//! "may I send a new message?", takes in ACKs (cumulative and selective) and says
//! which message is due for a retransmission. An ACK is believed only when it names
//! this transfer's session and acknowledges messages that were actually sent: anyone
//! can send an ACK from the receiver's address, so a forged one is ignored and
//! counted. Numbers start at the session's random first number and wrap, so they
//! are compared with `seq_before` and counted with `seq_offset`. No socket and no
//! clock: the time is passed in, so the tests can play whole scenarios in a table.

use std::time::{Duration, Instant};

use super::{Ack, Session, Verdict, judge, seq_before, seq_offset};

/// What the sender knows about one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Slot {
    /// How many times it was sent (0: not yet).
    pub transmissions: u32,
    /// Which sending of the whole transfer its last sending was: 1 for the first
    /// datagram sent, 2 for the next, ... (0: not sent yet). A later sending has a
    /// larger order, whatever the messages' numbers (exercise 6.8 judges by it).
    pub order: u64,
    /// When it was last sent.
    pub sent_at: Option<Instant>,
    /// When its timer runs out, while it waits for its ACK.
    pub deadline: Option<Instant>,
    /// Whether an ACK said it arrived.
    pub acked: bool,
}

/// What one ACK changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// How many messages this ACK acknowledged for the first time.
    pub newly_acked: u32,
    /// A round-trip sample: from the last sending of the most recently sent of those
    /// messages that were sent only once (Karn's rule), to `now`. `None` if there is
    /// none.
    pub rtt: Option<Duration>,
}

// ANCHOR: window
/// The sender's view of every message: DATA from the session's first number on, and
/// END last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendWindow {
    /// The transfer: its id and first sequence number.
    session: Session,
    /// One slot per message; message `seq` is at index
    /// `seq_offset(session.first_seq, seq)`.
    slots: Vec<Slot>,
    /// The oldest message not yet acknowledged (after the last one: all done).
    base: u32,
    /// The next message never sent.
    next: u32,
    /// How many messages from `base` on we may have in flight: ours.
    window: u32,
    /// ... and the receiver's, from its last ACK (1 until it has spoken).
    peer_window: u32,
    /// ACKs ignored: another session, or an acknowledgement of unsent messages.
    ignored: u32,
    /// How many datagrams were sent so far (new and again): the last `order`.
    sends: u64,
    /// The largest `order` known to have arrived: exercise 6.8's evidence.
    newest_acked: u64,
    /// The shortest round trip measured so far.
    min_rtt: Option<Duration>,
}

impl SendWindow {
    /// Bookkeeping for `messages` messages (DATA and END) of `session` with a window
    /// of `window` (at least 1).
    pub fn new(session: Session, messages: usize, window: u16) -> Self {
        SendWindow {
            session,
            slots: vec![Slot::default(); messages],
            base: session.first_seq,
            next: session.first_seq,
            window: u32::from(window.max(1)),
            peer_window: 1,
            ignored: 0,
            sends: 0,
            newest_acked: 0,
            min_rtt: None,
        }
    }

    /// The number after the last message.
    pub fn end(&self) -> u32 {
        self.session.seq(self.slots.len())
    }

    /// The next message never sent.
    pub fn next(&self) -> u32 {
        self.next
    }

    /// How many ACKs were ignored: of another session, or acknowledging messages
    /// never sent.
    pub fn ignored(&self) -> u32 {
        self.ignored
    }

    /// The oldest message not yet acknowledged.
    pub fn base(&self) -> u32 {
        self.base
    }

    /// Whether every message has been acknowledged.
    pub fn is_done(&self) -> bool {
        self.base == self.end()
    }

    /// What is known about message `seq`, if it exists.
    pub fn slot(&self, seq: u32) -> Option<&Slot> {
        self.slots.get(self.index(seq))
    }

    /// Where message `seq` is in `slots` (past the end for a number before the
    /// first).
    fn index(&self, seq: u32) -> usize {
        seq_offset(self.session.first_seq, seq) as usize
    }

    /// How many times each message was sent, in order.
    pub fn transmissions(&self) -> Vec<u32> {
        self.slots.iter().map(|s| s.transmissions).collect()
    }

    /// Records that message `seq` was sent at `now`; its timer runs out after
    /// `timeout`.
    pub fn on_sent(&mut self, seq: u32, now: Instant, timeout: Duration) {
        let index = self.index(seq);
        let Some(slot) = self.slots.get_mut(index) else {
            return;
        };
        self.sends += 1;
        slot.transmissions += 1;
        slot.order = self.sends;
        slot.sent_at = Some(now);
        slot.deadline = Some(now + timeout);
        if seq == self.next {
            self.next = self.next.wrapping_add(1);
        }
    }

    /// When the first timer of a message in flight runs out, if any is in flight.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.in_flight().filter_map(|s| s.deadline).min()
    }

    fn in_flight(&self) -> impl Iterator<Item = &Slot> {
        let (first, end) = (self.index(self.base), self.index(self.next));
        self.slots[first..end].iter().filter(|s| !s.acked)
    }
    // ANCHOR_END: window

    // ANCHOR: losses
    /// The oldest message in flight that the ACKs (taken in by
    /// [`take_ack`](Self::take_ack)) show lost at `now` (your [`judge`], exercise 6.8),
    /// with the round trip `rtt`.
    pub fn lost(&self, now: Instant, rtt: Duration) -> Option<u32> {
        let newest = self.newest_acked;
        let (first, end) = (self.index(self.base), self.index(self.next));
        (first..end)
            .find(|&i| judge(&self.slots[i], newest, now, rtt) == Verdict::Lost)
            .map(|i| self.session.seq(i))
    }

    /// When the next message in flight will count as lost by the time threshold
    /// (unless its ACK comes first), if one will.
    pub fn next_loss_time(&self, now: Instant, rtt: Duration) -> Option<Instant> {
        let newest = self.newest_acked;
        self.in_flight()
            .filter_map(|slot| match judge(slot, newest, now, rtt) {
                Verdict::LostAt(at) => Some(at),
                _ => None,
            })
            .min()
    }

    /// Moves every timer in flight to `until` at the earliest: after a probe, the
    /// others wait for what its ACK will tell.
    pub fn postpone(&mut self, until: Instant) {
        let (first, end) = (self.index(self.base), self.index(self.next));
        for slot in self.slots[first..end].iter_mut().filter(|s| !s.acked) {
            slot.deadline = slot.deadline.map(|d| d.max(until));
        }
    }

    /// Takes in an ACK with your [`on_ack`](Self::on_ack), then notes the newest
    /// sending it proves arrived, for [`lost`](Self::lost). The ACK of a message sent
    /// more than once does not say which sending arrived: if it came sooner than the
    /// shortest round trip after the last sending, it answers an earlier one (a copy
    /// sent too early), and proves nothing about the last one's order (RFC 8985, 6.2).
    pub fn take_ack(&mut self, ack: &Ack, now: Instant) -> Progress {
        let (first, end) = (self.index(self.base), self.index(self.next));
        let before: Vec<bool> =
            self.slots[first..end].iter().map(|s| s.acked).collect();
        let progress = self.on_ack(ack, now);
        if let Some(rtt) = progress.rtt {
            self.min_rtt = Some(self.min_rtt.map_or(rtt, |m| m.min(rtt)));
        }
        for (slot, was) in self.slots[first..end].iter().zip(before) {
            let answers_the_last = slot.transmissions == 1
                || slot.sent_at.zip(self.min_rtt).is_some_and(|(sent, min)| {
                    now.saturating_duration_since(sent) >= min
                });
            if slot.acked && !was && answers_the_last {
                self.newest_acked = self.newest_acked.max(slot.order);
            }
        }
        progress
    }
    // ANCHOR_END: losses

    // ANCHOR: next_new
    /// The next message never sent, if both windows leave room for it: fewer than
    /// `window` and fewer than `peer_window` messages from `base` on are out.
    pub fn next_new(&self) -> Option<u32> {
        // TODO: `self.next`, if it is a message (not `self.end()`) and fewer than the
        // smaller of the two windows are out from `self.base` (`seq_offset`);
        // otherwise None.
        todo!()
    }
    // ANCHOR_END: next_new

    // ANCHOR: on_ack
    /// Takes in an ACK received at `now`: ignores it (and counts it) if it is of
    /// another session or acknowledges a message never sent; otherwise marks every
    /// message in flight that it acknowledges, moves `base` past the acknowledged
    /// ones, and remembers the receiver's window.
    pub fn on_ack(&mut self, ack: &Ack, now: Instant) -> Progress {
        // TODO: ignore (count in `ignored`, return no progress) an ACK of another
        // session or whose cumulative comes after `next` (`seq_before`); else
        // remember `ack.window`; for each message from `base` to `next`
        // (`self.index` gives its slot) that is not yet acked and that
        // `ack.acknowledges`, mark it (clear its deadline) and count it, noting the
        // latest `sent_at` of those sent once; then move `base` past the acked
        // messages (`wrapping_add`).
        todo!()
    }
    // ANCHOR_END: on_ack

    // ANCHOR: due
    /// The oldest message in flight, not acknowledged, whose timer has run out at
    /// `now`.
    pub fn due(&self, now: Instant) -> Option<u32> {
        // TODO: the first message from `base` to `next`, not acked, whose deadline is
        // <= now (slots `self.index(base)..self.index(next)`; `session.seq(i)` is the
        // number of slot i).
        todo!()
    }
    // ANCHOR_END: due
}
