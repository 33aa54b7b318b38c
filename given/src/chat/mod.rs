//! Given (not an exercise): the chat server's socket loop (chapter 8), written once for the
//! stubs and the reference. Each side's `ch08_chat/serve.rs` implements [`ChatRelay`] for
//! its `Relay` (your code) and calls [`serve`].
//!
//! Map of the modules:
//! - [`serve`](mod@serve): the loop: read, pick fairly, admit, prove, relay.
//! - [`inbox`]: the queues between the reading thread and the relay, taken in turn.
//! - [`admission`]: newcomers' allowance per address and in all, and the welcome or refusal a
//!   newcomer gets (and the client's side of it, `check_server_answers`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub mod admission;
pub mod bridge;
pub mod inbox;
pub mod serve;

pub use serve::serve;

/// The default rate limit, in datagrams a second, of each member and of each address
/// that is not a member yet.
pub const DEFAULT_NEWCOMER_RATE: f64 = 100.0;

/// The default most members from one source address (`--max-per-address`).
pub const DEFAULT_MAX_PER_ADDRESS: usize = 16;

/// How the server treats newcomers.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// Admit plain text from an unproven address, as article C's server does (its
    /// client cannot answer a cookie). A forged source then receives the chat: use
    /// it with the article's client only.
    pub plain_ok: bool,
    /// The most members from one source address (IP): one machine cannot take every
    /// place.
    pub max_per_address: usize,
    /// Datagrams a second that one address not yet a member may send (also the burst).
    pub newcomer_rate: f64,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            plain_ok: false,
            max_per_address: DEFAULT_MAX_PER_ADDRESS,
            newcomer_rate: DEFAULT_NEWCOMER_RATE,
        }
    }
}

/// What a datagram is, as far as the loop needs to know (the relay's `parse` says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Datagram {
    /// The course's format: its kind and name.
    Chat { kind: ChatKind, name: String },
    /// Plain text (article C's client).
    Plain,
}

/// The kinds of chat datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKind {
    Msg,
    Join,
    Leave,
    Ping,
}

/// Why the relay refused a datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The name belongs to another member.
    NameTaken(String),
    /// The chat has its maximum number of members.
    Full(usize),
    /// Anything else (malformed), said in a sentence.
    Other(String),
}

/// What the loop counts in the relay's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// A datagram received from an address that is not a member (a member's is counted
    /// by [`ChatRelay::admit`]).
    Received,
    /// A message relayed.
    Relayed,
    /// A datagram refused.
    Refused,
    /// A cookie sent.
    Cookie,
    /// Newcomers' datagrams dropped by their allowance.
    RateLimited,
    /// Datagrams dropped while the relay was busy (the total so far).
    Busy(u64),
}

/// What the loop needs of a relay (your `Relay`, through `serve.rs`).
pub trait ChatRelay {
    /// What `datagram` is (your `parse`), or why it is refused.
    fn read(&self, datagram: &[u8]) -> Result<Datagram, String>;
    /// How the server shows `datagram` from `from` on its stdout (`display_line`).
    fn show(&self, datagram: &[u8], from: SocketAddr) -> Option<String>;
    /// The members' rate limit (your relay's given `admit`); `Err(log)` drops the datagram.
    fn admit(&mut self, from: SocketAddr, now: Instant) -> Result<(), bool>;
    /// Whether `addr` is a member.
    fn is_member(&self, addr: SocketAddr) -> bool;
    /// The members' addresses.
    fn members(&self) -> Vec<SocketAddr>;
    /// The name of the member at `addr`.
    fn name_of(&self, addr: SocketAddr) -> Option<&str>;
    /// The names of the members other than `addr`.
    fn names_but(&self, addr: SocketAddr) -> Vec<&str>;
    /// Your `on_datagram`: what to send to whom, or why not.
    fn on_datagram(
        &mut self,
        from: SocketAddr,
        datagram: &[u8],
        instant: Instant,
        unix_ms: u64,
    ) -> Result<Vec<(SocketAddr, Vec<u8>)>, Refusal>;
    /// Your `forget_silent`.
    fn forget_silent(&mut self, now: Instant) -> Vec<SocketAddr>;
    /// How long a member may stay silent.
    fn silence_limit(&self) -> Duration;
    /// Counts `what`.
    fn count(&mut self, what: Count);
    /// Datagrams dropped by rate limits so far.
    fn rate_limited(&self) -> u64;
}
