//! Chapter 3: TCP basics.
//!
//! A TCP socket carries a *byte stream* over a connection: bytes arrive complete and
//! in order, but with no message boundaries. One write may arrive in several reads,
//! and several writes in one read. This chapter builds the echo server and client of
//! the articles, then the piece the articles leave out, framing:
//! - [`echo`]: serve one client at a time, echoing each chunk (with an optional
//!   prefix).
//! - [`client`]: send lines while printing what comes back, then half-close and read
//!   the rest (in three steps: the printing side, the sending side, both at once).
//! - [`lines`]: read whole lines however the bytes happen to be split.
//! - [`server`]: the whole echo server, from `bind` to a clean stop on Ctrl-C (in two
//!   steps: the server, then the Ctrl-C handler); `tcp-echo-server` is built from it.
//!
//! Given, not an exercise: [`pace`] ([`Pace`], [`Paced`], [`Queue`]): the deadline on
//! progress that keeps a client trickling a byte now and then from holding the server
//! while another client waits; [`shutdown`] ([`Shutdown`]): how a test or Ctrl-C stops
//! a server.

pub mod client;
pub mod echo;
pub mod lines;
pub mod server;
pub use course_given::{pace, shutdown};

pub use client::{copy_until_eof, send_lines, talk};
pub use echo::{echo_connection, serve};
pub use lines::{LineError, LineReader, MAX_LINE};
pub use pace::{Pace, Paced, Queue};
pub use server::{Served, run_echo_server, stop_on_ctrl_c};
pub use shutdown::Shutdown;
