//! Exercise 3.3: framing: read whole lines from a byte stream.
//!
//! Scenario: the articles read with one `recv(1024)` and treat what comes as one
//! message. On a real network, and sometimes on loopback, a message arrives in
//! pieces, or two arrive together. Goal: a reader that returns one line at a time,
//! however the bytes were split, that tells a clean end of the stream from one that
//! stops in the middle of a line, and that never lets a peer make it buffer without
//! limit. The tests deliver bytes one at a time, cut lines and UTF-8 characters in
//! two, put two lines in one write, end mid-line, and send a line that is not UTF-8
//! or is far too long.

use std::fmt;
use std::io::{self, Read};

/// The longest line accepted: bytes before the `\n` (a `\r` before it counts). A peer
/// that sends more than this without a newline is cut off at once, without waiting
/// for the newline.
pub const MAX_LINE: usize = 64 * 1024;

// ANCHOR: error
/// Why no line was returned.
#[derive(Debug)]
pub enum LineError {
    /// The stream ended in the middle of a line; `partial` is what had arrived of it.
    UnexpectedEof { partial: Vec<u8> },
    /// More than [`MAX_LINE`] bytes without a newline. Close the connection: what
    /// follows is the rest of a line that was not read.
    TooLong,
    /// A complete line that is not UTF-8 (its bytes, without the newline). The next
    /// line can still be read.
    InvalidUtf8(Vec<u8>),
    /// Reading from the stream failed (a reset, a timeout).
    Io(io::Error),
}
// ANCHOR_END: error

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::UnexpectedEof { partial } => {
                write!(
                    f,
                    "the stream ended in the middle of a line ({} bytes without a newline)",
                    partial.len()
                )
            }
            LineError::TooLong => write!(f, "a line longer than {MAX_LINE} bytes"),
            LineError::InvalidUtf8(bytes) => {
                write!(f, "a line of {} bytes that is not UTF-8", bytes.len())
            }
            LineError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LineError {}

// ANCHOR: reader
/// Reads `\n`-terminated lines from a byte stream.
pub struct LineReader<R> {
    source: R,
    /// Bytes read from `source` that do not form a whole line yet.
    pending: Vec<u8>,
}
// ANCHOR_END: reader

impl<R: Read> LineReader<R> {
    /// A reader with nothing pending.
    pub fn new(source: R) -> Self {
        LineReader {
            source,
            pending: Vec::new(),
        }
    }

    // ANCHOR: read_line
    /// The next line, without its `\n` (and without a `\r` before it); `Ok(None)`
    /// when the stream ended cleanly, after a complete line.
    pub fn read_line(&mut self) -> Result<Option<String>, LineError> {
        // TODO: return a line once `pending` holds a `\n`; otherwise read more into
        // it. Handle the end of the stream (clean, or mid-line) and lines longer than
        // MAX_LINE.
        todo!()
    }
    // ANCHOR_END: read_line
}
