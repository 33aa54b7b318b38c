//! Given (not an exercise): the chat server's return-routability cookie (chapter 8).
//!
//! Anyone can send a join that claims to come from someone else's address: the
//! server would then send every message of the chat to that address, a victim who
//! never asked for it (amplification: a few bytes in, a stream out). So a join from
//! an address that has not proved it can receive is answered with a small
//! [`cookie`] datagram, and the member is admitted only when the cookie comes back,
//! the way DTLS answers with a HelloVerifyRequest (RFC 9147) and QUIC with a Retry
//! (RFC 9000). Whoever sends the cookie back received it, so the address is theirs.
//!
//! The server keeps no state for an unproven address: the cookie is a MAC (HMAC-
//! SHA-256, cut to 12 bytes) over the address, a time slot and the datagram it
//! answers, keyed by a random secret that only the server knows. It is valid in its
//! slot and the next one ([`SLOT_SECONDS`] each). Until the cookie comes back, the
//! server sends an address no more than [`AMPLIFICATION`] times what it received
//! (QUIC's limit): a datagram too small to answer within that is not answered.
//!
//! ```text
//! chat/1 cookie 3f9a0c17d2e48b5566a1f0c2   <- marker, "cookie", 24 hex digits
//! chat/1 join 1763798400123 Taro           <- the datagram it answers, unchanged
//! ```
//!
//! The client sends the whole cookie datagram back as it came.

use std::net::SocketAddr;

use hmac::{Hmac, Mac};
use sha2::Sha256;

// ANCHOR: constants
/// The first bytes of a cookie datagram, both ways.
pub const PREFIX: &[u8] = b"chat/1 cookie ";

/// Hex digits of the MAC in a cookie (12 bytes: guessing one takes 2^96 tries).
pub const MAC_HEX: usize = 24;

/// A cookie is valid in the slot it was made in and the next one.
pub const SLOT_SECONDS: u64 = 30;

/// The most an unproven address is sent, as a multiple of what it sent.
pub const AMPLIFICATION: usize = 3;
// ANCHOR_END: constants

/// The server's secret; a new one each time the server starts.
#[derive(Clone)]
pub struct CookieKey([u8; 32]);

impl std::fmt::Debug for CookieKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CookieKey(..)") // never print a secret
    }
}

impl CookieKey {
    /// A fresh random key, from the operating system's random source.
    pub fn random() -> std::io::Result<CookieKey> {
        let mut key = [0u8; 32];
        getrandom::getrandom(&mut key)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(CookieKey(key))
    }

    /// A fixed key, for tests.
    pub fn from_bytes(key: [u8; 32]) -> CookieKey {
        CookieKey(key)
    }

    fn mac(&self, slot: u64, from: SocketAddr, datagram: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256>>::new_from_slice(&self.0).expect("any key length");
        mac.update(&slot.to_be_bytes());
        mac.update(from.to_string().as_bytes());
        mac.update(b"\n");
        mac.update(datagram);
        mac
    }

    // ANCHOR: cookie
    /// The cookie datagram that answers `datagram` from `from` at `unix_secs`, or
    /// `None` when it would be more than [`AMPLIFICATION`] times the datagram.
    pub fn cookie(
        &self,
        from: SocketAddr,
        datagram: &[u8],
        unix_secs: u64,
    ) -> Option<Vec<u8>> {
        let tag = self
            .mac(unix_secs / SLOT_SECONDS, from, datagram)
            .finalize();
        let mut out = Vec::with_capacity(PREFIX.len() + MAC_HEX + 1 + datagram.len());
        out.extend_from_slice(PREFIX);
        for byte in &tag.into_bytes()[..MAC_HEX / 2] {
            out.extend_from_slice(format!("{byte:02x}").as_bytes());
        }
        out.push(b'\n');
        out.extend_from_slice(datagram);
        (out.len() <= AMPLIFICATION * datagram.len()).then_some(out)
    }
    // ANCHOR_END: cookie

    // ANCHOR: open
    /// If `datagram` is a cookie this key made for `from`, in this slot or the last,
    /// the datagram it answered; `None` for anything else (a forged, altered, stale
    /// or misdirected cookie).
    pub fn open<'a>(
        &self,
        from: SocketAddr,
        datagram: &'a [u8],
        unix_secs: u64,
    ) -> Option<&'a [u8]> {
        let rest = datagram.strip_prefix(PREFIX)?;
        let (hex, inner) = (rest.get(..MAC_HEX)?, rest.get(MAC_HEX..)?);
        let inner = inner.strip_prefix(b"\n")?;
        let mut tag = [0u8; MAC_HEX / 2];
        for (i, pair) in hex.chunks(2).enumerate() {
            let text = std::str::from_utf8(pair).ok()?;
            tag[i] = u8::from_str_radix(text, 16).ok()?;
        }
        let slot = unix_secs / SLOT_SECONDS;
        // A constant-time comparison (`verify_truncated_left`): a guesser learns
        // nothing from how long a refusal takes.
        [slot, slot.wrapping_sub(1)]
            .into_iter()
            .any(|s| self.mac(s, from, inner).verify_truncated_left(&tag).is_ok())
            .then_some(inner)
    }
    // ANCHOR_END: open
}

/// Whether `datagram` is a cookie datagram (a server asks this client to prove its
/// address): send it back unchanged.
pub fn is_cookie(datagram: &[u8]) -> bool {
    datagram.starts_with(PREFIX)
}
