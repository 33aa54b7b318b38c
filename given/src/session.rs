//! Given (not an exercise): what makes a transfer of chapter 6 its own.
//!
//! An address is not an identity: anyone on the machine can send a datagram that
//! claims to come from the receiver (a forged ACK) or from the sender (an injected
//! DATA or END). So every message carries a [`Session`] id that the sender picks at
//! random, and numbers its messages from a random first sequence number, the way
//! TCP picks its initial sequence number (RFC 6528). A stranger who cannot read the
//! traffic must guess both; a receiver that has heard the first message of a session
//! ignores every other session.
//!
//! Random first numbers wrap past `u32::MAX` back to 0 sooner or later, so numbers
//! are compared the way RFC 1982 ("serial number arithmetic") says: `a` comes before
//! `b` when `b - a`, counted with wrapping, is less than half of the number space.
//! Use [`seq_before`] and [`seq_offset`], never `<` or `-`, on sequence numbers.

use std::io;

// ANCHOR: session
/// The identity of one transfer: a random id and a random first sequence number,
/// both chosen by the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Session {
    /// Carried by every message of the transfer, ACKs included.
    pub id: u32,
    /// The sequence number of the first message; each message takes the next one
    /// (wrapping after `u32::MAX`).
    pub first_seq: u32,
}

impl Session {
    /// A session with a fresh random id and first sequence number, from the
    /// operating system's random source (the `getrandom` crate).
    pub fn random() -> io::Result<Session> {
        let mut bytes = [0u8; 8];
        getrandom::getrandom(&mut bytes)
            .map_err(|e| io::Error::other(e.to_string()))?;
        let [a, b, c, d, e, f, g, h] = bytes;
        Ok(Session {
            id: u32::from_be_bytes([a, b, c, d]),
            first_seq: u32::from_be_bytes([e, f, g, h]),
        })
    }

    /// The sequence number of message `index` (0: the first).
    pub fn seq(&self, index: usize) -> u32 {
        self.first_seq.wrapping_add(index as u32)
    }
}
// ANCHOR_END: session

// ANCHOR: serial
/// Whether sequence number `a` comes before `b` (RFC 1982): `b - a`, with
/// wrapping, is between 1 and 2^31 - 1. So `u32::MAX` comes before 0.
pub fn seq_before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// How many numbers `to` comes after `from`, with wrapping: `seq_offset(u32::MAX,
/// 1)` is 2. Meaningful when `from` does not come after `to`.
pub fn seq_offset(from: u32, to: u32) -> u32 {
    to.wrapping_sub(from)
}
// ANCHOR_END: serial
