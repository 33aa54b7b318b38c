//! Chapter 10: the real thing, TLS over TCP and QUIC over UDP.
//!
//! Chapters 6 to 8 built reliability and security by hand, and the attacks on them
//! showed how much a protocol must get right. This chapter uses what real programs
//! use instead: TLS 1.3 (rustls) on top of chapter 3's TCP, and QUIC (quinn) on top
//! of UDP, with certificates from a test certificate authority made in code (rcgen).
//! - [`client`]: a TLS client that trusts one CA and checks the server's name.
//! - [`server`]: a TLS server that loads a certificate and its key, and echoes.
//! - [`refusals`]: what TLS refuses (a wrong name, an unknown CA, an expired
//!   certificate, a tampered byte), told apart by the error.
//! - [`quic`]: a QUIC echo server, many streams on one connection.
//! - [`migrate`] (go further): a QUIC client moves to a new address mid-connection.
//!
//! Given, not an exercise: [`certs`] (a test CA), and the re-exported [`rustls`] and
//! [`quinn`], so that the tests and programs use exactly the versions built here.
//!
//! This folder is its own crate (`tls/Cargo.toml` next to `src/`): only chapter 10's
//! tests and programs build it, so the earlier chapters never compile rustls or
//! quinn.

// Stubs take arguments they do not use yet and import what the solution will need:
// keep the build warning-free until you fill them in.
#![allow(unused_variables, unused_mut, dead_code, unused_imports)]
// No exercise needs `unsafe`.
#![forbid(unsafe_code)]

pub mod client;
pub mod migrate;
pub mod quic;
pub mod refusals;
pub mod server;

pub use course_given_tls as certs;
pub use quinn;
pub use rustls;
pub use tokio;

pub use client::{TlsStream, connect};
pub use migrate::migrate;
pub use quic::{echo_connection, echo_stream};
pub use refusals::{Refusal, refusal};
pub use server::{echo_tls, server_config};
