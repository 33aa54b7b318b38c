//! The lossy relay: a UDP relay between clients and one server that loses, duplicates,
//! reorders and delays datagrams on purpose, and does it deterministically.
//!
//! Loopback never loses anything, so a protocol that claims to survive loss needs a network
//! that misbehaves on cue. The relay is plain userspace UDP (no root, no kernel features), so it
//! works the same on Linux, macOS and Windows.
//!
//! - [`fate`]: what happens to each datagram, from a [`Script`] of exact rules or from
//!   [`Rates`] with a seed, decided by a pure function of the datagram (see [`rates_fate`]).
//! - [`relay`]: the running relay: one upstream socket per client, counters, a recorded
//!   exchange that renders as a mermaid sequence diagram (lost datagrams drawn as `-x`), a
//!   delay queue bounded in bytes, a trace that never blocks.
//! - `sessions`: the sessions, all on one thread with mio, bounded in all and per address
//!   (the longest-idle one makes way for a newcomer).
//!
//! Tests start it in-process on port 0 with [`Relay::start`]; learners run the `lossy-relay`
//! program.

pub mod fate;
pub mod relay;
mod sessions;

pub use fate::{Action, Direction, Fate, Fates, Rates, Script, Which, rates_fate};
pub use relay::{
    Counters, MAX_PER_ADDRESS, MAX_QUEUED, MAX_SESSIONS, QUEUED_OVERHEAD, Relay, RelayConfig,
    Stats, TraceEntry,
};
