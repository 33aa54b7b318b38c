//! Bytes rendered for people: valid UTF-8 as text (control characters and quotes escaped),
//! anything else as `\xNN`, so a diagram or a trace never prints raw binary to the terminal.

use std::fmt::Write as _;

/// The bytes as text: UTF-8 kept, control characters and quotes escaped, invalid bytes `\xNN`.
pub fn escape(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => out.extend(c.escape_default()),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// [`escape`], cut to at most `max_chars` characters (with `…` when cut): for diagrams.
pub fn preview(data: &[u8], max_chars: usize) -> String {
    let full = escape(data);
    if full.chars().count() <= max_chars {
        full
    } else {
        let mut cut: String = full.chars().take(max_chars.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}
