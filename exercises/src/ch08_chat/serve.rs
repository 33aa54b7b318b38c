//! Given (not an exercise): the chat server's socket loop, [`run_server`].
//!
//! Two rules shape it; both come from "an address is not an identity".
//!
//! **The port is the server's alone.** The socket is bound without `SO_REUSEADDR` or
//! `SO_REUSEPORT`, so no other process can bind the same port and take the datagrams
//! meant for the server (on Linux its bind fails with "address in use"). One socket
//! serves every member; what keeps a flooder from crowding out the others is done in
//! user space, in two stages:
//! 1. a reading thread empties the socket as fast as it can into one queue, in
//!    arrival order, where each sender may have at most [`QUOTA`] datagrams waiting:
//!    a flooder's surplus is dropped there, after one lookup and before any copy, and
//!    counted (`busy`);
//! 2. the relay's thread takes the queue in order and asks [`Relay::admit`] (the rate
//!    limit per sender) before it reads anything.
//!
//! Nothing else is shared: adding fairness between senders or admission limits means
//! changing only how the reading thread queues and how the relay's thread picks.
//!
//! **A newcomer proves its address first.** A join (or a message) from an address
//! that is not a member is answered with a cookie ([`course_given::cookie`]), at most
//! three times its size; only the cookie coming back makes a member. A forged join
//! therefore costs its victim one small datagram, never the chat's traffic. Plain
//! text (article C's own client, which cannot answer a cookie) is admitted as before
//! only with [`ServeOptions::plain_ok`] (`chat-server --plain-ok`).
//!
//! **A new name follows the profile** ([`course_given::names`]): visible characters
//! only, one script (or Latin with Japanese), and not confusable with the name of
//! another member present.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use course_given::cookie::{self, CookieKey};
use course_given::names::{self, NameProblem};

use super::{Counters, Kind, Now, Payload, Relay, display_line, parse};

/// The most datagrams one sender may have waiting for the relay.
pub const QUOTA: usize = 64;

/// The most datagrams waiting for the relay, from everyone together.
pub const QUEUE: usize = 4096;

/// How the server treats newcomers.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServeOptions {
    /// Admit plain text from an unproven address, as article C's server does (its
    /// client cannot answer a cookie). A forged source then receives the chat: use
    /// it with the article's client only.
    pub plain_ok: bool,
}

/// What the reading thread hands to the relay's thread.
#[derive(Default)]
struct Waiting {
    queue: VecDeque<(SocketAddr, Vec<u8>)>,
    /// How many datagrams of each sender are in `queue` (no entry: none).
    per_sender: HashMap<SocketAddr, usize>,
    /// Dropped over a quota.
    busy: u64,
    /// The socket failed; the reading thread has stopped.
    failed: Option<io::Error>,
}

#[derive(Default)]
struct Inbox {
    waiting: Mutex<Waiting>,
    arrived: Condvar,
}

/// Runs `relay` on `socket` with the default [`ServeOptions`] (cookies for every
/// newcomer); see [`run_server_with`].
pub fn run_server(
    socket: &UdpSocket,
    relay: Relay,
    stop: &AtomicBool,
    show: impl FnMut(String),
) -> io::Result<Counters> {
    run_server_with(socket, relay, ServeOptions::default(), stop, show)
}

/// Runs `relay` on `socket` until `stop` is set or the socket fails, and returns what
/// it counted: proves each newcomer's address with a cookie, relays every datagram,
/// reports each relayed message to `show` and each refused datagram on stderr, drops
/// what a sender sends over its quota or the rate limit, and forgets silent members.
/// (Given: it uses your `parse`, `on_datagram` and `forget_silent`.)
pub fn run_server_with(
    socket: &UdpSocket,
    mut relay: Relay,
    options: ServeOptions,
    stop: &AtomicBool,
    mut show: impl FnMut(String),
) -> io::Result<Counters> {
    let key = CookieKey::random()?;
    let inbox = Arc::new(Inbox::default());
    let reading = Arc::new(AtomicBool::new(true));
    let reader = {
        let socket = socket.try_clone()?;
        socket.set_read_timeout(Some(Duration::from_millis(200)))?;
        let (inbox, reading) = (Arc::clone(&inbox), Arc::clone(&reading));
        thread::spawn(move || read_into(&socket, &inbox, &reading))
    };
    let mut last_sweep = Instant::now();
    let mut result = Ok(());
    while !stop.load(Ordering::Relaxed) {
        if last_sweep.elapsed() >= Duration::from_millis(200) {
            last_sweep = Instant::now();
            for gone in relay.forget_silent(last_sweep) {
                eprintln!(
                    "forgot {gone}: silent for more than {} s",
                    relay.silence_limit.as_secs_f64()
                );
            }
        }
        let (from, bytes) = {
            let Ok(mut waiting) = inbox.waiting.lock() else {
                break;
            };
            if waiting.queue.is_empty() {
                waiting = match inbox
                    .arrived
                    .wait_timeout(waiting, Duration::from_millis(200))
                {
                    Ok((waiting, _)) => waiting,
                    Err(_) => break,
                };
            }
            if let Some(e) = waiting.failed.take() {
                result = Err(e);
                break;
            }
            let Some((from, bytes)) = waiting.queue.pop_front() else {
                continue;
            };
            if let Some(count) = waiting.per_sender.get_mut(&from) {
                *count -= 1;
                if *count == 0 {
                    waiting.per_sender.remove(&from);
                }
            }
            (from, bytes)
        };
        // The rate limit comes first and costs one lookup: a flood is dropped unread.
        if let Err(log) = relay.admit(from, Instant::now()) {
            if log {
                eprintln!(
                    "rate limit: dropped a datagram from {from} ({} dropped so far)",
                    relay.counters.rate_limited
                );
            }
            continue;
        }
        let now = Now::current();
        let Some(datagram) =
            prove(socket, &mut relay, &key, options, from, &bytes, now)
        else {
            continue;
        };
        if let Err(problem) = check_name(&relay, from, datagram) {
            relay.counters.refused += 1;
            eprintln!(
                "refused {} bytes from {from}: the name: {problem}",
                bytes.len()
            );
            continue;
        }
        match relay.on_datagram(from, datagram, now) {
            Ok(sends) => {
                relay.counters.relayed += 1;
                if let Some(line) =
                    parse(datagram).ok().and_then(|p| display_line(&p, from))
                {
                    show(line);
                }
                for (to, bytes) in sends {
                    // A vanished client only loses its copy; the others still get
                    // theirs.
                    let _ = socket.send_to(&bytes, to);
                }
            }
            Err(e) => {
                relay.counters.refused += 1;
                eprintln!("refused {} bytes from {from}: {e}", bytes.len());
            }
        }
    }
    reading.store(false, Ordering::Relaxed);
    let _ = reader.join();
    if let Ok(waiting) = inbox.waiting.lock() {
        relay.counters.busy = waiting.busy;
    }
    result.map(|()| relay.counters)
}

