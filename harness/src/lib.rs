//! Test support for socket-course, in one place so every chapter's tests read as specs.
//!
//! The rules it enforces come from the course contract: learner code never hangs a test run,
//! every socket a test owns has a timeout, child processes never outlive their test, and a
//! failing test says what was sent, what came back and what was expected.
//!
//! Map of the modules:
//! - [`deadline`]: run learner code on its own thread and give up after a deadline with
//!   "timed out: your code did not return within N s" instead of hanging; or start it in the
//!   background ([`start_learner`]) while the test plays the other side.
//! - [`net`]: loopback sockets with read/write timeouts, `accept` and `connect` with deadlines.
//! - [`drip`]: slow clients (one byte now and then, from addresses spread over 127.0.0.0/8)
//!   and a probe that retries until it is echoed, for the tests of a server's bounds.
//! - [`flip`]: a TCP relay that flips one bit when told to (chapter 10: TLS notices).
//! - [`child`]: [`ChildGuard`], a spawned program that is killed and reaped on drop, whose
//!   output is read on threads, and whose early exit is noticed at once.
//! - [`multicast`]: loopback-only multicast senders and receivers, a group per test.
//! - [`peer`]: [`Peer`], a test's UDP socket that records what it sends and receives.
//! - [`exchange`]: [`Exchange`] records who sent what to whom and renders it as a mermaid
//!   `sequenceDiagram`, so a failing test can show the wire exchange (re-exported from the
//!   `wire-record` crate, which the lossy relay shares).
//! - [`show`]: byte strings rendered for humans, and failure reports built from them.
//! - [`split`]: [`SplitReads`], a reader that cuts the data where the test says.
//! - [`capture`]: [`SharedOutput`], a writer the test can read back (a stand-in for stdout),
//!   and [`input_pipe`], a reader the test types into (a stand-in for the keyboard).
//! - [`program`]: [`program!`], the path of a course program, built on demand for the
//!   side of the switch the test was built for.
//! - [`python`]: finding Python 3 for the interop tests (a failure only under `CI=true`).
//! - [`book`]: checks that keep the English and Japanese mdBooks in step.

pub mod book;
pub mod capture;
pub mod child;
pub mod deadline;
pub mod drip;
pub mod flip;
pub mod multicast;
pub mod net;
pub mod peer;
pub mod program;
pub mod python;
pub mod show;
pub mod split;

pub use capture::{InputReader, InputWriter, SharedOutput, input_pipe};
pub use child::ChildGuard;
pub use deadline::{Deadline, Running, call_learner, call_learner_within, start_learner};
pub use peer::Peer;
pub use split::SplitReads;
/// The exchange recorder lives in its own crate (the relay uses it too); these re-exports keep
/// `course_harness::exchange::...` and `course_harness::Exchange` working.
pub use wire_record::exchange;
pub use wire_record::exchange::Exchange;
