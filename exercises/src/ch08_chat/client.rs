//! Exercise 8.3: the chat client.
//!
//! Scenario: article C's client must wait for two things at once, the keyboard and the
//! network, so it reads the network on a second thread. Goal: join, send every line typed,
//! print every line received as it comes, keep the membership alive with pings, and on `q` or
//! end of input say goodbye and stop the receiving thread.
//! The tests play the server: they check the join, the messages, the pings, the lines printed,
//! the `/leave` and `/join` commands, and that the client returns once its input ends.

use std::io::{self, BufRead, Write};
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{Local, TimeZone};

use super::{ChatMessage, Kind, MAX_DATAGRAM, Payload, parse, validate_name};

/// Milliseconds since 1970-01-01 UTC, by this machine's clock.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `[HH:MM:SS]` in local time; a time no calendar can show is shown as the raw number.
fn clock(timestamp_ms: u64) -> String {
    match i64::try_from(timestamp_ms)
        .ok()
        .and_then(|ms| Local.timestamp_millis_opt(ms).single())
    {
        Some(time) => time.format("[%H:%M:%S]").to_string(),
        None => format!("[t={timestamp_ms}]"),
    }
}

/// How a received datagram is shown: `[HH:MM:SS] name: text`, joins and leaves as `* name
/// joined`, plain text under the address it came `from` (a course server sends plain text
/// only to clients that never spoke the format); pings are not shown. The time is the
/// sender's, as received: a wrong clock shows, but nothing is ordered by it.
pub fn display_line(payload: &Payload, from: SocketAddr) -> Option<String> {
    match payload {
        Payload::Chat(m) => match m.kind {
            Kind::Msg => Some(format!("{} {}: {}", clock(m.timestamp_ms), m.name, m.text)),
            Kind::Join => Some(format!("{} * {} joined", clock(m.timestamp_ms), m.name)),
            Kind::Leave => Some(format!("{} * {} left", clock(m.timestamp_ms), m.name)),
            Kind::Ping => None,
        },
        Payload::Plain(bytes) => Some(format!(
            "{} {from}: {}",
            clock(now_ms()),
            String::from_utf8_lossy(bytes)
        )),
    }
}

// ANCHOR: run_client
/// Chats through the server at `server` as `name`: each line of `input` is sent (`q` quits,
/// `/leave` leaves, `/join NAME` joins again), and every message received is written to
/// `output` as a line. A ping goes to the server every `keepalive`.
pub fn run_client(
    socket: UdpSocket,
    server: SocketAddr,
    name: &str,
    input: impl BufRead,
    output: impl Write + Send + 'static,
    keepalive: Duration,
) -> io::Result<()> {
    // TODO: connect and join; start a thread that prints what arrives (and sends a ping every
    // `keepalive`, but not after /leave) until told to stop; send each input line (`q` quits,
    // `/leave`, `/join NAME`; after /leave send nothing until /join); at the end leave (if
    // still in), stop the thread and wait for it.
    todo!()
}
// ANCHOR_END: run_client
