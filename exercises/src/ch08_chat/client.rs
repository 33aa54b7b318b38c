//! Exercise 8.3: the chat client, in two steps.
//!
//! Scenario: article C's client must wait for two things at once, the keyboard and
//! the network, so it reads the network on a second thread. Goal (8.3a, [`receive`]):
//! the listening thread: print every line received as it comes, keep the membership
//! alive with pings, stop when told. Goal (8.3b, [`run_client`]): join, send every
//! line typed, and on `q` or end of input say goodbye and stop the listening thread.
//! The tests play the server: they check the join, the messages, the pings, the lines
//! printed, the `/leave` and `/join` commands, and that the client returns once its
//! input ends.

use std::io::{self, BufRead, Write};
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{Local, TimeZone};

use super::{
    ChatMessage, Kind, MAX_DATAGRAM, Payload, escape_for_screen, parse, validate_name,
};

/// Milliseconds since 1970-01-01 UTC, by this machine's clock.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `[HH:MM:SS]` in local time; a time no calendar can show is shown as the raw
/// number.
fn clock(timestamp_ms: u64) -> String {
    match i64::try_from(timestamp_ms)
        .ok()
        .and_then(|ms| Local.timestamp_millis_opt(ms).single())
    {
        Some(time) => time.format("[%H:%M:%S]").to_string(),
        None => format!("[t={timestamp_ms}]"),
    }
}

/// How a received datagram is shown: `[HH:MM:SS] name: text`, joins and leaves as `*
/// name joined`, plain text under the address it came `from` (a course server sends
/// plain text only to clients that never spoke the format); pings are not shown. The
/// time is the sender's, as received: a wrong clock shows, but nothing is ordered by
/// it. One datagram is one line: a newline or an escape sequence in the text is shown
/// escaped (`\n`, `\u{1b}`), and a long run of spaces is marked
/// ([`mark_blank_runs`]), so nobody can type a line that looks like someone else's.
pub fn display_line(payload: &Payload, from: SocketAddr) -> Option<String> {
    let (name, text) = match payload {
        Payload::Chat(m) => (
            escape_for_screen(&m.name),
            mark_blank_runs(&escape_for_screen(&m.text)),
        ),
        Payload::Plain(bytes) => (
            String::new(),
            mark_blank_runs(&escape_for_screen(&String::from_utf8_lossy(bytes))),
        ),
    };
    match payload {
        Payload::Chat(m) => match m.kind {
            Kind::Msg => Some(format!("{} {name}: {text}", clock(m.timestamp_ms))),
            Kind::Join => Some(format!("{} * {name} joined", clock(m.timestamp_ms))),
            Kind::Leave => Some(format!("{} * {name} left", clock(m.timestamp_ms))),
            Kind::Ping => None,
        },
        Payload::Plain(_) => Some(format!("{} {from}: {text}", clock(now_ms()))),
    }
}

/// The longest run of blanks shown as it is; [`mark_blank_runs`] marks longer ones.
pub const MAX_BLANKS: usize = 3;

/// `text` with every run of more than [`MAX_BLANKS`] blanks (spaces, or any other
/// whitespace) shown as `␣×N`: 300 spaces followed by `[12:00:00] Bob: ...` would
/// otherwise wrap on the terminal into a line that looks like Bob's.
pub fn mark_blank_runs(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |shown: &mut String, run: &mut String| {
        let count = run.chars().count();
        if count > MAX_BLANKS {
            shown.push_str(&format!("␣×{count}"));
        } else {
            shown.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_whitespace() {
            run.push(c);
        } else {
            flush(&mut shown, &mut run);
            shown.push(c);
        }
    }
    flush(&mut shown, &mut run);
    shown
}

/// The most text one chat message can carry for `name`: what is left of
/// [`MAX_DATAGRAM`] after the header, counting the longest timestamp (20 digits).
pub fn text_limit(name: &str) -> usize {
    MAX_DATAGRAM.saturating_sub("chat/1 msg ".len() + 20 + 1 + name.len() + 1)
}

/// Why a typed line is not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineProblem {
    /// `len` bytes, more than the `limit` a message can carry.
    TooLong { len: usize, limit: usize },
    /// Not valid UTF-8 (a terminal in another encoding, or a binary file as input).
    NotUtf8,
}

