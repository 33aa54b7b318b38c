//! Exercise 3.2: the client of article B, done so that no reply is lost, in three
//! steps.
//!
//! Scenario: the client sends each line typed and prints what comes back; an empty
//! line (or the end of input) ends it. A single `recv` after each line would miss
//! replies that come late, split, or unasked. Goal: print everything the server
//! sends, as it comes, on a second thread; when the input ends, *half-close* (shut
//! down writing only) and keep printing until the server closes the connection. One
//! step per function: 3.2a [`copy_until_eof`] (the printing side), 3.2b
//! [`send_lines`] (the sending side), 3.2c [`talk`] (both at once). The tests check
//! each side on its own, then the echo of several lines, the stop at an empty line,
//! and a server that speaks first and answers only after it has read the end of the
//! stream.

use std::io::{self, BufRead, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;

// ANCHOR: copy_until_eof
/// Step 3.2a: copies `from` to `to` chunk by chunk until end-of-file, flushing each
/// chunk so that it shows at once.
pub fn copy_until_eof(mut from: impl Read, mut to: impl Write) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    loop {
        match from.read(&mut buf) {
            Ok(0) => return to.flush(),
            Ok(len) => {
                to.write_all(&buf[..len])?;
                to.flush()?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
// ANCHOR_END: copy_until_eof

// ANCHOR: send_lines
/// Step 3.2b: sends each line of `input` to `to`, ending with `\n`, up to an empty
/// line or the end of the input. A `\r` before the `\n` (typed on Windows) is not
/// sent.
pub fn send_lines(input: impl BufRead, to: &mut impl Write) -> io::Result<()> {
    for line in input.split(b'\n') {
        let mut line = line?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.is_empty() {
            break;
        }
        line.push(b'\n');
        to.write_all(&line)?;
    }
    Ok(())
}
// ANCHOR_END: send_lines

// ANCHOR: talk
/// Step 3.2c: sends each line of `input` (up to an empty line) to `stream` and copies
/// everything the server sends to `output`, until the server closes the connection.
pub fn talk(
    stream: TcpStream,
    input: impl BufRead,
    output: impl Write + Send + 'static,
) -> io::Result<()> {
    // Reading and writing go on at once: a clone of the stream for the printing
    // thread.
    let reader = stream.try_clone()?;
    let printer = thread::spawn(move || copy_until_eof(reader, output));

    let mut writer = stream;
    send_lines(input, &mut writer)?;
    // Half-close: the server reads end-of-file; our reading side stays open for the
    // rest.
    writer.shutdown(Shutdown::Write)?;
    printer
        .join()
        .map_err(|_| io::Error::other("the printing thread panicked"))?
}
// ANCHOR_END: talk
