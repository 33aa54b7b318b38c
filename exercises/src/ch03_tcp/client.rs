//! Exercise 3.2: the client of article B, done so that no reply is lost.
//!
//! Scenario: the client sends each line typed and prints what comes back; an empty line (or
//! the end of input) ends it. A single `recv` after each line would miss replies that come
//! late, split, or unasked. Goal: print everything the server sends, as it comes, on a second
//! thread; when the input ends, *half-close* (shut down writing only) and keep printing until
//! the server closes the connection.
//! The tests check the echo of several lines, the stop at an empty line, and a server that
//! speaks first and answers only after it has read the end of the stream.

use std::io::{self, BufRead, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;

// ANCHOR: talk
/// Sends each line of `input` (up to an empty line) to `stream` and copies everything the
/// server sends to `output`, until the server closes the connection.
pub fn talk(
    stream: TcpStream,
    input: impl BufRead,
    output: impl Write + Send + 'static,
) -> io::Result<()> {
    // TODO: copy what the server sends to `output` on a second thread (use a try_clone of the
    // stream); send the input lines; then shut down the writing side and wait for that thread.
    todo!()
}
// ANCHOR_END: talk
