//! A record of a wire exchange, and its diagram: who sent which bytes to whom, in order,
//! rendered as a mermaid `sequenceDiagram`.
//!
//! Both the test harness (`course-harness`, so a failing test can show the conversation) and
//! the lossy relay (a program, which must not depend on test support) record exchanges, so the
//! recorder lives here, in a crate of its own that both use.
//!
//! - [`exchange`]: [`Exchange`], the shared, ordered record, and its mermaid rendering.
//! - [`text`]: bytes as printable text, cut to a preview.

pub mod exchange;
pub mod text;

pub use exchange::{Event, Exchange};
