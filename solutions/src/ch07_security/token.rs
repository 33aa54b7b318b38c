//! Exercise 7.1: seal and open.
//!
//! Scenario: article C's exercise 3 encrypts every message with a key shared by
//! client and server (Fernet). Goal: load that key, seal messages into tokens and
//! open them again, with an error that says *why* a token cannot be accepted: it does
//! not open (tampered, or another key: Fernet cannot tell these apart), it is older
//! than the time limit, or it claims to come from the future. The tests use fixed
//! keys and chosen times: round trips, a wrong key, every region of a token flipped,
//! expiry at the exact limit, and malformed keys.
//!
//! ```text
//! A Fernet token, before URL-safe base64:
//!  +---------+-----------------+---------------+-------------------------+------------------+
//!  | version | timestamp       | IV            | ciphertext (AES-128-CBC)| HMAC-SHA256      |
//!  | 0x80    | 8 bytes, BE,    | 16 bytes      | 16-byte blocks          | 32 bytes, over   |
//!  | 1 byte  | Unix seconds    |               |                         | all that precedes|
//!  +---------+-----------------+---------------+-------------------------+------------------+
//! ```

use std::fmt;
use std::path::Path;
use std::time::Duration;

use fernet::Fernet;

/// How far in the future a token's timestamp may lie (the two clocks may differ a
/// little); the same 60 s that Python's `cryptography` allows.
pub const MAX_CLOCK_SKEW: u64 = 60;

/// Why there is no key.
#[derive(Debug)]
pub enum KeyError {
    /// The key file could not be read.
    Unreadable(String),
    /// Not 32 bytes in URL-safe base64, as `Fernet.generate_key()` writes them.
    Malformed,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Unreadable(why) => write!(f, "cannot read the key file: {why}"),
            KeyError::Malformed => write!(
                f,
                "not a Fernet key (32 bytes in URL-safe base64, as `keygen` writes it)"
            ),
        }
    }
}

impl std::error::Error for KeyError {}

// ANCHOR: error
/// Why a token is not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// It does not open: changed on the way, made with another key, or not a token at
    /// all.
    Rejected,
    /// It opened, but it is older than the time limit.
    Expired { age_secs: u64 },
    /// It opened, but its timestamp lies further ahead than clocks can differ.
    FromTheFuture { ahead_secs: u64 },
}
// ANCHOR_END: error

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Rejected => write!(
                f,
                "the token does not open (tampered, or made with another key)"
            ),
            OpenError::Expired { age_secs } => {
                write!(f, "the token is {age_secs} s old, older than allowed")
            }
            OpenError::FromTheFuture { ahead_secs } => {
                write!(f, "the token is dated {ahead_secs} s in the future")
            }
        }
    }
}

impl std::error::Error for OpenError {}

// ANCHOR: load_key
/// The key in `text`: a Fernet key as `Fernet.generate_key()` writes it (surrounding
/// whitespace, such as a final newline, is ignored).
pub fn load_key(text: &str) -> Result<Fernet, KeyError> {
    Fernet::new(text.trim()).ok_or(KeyError::Malformed)
}
// ANCHOR_END: load_key

/// The key in the file at `path`.
pub fn read_key_file(path: &Path) -> Result<Fernet, KeyError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| KeyError::Unreadable(format!("{}: {e}", path.display())))?;
    load_key(&text)
}

// ANCHOR: seal
/// `plaintext` sealed into a token dated `now_secs` (Unix seconds).
pub fn seal(key: &Fernet, plaintext: &[u8], now_secs: u64) -> String {
    key.encrypt_at_time(plaintext, now_secs)
}
// ANCHOR_END: seal

// ANCHOR: open
/// The plaintext in `token`, if it opens with `key` and is at most `ttl` old at
/// `now_secs`.
pub fn open(
    key: &Fernet,
    token: &str,
    ttl: Duration,
    now_secs: u64,
) -> Result<Vec<u8>, OpenError> {
    // First the MAC: until it checks out, no field of the token is trusted, not even
    // its timestamp. `decrypt` checks it against this machine's clock and our key.
    let plaintext = key.decrypt(token).map_err(|_| OpenError::Rejected)?;
    // Now the timestamp is genuine. Still, do the clock arithmetic so it cannot
    // overflow.
    let issued = token_timestamp(token).ok_or(OpenError::Rejected)?;
    if issued > now_secs.saturating_add(MAX_CLOCK_SKEW) {
        return Err(OpenError::FromTheFuture {
            ahead_secs: issued - now_secs,
        });
    }
    let age_secs = now_secs.saturating_sub(issued);
    if age_secs > ttl.as_secs() {
        return Err(OpenError::Expired { age_secs });
    }
    Ok(plaintext)
}
// ANCHOR_END: open

/// The timestamp of a token (bytes 1 to 8, after the version byte), read without the
/// key; `None` if `token` does not start like a Fernet token.
pub fn token_timestamp(token: &str) -> Option<u64> {
    let head = decode_prefix(token, 9)?;
    let (version, timestamp) = head.split_first()?;
    if *version != 0x80 {
        return None;
    }
    Some(timestamp.iter().fold(0, |acc, &b| acc << 8 | u64::from(b)))
}

/// What identifies a token: its timestamp and its random IV (bytes 1 to 24). Two
/// encodings of the same token share it; a new token made with the key never does.
pub fn token_id(token: &str) -> Option<[u8; 24]> {
    let head = decode_prefix(token, 25)?;
    head[1..25].try_into().ok()
}

/// The first `len` bytes of URL-safe base64 `text` (decoded four characters at a
/// time).
fn decode_prefix(text: &str, len: usize) -> Option<Vec<u8>> {
    let chars = text.as_bytes().get(..len.div_ceil(3) * 4)?;
    let mut bytes = Vec::with_capacity(len + 2);
    for group in chars.chunks(4) {
        let mut bits: u32 = 0;
        for &c in group {
            let value = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'-' => 62,
                b'_' => 63,
                _ => return None,
            };
            bits = bits << 6 | u32::from(value);
        }
        bytes.extend_from_slice(&bits.to_be_bytes()[1..]);
    }
    bytes.truncate(len);
    Some(bytes)
}
