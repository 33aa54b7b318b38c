//! Exercise 6.5: the send window's bookkeeping.
//!
//! Scenario: a sender with a window keeps many messages in flight at once. For each
//! one it must know whether it was sent, when, how often, whether it was
//! acknowledged, and when its timer runs out. Goal: [`SendWindow`], which answers
//! "may I send a new message?", takes in ACKs (cumulative and selective) and says
//! which message is due for a retransmission. No socket and no clock: the time is
//! passed in, so the tests can play whole scenarios in a table.

use std::time::{Duration, Instant};

use super::{Ack, FIRST_SEQ};

/// What the sender knows about one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Slot {
    /// How many times it was sent (0: not yet).
    pub transmissions: u32,
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
/// The sender's view of every message: DATA 1, 2, ... and END last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendWindow {
    /// One slot per message; message `seq` is at index `seq - FIRST_SEQ`.
    slots: Vec<Slot>,
    /// The oldest message not yet acknowledged (after the last one: all done).
    base: u32,
    /// The next message never sent.
    next: u32,
    /// How many messages from `base` on we may have in flight: ours.
    window: u32,
    /// ... and the receiver's, from its last ACK (1 until it has spoken).
    peer_window: u32,
}

impl SendWindow {
    /// Bookkeeping for `messages` messages (DATA and END) with a window of `window`
    /// (at least 1).
    pub fn new(messages: usize, window: u16) -> Self {
        SendWindow {
            slots: vec![Slot::default(); messages],
            base: FIRST_SEQ,
            next: FIRST_SEQ,
            window: u32::from(window.max(1)),
            peer_window: 1,
        }
    }

    /// The number after the last message.
    pub fn end(&self) -> u32 {
        FIRST_SEQ + self.slots.len() as u32
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
        self.slots.get(seq.checked_sub(FIRST_SEQ)? as usize)
    }

    /// How many times each message was sent, in order.
    pub fn transmissions(&self) -> Vec<u32> {
        self.slots.iter().map(|s| s.transmissions).collect()
    }

    /// Records that message `seq` was sent at `now`; its timer runs out after
    /// `timeout`.
    pub fn on_sent(&mut self, seq: u32, now: Instant, timeout: Duration) {
        let index = seq.wrapping_sub(FIRST_SEQ) as usize;
        let Some(slot) = self.slots.get_mut(index) else {
            return;
        };
        slot.transmissions += 1;
        slot.sent_at = Some(now);
        slot.deadline = Some(now + timeout);
        if seq == self.next {
            self.next += 1;
        }
    }

    /// When the first timer of a message in flight runs out, if any is in flight.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.in_flight().filter_map(|s| s.deadline).min()
    }

    fn in_flight(&self) -> impl Iterator<Item = &Slot> {
        let first = (self.base - FIRST_SEQ) as usize;
        let end = (self.next - FIRST_SEQ) as usize;
        self.slots[first..end].iter().filter(|s| !s.acked)
    }
    // ANCHOR_END: window

    // ANCHOR: next_new
    /// The next message never sent, if both windows leave room for it: it must come
    /// before `base + window` and before `base + peer_window`.
    pub fn next_new(&self) -> Option<u32> {
        // TODO: `self.next`, if it is a message (before `self.end()`) and comes
        // before `self.base` plus the smaller of the two windows; otherwise None.
        todo!()
    }
    // ANCHOR_END: next_new

    // ANCHOR: on_ack
    /// Takes in an ACK received at `now`: marks every message in flight that it
    /// acknowledges, moves `base` past the acknowledged ones, and remembers the
    /// receiver's window.
    pub fn on_ack(&mut self, ack: &Ack, now: Instant) -> Progress {
        // TODO: remember `ack.window`; for each message from `base` to `next` that is
        // not yet acked and that `ack.acknowledges`, mark it (clear its deadline) and
        // count it, noting the latest `sent_at` of those sent once; then move `base`
        // past the acked messages.
        todo!()
    }
    // ANCHOR_END: on_ack

    // ANCHOR: due
    /// The oldest message in flight, not acknowledged, whose timer has run out at
    /// `now`.
    pub fn due(&self, now: Instant) -> Option<u32> {
        // TODO: the first message from `base` to `next`, not acked, whose deadline is
        // <= now.
        todo!()
    }
    // ANCHOR_END: due
}
