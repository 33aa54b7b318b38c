//! Exercise 6.4: a retransmission timeout that learns (RFC 6298).
//!
//! Scenario: a fixed wait is too long on a fast network (every loss costs a full
//! second on a link whose round trip takes 0.1 ms) and too short on a slow one (the
//! sender resends messages that were not lost). Goal: estimate the round-trip time
//! from measurements and wait a little longer than it usually takes, backing off when
//! ACKs stop coming. The tests follow RFC 6298 step by step with a table of samples
//! and timeouts, check the clamps, then check that the sender learns a slow link's
//! round trip through the relay.

use std::time::Duration;

use super::RetransmitTimer;

/// Limits of the timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtoConfig {
    /// The timeout before any round trip was measured.
    pub initial: Duration,
    /// Never wait less than this.
    pub min: Duration,
    /// Never wait more than this, however often the timeout backs off.
    pub max: Duration,
}

impl RtoConfig {
    /// Defaults for this machine's loopback: see the book for why not RFC 6298's 1 s
    /// minimum.
    pub const LOOPBACK: RtoConfig = RtoConfig {
        initial: Duration::from_millis(100),
        min: Duration::from_millis(10),
        max: Duration::from_millis(500),
    };
}

// ANCHOR: rto
/// The smoothed round-trip time (SRTT), its variation (RTTVAR) and the timeout (RTO).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rto {
    config: RtoConfig,
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
}

impl Rto {
    /// No measurement yet: the timeout is `config.initial` (within min and max).
    pub fn new(config: RtoConfig) -> Self {
        Rto {
            config,
            srtt: None,
            rttvar: Duration::ZERO,
            rto: config.initial.clamp(config.min, config.max),
        }
    }

    /// The smoothed round-trip time, once there is a measurement.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// The round-trip time variation.
    pub fn rttvar(&self) -> Duration {
        self.rttvar
    }
}
// ANCHOR_END: rto

// ANCHOR: timer
impl RetransmitTimer for Rto {
    fn timeout(&self) -> Duration {
        self.rto
    }

    fn on_ack(&mut self, rtt: Option<Duration>) {
        // TODO: with a sample, update SRTT and RTTVAR (RFC 6298 2.2 for the first,
        // 2.3 after); then, sample or not, set the timeout to SRTT + 4 RTTVAR (or
        // `initial` before any sample), within the configured min and max.
        todo!()
    }

    fn on_timeout(&mut self) {
        // TODO: double the timeout, but not beyond the configured max.
        todo!()
    }
}
// ANCHOR_END: timer
