//! Given (not an exercise): how the servers show what they received.
//!
//! A server that prints every byte it echoes spends its time printing, not serving:
//! escaping and writing a megabyte to the terminal costs far more than sending it
//! back. So the servers print one short line per message, its first bytes (escaped:
//! nothing from the network reaches the terminal raw) and its length, and [`Screen`]
//! collects those lines and writes them in one go when the server has nothing else
//! waiting.

use std::fmt::{self, Write as _};
use std::net::SocketAddr;

/// How many bytes of a message a preview shows.
pub const PREVIEW_BYTES: usize = 48;

/// Written to stdout once this much is pending, even if more input is waiting.
const PENDING_LIMIT: usize = 8 * 1024;

/// Whether `c` is shown escaped rather than raw: control characters, and the
/// invisible characters that change how a line reads without showing themselves:
/// bidirectional controls (U+061C, U+200E-F, U+202A-E, U+2066-9: a right-to-left
/// override makes `txt.exe` read `exe.txt`), zero-width characters (U+200B-D,
/// U+2060, U+FEFF), the line and paragraph separators (U+2028-9), tag characters
/// (U+E0000-E007F) and the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0).
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'
                | '\u{2066}'..='\u{2069}'
                | '\u{3164}'
                | '\u{feff}'
                | '\u{ffa0}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

// ANCHOR: preview
/// The first bytes of `bytes` as text: invalid UTF-8 shown as `�`, control and
/// invisible characters escaped (`\n`, `\u{1b}`, `\u{202e}`: see [`needs_escape`]),
/// and `…` when there is more.
pub struct Preview<'a>(pub &'a [u8]);

impl fmt::Display for Preview<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut head = &self.0[..self.0.len().min(PREVIEW_BYTES)];
        // Do not cut a character in two: drop an incomplete one at the end.
        if let Err(e) = std::str::from_utf8(head)
            && e.error_len().is_none()
            && head.len() < self.0.len()
        {
            head = &head[..e.valid_up_to()];
        }
        let text = String::from_utf8_lossy(head);
        // Plain runs of text are written whole; only what `needs_escape` is escaped.
        let mut plain_from = 0;
        for (at, control) in text.match_indices(needs_escape) {
            f.write_str(&text[plain_from..at])?;
            for c in control.chars() {
                write!(f, "{}", c.escape_default())?;
            }
            plain_from = at + control.len();
        }
        f.write_str(&text[plain_from..])?;
        if head.len() < self.0.len() {
            f.write_char('…')?;
        }
        Ok(())
    }
}
// ANCHOR_END: preview

// ANCHOR: screen
/// Lines waiting to be printed on stdout. Call [`Screen::flush`] when nothing else is
/// waiting (so a reader sees each line at once); it also flushes itself when much is
/// pending and when dropped.
#[derive(Default)]
pub struct Screen {
    pending: String,
}

impl Screen {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the line `from ADDR (N bytes): PREVIEW`.
    pub fn show(&mut self, from: SocketAddr, bytes: &[u8]) {
        let len = bytes.len();
        // Writing into a String cannot fail.
        let _ = writeln!(
            self.pending,
            "from {from} ({len} bytes): {}",
            Preview(bytes)
        );
        if self.pending.len() >= PENDING_LIMIT {
            self.flush();
        }
    }

    /// Prints what is pending, in one write.
    pub fn flush(&mut self) {
        if !self.pending.is_empty() {
            // `print!` (not a handle of our own) so that tests can capture the
            // output.
            print!("{}", self.pending);
            self.pending.clear();
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        self.flush();
    }
}
// ANCHOR_END: screen
