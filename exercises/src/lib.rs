//! socket-course exercises: the code you write. Each function here starts as a stub
//! that panics with `not yet implemented`; replace the `todo!()` and run the
//! chapter's tests (`cargo test --test 'ch01*'`) until they pass. `solutions` has the
//! same modules and signatures, implemented.
//!
//! One module per chapter; inside it, one file per exercise:
//! - [`ch01_addresses`]: sockets, addresses and ports: which range a port is in,
//!   reading `host:port` text, letting the OS choose a port.
//! - [`ch02_udp`]: UDP basics: receive a datagram, refuse oversized ones, answer
//!   requests, wait for a reply with a timeout.
//! - [`ch03_tcp`]: TCP basics: an echo server, a client that half-closes, reading
//!   whole lines from a byte stream.
//! - [`ch04_many_clients`]: many clients at once: a thread per connection, an event
//!   loop with mio (article B's `select`), and async tasks with tokio, all meeting
//!   one spec.
//! - [`ch05_udp_vs_tcp`]: UDP and TCP, measured: statistics of a sample, UDP round
//!   trips that count losses, TCP round trips on one connection and one connection
//!   per request.
//! - [`ch06_reliability`]: reliability over UDP: a header, a receiver, a
//!   stop-and-wait sender that retransmits, and an adaptive retransmission timeout;
//!   then a sliding window (send window, receive window, a sender with a timer per
//!   message).
//! - [`ch07_security`]: securing messages: Fernet tokens shared with Python, expiry,
//!   replays, an allowlist.
//! - [`ch08_chat`]: a UDP chat: a strict message format, a relay server, a two-thread
//!   client.
//! - [`ch09_multicast`]: multicast on loopback: a configured sender, receivers that
//!   share a port and join a group, a receive loop.
//! - [`show`] (given): one short, escaped line per received message, printed in
//!   batches.

// Stubs take arguments they do not use yet and import what the solution will need:
// keep the build warning-free until you fill them in.
#![allow(unused_variables, unused_mut, dead_code, unused_imports)]
// No exercise needs `unsafe`; forbidding it also keeps graded code away from raw file
// descriptors and memory it does not own (see "For instructors" in the README).
#![forbid(unsafe_code)]

pub mod ch01_addresses;
pub mod ch02_udp;
pub mod ch03_tcp;
pub mod ch04_many_clients;
pub mod ch05_udp_vs_tcp;
pub mod ch06_reliability;
pub mod ch07_security;
pub mod ch08_chat;
pub mod ch09_multicast;
pub use course_given::log;
pub use course_given::show;
