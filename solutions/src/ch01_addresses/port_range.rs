//! Exercise 1.1: which range does a port number belong to?
//!
//! Scenario: article D picks port 50000 "because it is free to use". Which ports are,
//! and why? Goal: sort any port number into one of IANA's three ranges. The tests
//! check the edges of every range (0, 1023, 1024, 49151, 49152, 65535) and the ports
//! the articles use.

use std::fmt;

// ANCHOR: types
/// The three ranges IANA divides the 65,536 port numbers into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortRange {
    /// 0-1023: assigned to well-known services (80 is HTTP, 53 is DNS).
    WellKnown,
    /// 1024-49151: registered by particular programs; one may already be in use on
    /// your machine.
    Registered,
    /// 49152-65535: dynamic or private; no service is assigned here, but the OS hands
    /// out ephemeral ports from this range, so a fixed port here can collide.
    Dynamic,
}
// ANCHOR_END: types

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PortRange::WellKnown => "well-known (0-1023)",
            PortRange::Registered => "registered (1024-49151)",
            PortRange::Dynamic => "dynamic/private (49152-65535)",
        })
    }
}

// ANCHOR: classify
/// The IANA range `port` falls in.
pub fn classify_port(port: u16) -> PortRange {
    // A u16 cannot exceed 65535, so these three arms cover every value and the
    // compiler checks that we forgot none.
    match port {
        0..=1023 => PortRange::WellKnown,
        1024..=49151 => PortRange::Registered,
        49152..=u16::MAX => PortRange::Dynamic,
    }
}
// ANCHOR_END: classify
