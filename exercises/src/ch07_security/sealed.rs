//! Exercise 7.5: a seal on every datagram (chapters 6 and 7 together).
//!
//! Scenario: chapter 6's protocol trusts a datagram that names the right session and
//! sequence number; a stranger who can read the traffic (or guess) can still forge an
//! ACK, inject DATA or end the stream. With chapter 7's key, every datagram (DATA,
//! ACK, END) can carry a tag that only a key holder can compute: `reliable-send --key
//! FILE` and `reliable-recv --key FILE` seal each one, and drop any that does not
//! open. Goal: [`seal_datagram`] and [`open_datagram`]. The tests seal and open, flip
//! every bit of a sealed datagram, cut it short and try another key; then the
//! programs run with an attacker who forges DATA, ACK and END.
//!
//! ```text
//! | the datagram (header and payload, unchanged) | tag: 16 bytes of HMAC-SHA-256 |
//! ```
//!
//! The tag authenticates; it does not hide anything (the payload stays readable:
//! Fernet, exercise 7.1, would also encrypt it, at 60 bytes or more a datagram).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::KeyError;

/// Bytes of the tag after each sealed datagram (128 bits of HMAC-SHA-256).
pub const TAG_LEN: usize = 16;

/// The key for sealing datagrams, made from a chapter 7 key file. (Given.)
#[derive(Clone)]
pub struct SealKey([u8; 32]);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)") // never print a secret
    }
}

impl SealKey {
    /// The seal key for a Fernet key (the text of a key file). It is not the Fernet
    /// key itself: it is a hash of it with a label, so that a tag made for one use
    /// can never pass for another (domain separation).
    pub fn from_key_text(text: &str) -> Result<SealKey, KeyError> {
        let text = text.trim();
        if fernet::Fernet::new(text).is_none() {
            return Err(KeyError::Malformed);
        }
        let mut hash = Sha256::new();
        hash.update(b"socket-course: sealed datagrams, v1\n");
        hash.update(text.as_bytes());
        Ok(SealKey(hash.finalize().into()))
    }

    /// The key in the file at `path`.
    pub fn read(path: &std::path::Path) -> Result<SealKey, KeyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| KeyError::Unreadable(format!("{}: {e}", path.display())))?;
        SealKey::from_key_text(&text)
    }

    /// A fresh HMAC-SHA-256 keyed with this key: `update` it with bytes, then
    /// `finalize` it (or `verify_truncated_left`).
    pub fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256>>::new_from_slice(&self.0).expect("HMAC takes any key length")
    }
}

// ANCHOR: seal_datagram
/// `datagram` followed by its tag: the first [`TAG_LEN`] bytes of the HMAC of the
/// whole datagram (header and payload) under `key`.
pub fn seal_datagram(key: &SealKey, datagram: &[u8]) -> Vec<u8> {
    // TODO: a MAC from `key.mac()`, `update` it with the whole datagram, `finalize`;
    // return the datagram followed by the first TAG_LEN bytes of the result.
    todo!()
}
// ANCHOR_END: seal_datagram

// ANCHOR: open_datagram
/// The datagram inside `sealed`, if its tag is the one `key` makes for it; `None` if
/// it is shorter than a tag, was altered anywhere, or was sealed with another key.
pub fn open_datagram<'a>(key: &SealKey, sealed: &'a [u8]) -> Option<&'a [u8]> {
    // TODO: too short for a tag: None. Otherwise split off the last TAG_LEN bytes,
    // MAC the rest and compare with `verify_truncated_left` (constant time, never
    // `==`); only then return the rest.
    todo!()
}
// ANCHOR_END: open_datagram
