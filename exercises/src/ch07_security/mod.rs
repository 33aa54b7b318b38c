//! Chapter 7: securing messages.
//!
//! Anyone on the path can read a datagram, change it, send it again, or forge its
//! source address. Article C's remedy is encryption with a key both sides share,
//! using Fernet from Python's `cryptography`; this chapter speaks the same tokens,
//! and adds what encryption alone does not give: refusing old and replayed messages,
//! and an allowlist of peers.
//! - [`token`]: load a key; seal and open Fernet tokens, telling "cannot open" from
//!   "expired".
//! - [`guard`]: the server's checks: allowlist, open, refuse replays, answer with a
//!   token.
//! - [`sealed`]: a tag on every datagram of chapter 6's protocol, so that nobody
//!   without the key can forge, inject or end a stream.

pub mod guard;
pub mod sealed;
pub mod token;

pub use guard::{
    Allow, BIND, ClientError, Guard, REPLY, Refusal, bound_reply, run_secure_server,
    secure_request, split_bind,
};
pub use sealed::{SealKey, TAG_LEN, open_datagram, seal_datagram};
pub use token::{
    KeyError, MAX_CLOCK_SKEW, OpenError, load_key, open, read_key_file, seal,
    token_id, token_timestamp,
};