/// The reading thread: empties the socket into the inbox, at most [`QUOTA`]
/// datagrams per sender and [`QUEUE`] in all.
fn read_into(socket: &UdpSocket, inbox: &Inbox, reading: &AtomicBool) {
    let mut buf = vec![0u8; 65_536];
    while reading.load(Ordering::Relaxed) {
        let (len, from) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            // A timeout (time to look at the flag), or an ICMP error about one client
            // (Windows): keep serving.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            Err(e) => {
                if let Ok(mut waiting) = inbox.waiting.lock() {
                    waiting.failed = Some(e);
                }
                inbox.arrived.notify_one();
                return;
            }
        };
        let Ok(mut waiting) = inbox.waiting.lock() else {
            return;
        };
        let queued = waiting.queue.len();
        let count = waiting.per_sender.get(&from).copied().unwrap_or(0);
        if count >= QUOTA || queued >= QUEUE {
            waiting.busy += 1;
            continue;
        }
        waiting.per_sender.insert(from, count + 1);
        waiting.queue.push_back((from, buf[..len].to_vec()));
        drop(waiting);
        inbox.arrived.notify_one();
    }
}

/// Return routability: what of `bytes` from `from` the relay may handle, if anything.
/// A member's datagram goes through; a cookie that opens gives back the datagram it
/// answered; a newcomer's join or message gets a cookie instead (at most three times
/// its size) and goes nowhere yet.
fn prove<'a>(
    socket: &UdpSocket,
    relay: &mut Relay,
    key: &CookieKey,
    options: ServeOptions,
    from: SocketAddr,
    bytes: &'a [u8],
    now: Now,
) -> Option<&'a [u8]> {
    let unix_secs = now.unix_ms / 1000;
    if cookie::is_cookie(bytes) {
        let opened = key.open(from, bytes, unix_secs);
        if opened.is_none() {
            relay.counters.refused += 1;
            eprintln!(
                "refused {} bytes from {from}: a cookie that does not open (forged, altered, \
                 for another address or older than {} s)",
                bytes.len(),
                2 * cookie::SLOT_SECONDS
            );
        }
        return opened;
    }
    if relay.is_member(from) {
        return Some(bytes);
    }
    let refuse = |relay: &mut Relay, why: &str| {
        relay.counters.refused += 1;
        eprintln!("refused {} bytes from {from}: {why}", bytes.len());
    };
    match parse(bytes) {
        Ok(Payload::Chat(m)) if matches!(m.kind, Kind::Join | Kind::Msg) => {
            match key.cookie(from, bytes, unix_secs) {
                Some(answer) => {
                    relay.counters.cookies += 1;
                    let _ = socket.send_to(&answer, from);
                }
                None => refuse(
                    relay,
                    "too short to answer with a cookie (at most 3x what an unproven \
                     address sent)",
                ),
            }
            None
        }
        // A ping or a leave from a stranger: nothing to keep, nothing to announce.
        Ok(Payload::Chat(_)) => None,
        Ok(Payload::Plain(_)) if options.plain_ok => Some(bytes),
        Ok(Payload::Plain(_)) => {
            refuse(
                relay,
                "plain text from an address not in the chat (it cannot answer a cookie; \
                 start the server with --plain-ok to admit it)",
            );
            None
        }
        Err(e) => {
            refuse(relay, &e.to_string());
            None
        }
    }
}

/// The name profile, for a name new at `from` (a join, or a member's new name): rules
/// 1 to 3 of [`course_given::names`], and no confusion with another member's name.
fn check_name(
    relay: &Relay,
    from: SocketAddr,
    datagram: &[u8],
) -> Result<(), NameProblem> {
    let Ok(Payload::Chat(message)) = parse(datagram) else {
        return Ok(()); // plain text goes by its address; a malformed datagram is refused later
    };
    if relay.name_of(from) == Some(message.name.as_str()) {
        return Ok(());
    }
    names::check(&message.name)?;
    names::not_confusable(&message.name, relay.names_but(from))
}