impl std::fmt::Display for LineProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineProblem::TooLong { len, limit } => write!(
                f,
                "not sent: the line is {len} bytes, a chat message holds at most {limit}"
            ),
            LineProblem::NotUtf8 => {
                write!(f, "not sent: the line is not valid UTF-8")
            }
        }
    }
}

/// The next line of `input` without its line ending, `None` at the end of input, or
/// why it cannot be sent. At most `limit + 1` bytes of a line are kept: a huge line
/// costs no memory.
pub fn next_line(
    input: &mut impl BufRead,
    limit: usize,
) -> io::Result<Option<Result<String, LineProblem>>> {
    let mut kept = Vec::new();
    let mut len = 0;
    // The line ending is not part of the line: "\n", or "\r\n" as Windows types it.
    let mut ending = 0;
    let mut last = None;
    loop {
        let chunk = match input.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            if len == 0 {
                return Ok(None);
            }
            break;
        }
        let (take, end) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => {
                let before = if i > 0 { Some(chunk[i - 1]) } else { last };
                ending = if before == Some(b'\r') { 2 } else { 1 };
                (i + 1, true)
            }
            None => (chunk.len(), false),
        };
        last = chunk[..take].last().copied();
        let room = (limit + 2).saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..take.min(room)]);
        len += take;
        input.consume(take);
        if end {
            break;
        }
    }
    len -= ending;
    kept.truncate(len);
    if len > limit {
        return Ok(Some(Err(LineProblem::TooLong { len, limit })));
    }
    Ok(Some(
        String::from_utf8(kept).map_err(|_| LineProblem::NotUtf8),
    ))
}

/// After the join (given, in `given/src/chat/admission.rs`): sends the server's cookie
/// back unchanged (a newcomer proves it receives at its address), then takes the
/// server's welcome, or returns its refusal as an error (`PermissionDenied`: the chat is
/// full, your address has too many members, or the name), shown in your language. A
/// server that is not there is `ConnectionRefused`. Waits [`ANSWER_WAIT`] at most for
/// each answer; any other datagram is left for the receiving thread.
pub use course_given::chat::admission::{ANSWER_WAIT, check_server_answers};

/// Sends one chat message of `kind` to the server the socket is connected to.
fn send(socket: &UdpSocket, kind: Kind, name: &str, text: &str) -> io::Result<()> {
    socket
        .send(&ChatMessage::new(kind, now_ms(), name, text).encode())
        .map(|_| ())
}

// ANCHOR: receive
/// Step 8.3a: the listening side, run on its own thread. Writes each datagram that
/// arrives on `socket` (connected to the server) to `output` as a line (through
/// [`display_line`]), sends a ping every `keepalive` while `joined` is set, and
/// returns once `stop` is set: it looks at the flag at least every 100 ms.
pub fn receive(
    socket: UdpSocket,
    name: &str,
    mut output: impl Write,
    keepalive: Duration,
    stop: &AtomicBool,
    joined: &AtomicBool,
) -> io::Result<()> {
    // TODO: a read timeout of 100 ms (or `keepalive`, if that is shorter, but never
    // zero), so the loop can look at `stop`; until it is
    // set: ping (with `send`) when `keepalive` has passed and `joined` is set;
    // receive one datagram and print what `display_line` makes of it. Timeouts and
    // "refused" (the server is down for a moment) are no reason to stop.
    todo!()
}
// ANCHOR_END: receive

// ANCHOR: run_client
/// Step 8.3b: chats through the server at `server` as `name`: each line of `input` is
/// sent (`q` quits, `/leave` leaves, `/join NAME` joins again), and every message
/// received is written to `output` as a line. A ping goes to the server every
/// `keepalive`.
pub fn run_client(
    socket: UdpSocket,
    server: SocketAddr,
    name: &str,
    mut input: impl BufRead,
    output: impl Write + Send + 'static,
    keepalive: Duration,
) -> io::Result<()> {
    // TODO: connect and join, then `check_server_answers`; run `receive` on a thread
    // (a try_clone of the socket, shared `stop` and `joined` flags); send each input
    // line from `next_line` (a line it refuses: say why on stderr and go on; `q`
    // quits, `/leave`, `/join NAME`; after /leave send nothing until /join); at the
    // end leave (if still in), set `stop` and wait for the thread.
    todo!()
}

// ANCHOR_END: run_client
