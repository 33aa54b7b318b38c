//! The switch: this crate is the learner's `exercises`, or with `--features solutions` the
//! reference `solutions`. The chapter tests and the command-line programs (`programs/`) use
//! `socket_course::...` and so run whichever side is switched in.
//!
//! `cargo test` grades your exercises; `cargo test --features solutions` proves the reference.

pub mod fd_limit;
pub mod udp_buffer;

#[cfg(not(feature = "solutions"))]
pub use exercises::*;
#[cfg(feature = "solutions")]
pub use solutions::*;

/// Which side is switched in: `"exercises"` or `"solutions"`. Programs mention it in `--help`.
pub const SIDE: &str = if cfg!(feature = "solutions") {
    "solutions"
} else {
    "exercises"
};

/// Chapter 10 (TLS and QUIC), a crate of its own on each side: present with the feature
/// `ch10` (the reference side has it on), so that chapters 1-9 never compile rustls.
#[cfg(all(feature = "ch10", not(feature = "solutions")))]
pub use exercises_tls as ch10_tls;
#[cfg(feature = "solutions")]
pub use solutions_tls as ch10_tls;
