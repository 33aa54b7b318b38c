//! Exercise 6.8: losses the receiver reports.
//!
//! Scenario: at 30 % loss, about one message in three is lost, and the receiver says
//! so at once: its ACKs list the messages that came after the gap. A sender that
//! waits for each lost message's timer anyway spends its time waiting. Goal: [`judge`]
//! decides, from what the ACKs showed, whether a message still unacknowledged is
//! lost: when a message sent at least [`PACKET_THRESHOLD`] sendings after it was
//! acknowledged, or when one sent after it was acknowledged and [`loss_delay`] has
//! passed since it was sent (the thresholds of QUIC, RFC 9002, section 6.1). Without
//! such evidence only its timer can tell (the tail of a transfer). Your sender of
//! exercise 6.7 already asks (through `SendWindow::lost`); until this is written, the
//! answer is always "no evidence", and every loss waits for its timer. The tests play
//! a table of slots, acknowledgements and times, then check that the sender resends a
//! reported gap long before its timer.

use std::time::{Duration, Instant};

use super::Slot;

/// A message is lost once a message sent this many sendings after it was
/// acknowledged: a network may reorder a little, but hardly by three.
pub const PACKET_THRESHOLD: u64 = 3;

/// The shortest wait the sender's timer can keep (given/src/wait.rs: whole
/// milliseconds, rounded up).
pub const GRANULARITY: Duration = Duration::from_millis(1);

/// How long after it was sent a message counts as lost once a message sent after it
/// was acknowledged: 9/8 of the round trip (a little reordering may delay it that
/// much), and never less than [`GRANULARITY`].
pub fn loss_delay(rtt: Duration) -> Duration {
    (rtt * 9 / 8).max(GRANULARITY)
}

// ANCHOR: verdict
/// What the ACKs so far say about one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Acknowledged, never sent, or nothing sent after it was acknowledged: no
    /// evidence (only its timer can tell).
    NoEvidence,
    /// Lost: send it again now.
    Lost,
    /// Lost at this time, unless its ACK comes first (the time threshold).
    LostAt(Instant),
}

/// Whether the message in `slot` is lost at `now`, given `newest_acked`: the
/// largest [`Slot::order`] among the acknowledged messages (0: none yet), and the
/// round trip `rtt`.
pub fn judge(slot: &Slot, newest_acked: u64, now: Instant, rtt: Duration) -> Verdict {
    // TODO: no evidence for a message acknowledged or never sent (`sent_at` is None),
    // nor when no later sending was acknowledged (`slot.order >= newest_acked`); lost
    // when `newest_acked` is at least PACKET_THRESHOLD sendings later; otherwise lost
    // once `loss_delay(rtt)` has passed since `sent_at`, and until then `LostAt` that
    // time. (Until then: no evidence, ever, so every loss waits for its timer. This
    // stub answers instead of panicking: your sender of exercise 6.7 already asks it,
    // and must work before you write this one.)
    Verdict::NoEvidence
}
// ANCHOR_END: verdict

/// The round trip the time threshold uses: the larger of the latest sample and a
/// smoothed one (QUIC's `max(smoothed_rtt, latest_rtt)`), so that one quick sample
/// does not make the sender hasty. (Given.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundTrip {
    latest: Duration,
    smoothed: Option<Duration>,
}

impl RoundTrip {
    /// Takes in a sample (from [`super::Progress::rtt`]).
    pub fn on_sample(&mut self, rtt: Duration) {
        self.latest = rtt;
        self.smoothed = Some(match self.smoothed {
            Some(s) => s * 7 / 8 + rtt / 8,
            None => rtt,
        });
    }

    /// The round trip to judge by: zero before any sample.
    pub fn get(&self) -> Duration {
        self.latest.max(self.smoothed.unwrap_or_default())
    }
}
