//! The course's command-line programs (`src/bin/`): each one is the Rust counterpart of an
//! article's program, a thin command line around the exercises of one chapter. They are built
//! from the switch (`socket-course`), so they run your exercises, or the reference with
//! `--features solutions`: `cargo run --bin udp-server`.
//!
//! This library holds only what they share: [`cli`], and [`sealing`] (the `--key-file` of
//! reliable-send and reliable-recv).

pub mod cli;
pub mod sealing;
/// Chapter 10's `--cert`, `--key` and `--ca` files.
pub mod tls_files;
