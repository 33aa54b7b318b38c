//! The chat server's socket loop, [`serve`].
//!
//! Two rules shape it; both come from "an address is not an identity".
//!
//! **The port is the server's alone.** The socket is bound without `SO_REUSEADDR` or
//! `SO_REUSEPORT`, so no other process can bind the same port and take the datagrams
//! meant for the server (on Linux its bind fails with "address in use"). One socket
//! serves every member; what keeps a flooder from crowding out the others is done in
//! user space, in three stages:
//! 1. a reading thread empties the socket as fast as it can into the [`Inbox`]: a queue
//!    per sender, each with a quota; a flooder's surplus is dropped there, after one
//!    lookup and before any copy, and counted (`busy`);
//! 2. the relay's thread takes the senders' queues in turn (round robin: source
//!    addresses take turns, and the ports of one address), so a quiet member's message
//!    waits for one datagram of each busy address, not for everything they sent first;
//! 3. it asks the rate limit before it reads anything: a member's own (the relay's
//!    `admit`), or, for an address that is not a member, that address's allowance
//!    ([`Newcomers`]): one flooding address cannot use up the allowance of the others.
//!
//! **A newcomer proves its address first.** A join (or a message) from an address
//! that is not a member is answered with a cookie ([`crate::cookie`]), at most
//! three times its size; only the cookie coming back makes a member, and each cookie
//! works once. A forged join therefore costs its victim one small datagram, never the
//! chat's traffic. Plain
//! text (article C's own client, which cannot answer a cookie) is admitted as before
//! only with [`ServeOptions::plain_ok`] (`chat-server --plain-ok`). A proven newcomer
//! is told the verdict ([`Verdict`]): welcome, or refused and why: the chat is full, its
//! address has [`ServeOptions::max_per_address`] members already, or the name.
//!
//! **A new name follows the profile** ([`crate::names`]): visible characters
//! only, one script (or Latin with Japanese), and not confusable with the name of
//! another member present.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::admission::{Newcomers, Reason, Verdict};
use super::inbox::{Inbox, LARGEST};
use super::{ChatKind, ChatRelay, Count, Datagram, Refusal, ServeOptions};
use crate::cookie::{self, CookieKey};
use crate::log::{self, Every};
use crate::names::{self, NameProblem};

/// The kinds of line the loop writes, each at most once a second ([`Every`]): a flood of
/// refusals is one line a second on stderr, written by the logging thread ([`crate::log`]),
/// so a stderr nobody reads never stops the relay.
#[derive(Default)]
struct Logs {
    refused: Every,
    stranger: Every,
    cookie: Every,
    rate: Every,
}

/// The cookie key, and the cookies that already made a newcomer's datagram go through:
/// each works once. (A cookie is valid for up to 60 s: without this, one sent back again
/// after a leave would rejoin, or one that wrapped a message would send it again.) The
/// set holds the cookies of the last 60 s; they come at most at the newcomers' total rate.
struct Proofs {
    key: CookieKey,
    used: HashMap<Vec<u8>, u64>,
}

impl Proofs {
    /// Forgets the cookies too old to open anyway.
    fn sweep(&mut self, unix_secs: u64) {
        let valid = 2 * cookie::SLOT_SECONDS;
        self.used
            .retain(|_, at| unix_secs.saturating_sub(*at) <= valid);
    }
}

#[derive(Default)]
struct Shared {
    inbox: Mutex<Inbox>,
    arrived: Condvar,
}

/// Runs `relay` on `socket` until `stop` is set or the socket fails: proves each
/// newcomer's address with a cookie and tells it the verdict, relays every datagram,
/// reports each relayed message to `show` and refused datagrams on stderr (at most a line a
/// second of each kind, through [`crate::log`]: it never waits for stderr), drops what
/// a sender sends over its quota or its rate limit, and forgets silent members. What it
/// counted is in the relay's counters.
pub fn serve<R: ChatRelay>(
    socket: &UdpSocket,
    relay: &mut R,
    options: ServeOptions,
    stop: &AtomicBool,
    mut show: impl FnMut(String),
) -> io::Result<()> {
    let mut proofs = Proofs {
        key: CookieKey::random()?,
        used: HashMap::new(),
    };
    let mut newcomers = Newcomers::new(options.newcomer_rate);
    let shared = Arc::new(Shared::default());
    let reading = Arc::new(AtomicBool::new(true));
    let reader = {
        let socket = socket.try_clone()?;
        socket.set_read_timeout(Some(Duration::from_millis(200)))?;
        let (shared, reading) = (Arc::clone(&shared), Arc::clone(&reading));
        thread::spawn(move || read_into(&socket, &shared, &reading))
    };
    let mut last_sweep = Instant::now();
    let mut logs = Logs::default();
    let mut last_oversize: Option<Instant> = None;
    let mut result = Ok(());
    while !stop.load(Ordering::Relaxed) {
        if last_sweep.elapsed() >= Duration::from_millis(200) {
            last_sweep = Instant::now();
            newcomers.sweep(last_sweep);
            proofs.sweep(unix_secs());
            for gone in relay.forget_silent(last_sweep) {
                log::line(format!(
                    "forgot {gone}: silent for more than {} s",
                    relay.silence_limit().as_secs_f64()
                ));
            }
        }
        let (from, bytes) = {
            let Ok(mut inbox) = shared.inbox.lock() else {
                break;
            };
            if inbox.is_empty() {
                inbox = match shared
                    .arrived
                    .wait_timeout(inbox, Duration::from_millis(200))
                {
                    Ok((inbox, _)) => inbox,
                    Err(_) => break,
                };
            }
            if let Some(e) = inbox.failed.take() {
                result = Err(e);
                break;
            }
            // Counted and said at most once a second: a flood of them floods no log.
            let quiet =
                last_oversize.is_none_or(|at| at.elapsed() >= Duration::from_secs(1));
            if inbox.oversize > 0 && quiet {
                last_oversize = Some(Instant::now());
                let oversize = std::mem::take(&mut inbox.oversize);
                for _ in 0..oversize {
                    relay.count(Count::Refused);
                }
                log::line(format!(
                    "refused {oversize} datagram(s) of more than {LARGEST} bytes (no chat \
                     datagram is that large)"
                ));
            }
            let Some(next) = inbox.pop() else {
                continue;
            };
            next
        };
        // The rate limit comes first and costs one lookup: a flood is dropped unread.
        let now = Instant::now();
        let admitted = if relay.is_member(from) {
            relay.admit(from, now)
        } else {
            relay.count(Count::Received);
            match newcomers.admit(from, now) {
                true => Ok(()),
                false => {
                    relay.count(Count::RateLimited);
                    Err(true)
                }
            }
        };
        if let Err(say) = admitted {
            if say {
                let dropped = relay.rate_limited();
                logs.rate.say(now, || {
                    format!("rate limit: dropped a datagram from {from} ({dropped} dropped so far)")
                });
            }
            continue;
        }
        handle(
            socket,
            relay,
            &mut proofs,
            options,
            from,
            &bytes,
            &mut logs,
            &mut show,
        );
    }
    reading.store(false, Ordering::Relaxed);
    let _ = reader.join();
    if let Ok(inbox) = shared.inbox.lock() {
        relay.count(Count::Busy(inbox.busy));
        for _ in 0..inbox.oversize {
            relay.count(Count::Refused);
        }
    }
    result
}

/// One datagram that passed the rate limit: proved, admitted, relayed.
#[allow(clippy::too_many_arguments)]
fn handle<R: ChatRelay>(
    socket: &UdpSocket,
    relay: &mut R,
    proofs: &mut Proofs,
    options: ServeOptions,
    from: SocketAddr,
    bytes: &[u8],
    logs: &mut Logs,
    show: &mut impl FnMut(String),
) {
    let unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let Some((datagram, proven)) =
        prove(socket, relay, proofs, options, from, bytes, unix_ms, logs)
    else {
        return;
    };
    let newcomer = !relay.is_member(from);
    // A proven newcomer hears the verdict; nobody else is sent one (an unproven
    // address is sent nothing, a member's client knows it is in).
    let tell = |verdict: Verdict| {
        if proven && newcomer {
            let _ = socket.send_to(&verdict.encode(), from);
        }
    };
    let mut refuse = |relay: &mut R, reason: Reason, why: &dyn std::fmt::Display| {
        relay.count(Count::Refused);
        logs.refused.say(Instant::now(), || {
            format!("refused {} bytes from {from}: {why}", bytes.len())
        });
        tell(Verdict::Refused(reason));
    };
    let read = relay.read(datagram);
    let joins = matches!(
        read,
        Ok(Datagram::Plain
            | Datagram::Chat {
                kind: ChatKind::Join | ChatKind::Msg,
                ..
            })
    );
    if newcomer && joins {
        let max = options.max_per_address;
        let here = relay
            .members()
            .iter()
            .filter(|a| a.ip() == from.ip())
            .count();
        if here >= max {
            let why = format!(
                "its address has {here} members, the most one address may have"
            );
            return refuse(relay, Reason::Address(max), &why);
        }
    }
    if let Ok(Datagram::Chat { name, .. }) = &read
        && let Err(problem) = check_name(relay, from, name)
    {
        return refuse(relay, Reason::Name, &format!("the name: {problem}"));
    }
    match relay.on_datagram(from, datagram, Instant::now(), unix_ms) {
        Ok(sends) => {
            relay.count(Count::Relayed);
            if relay.is_member(from) {
                tell(Verdict::Welcome);
            }
            if let Some(line) = relay.show(datagram, from) {
                show(line);
            }
            for (to, bytes) in sends {
                // A vanished client only loses its copy; the others still get theirs.
                let _ = socket.send_to(&bytes, to);
            }
        }
        Err(refusal) => {
            let (reason, why) = match refusal {
                Refusal::Full(max) => (
                    Reason::Full(max),
                    format!("the chat is full ({max} members)"),
                ),
                Refusal::NameTaken(name) => (
                    Reason::Name,
                    format!("the name {name:?} belongs to another member"),
                ),
                Refusal::Other(why) => (Reason::Name, why),
            };
            refuse(relay, reason, &why);
        }
    }
}

/// The reading thread: empties the socket into the inbox, within its quotas.
fn read_into(socket: &UdpSocket, shared: &Shared, reading: &AtomicBool) {
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
                if let Ok(mut inbox) = shared.inbox.lock() {
                    inbox.failed = Some(e);
                }
                shared.arrived.notify_one();
                return;
            }
        };
        let Ok(mut inbox) = shared.inbox.lock() else {
            return;
        };
        if inbox.push(from, &buf[..len]) {
            drop(inbox);
            shared.arrived.notify_one();
        }
    }
}

/// Return routability: what of `bytes` from `from` the relay may handle, if anything, and
/// whether it came back with a cookie (its address is proven). A member's datagram goes
/// through; a cookie that opens gives back the datagram it answered; a newcomer's join or
/// message gets a cookie instead (at most three times its size) and goes nowhere yet.
#[allow(clippy::too_many_arguments)]
fn prove<'a, R: ChatRelay>(
    socket: &UdpSocket,
    relay: &mut R,
    proofs: &mut Proofs,
    options: ServeOptions,
    from: SocketAddr,
    bytes: &'a [u8],
    unix_ms: u64,
    logs: &mut Logs,
) -> Option<(&'a [u8], bool)> {
    let now = Instant::now();
    let unix_secs = unix_ms / 1000;
    if cookie::is_cookie(bytes) {
        if relay.is_member(from) {
            return None; // proven already: a cookie sent back twice
        }
        let opened = proofs.key.open(from, bytes, unix_secs);
        if opened.is_some() {
            let mac = bytes[cookie::PREFIX.len()..][..cookie::MAC_HEX].to_vec();
            if proofs.used.insert(mac, unix_secs).is_some() {
                relay.count(Count::Refused);
                logs.cookie.say(now, || {
                    format!(
                        "refused {} bytes from {from}: a cookie already used",
                        bytes.len()
                    )
                });
                return None;
            }
        }
        if opened.is_none() {
            relay.count(Count::Refused);
            logs.cookie.say(now, || {
                format!(
                    "refused {} bytes from {from}: a cookie that does not open (forged, \
                     altered, for another address or older than {} s)",
                    bytes.len(),
                    2 * cookie::SLOT_SECONDS
                )
            });
        }
        return opened.map(|inner| (inner, true));
    }
    if relay.is_member(from) {
        return Some((bytes, false));
    }
    let mut refuse = |relay: &mut R, why: &str| {
        relay.count(Count::Refused);
        logs.stranger.say(now, || {
            format!("refused {} bytes from {from}: {why}", bytes.len())
        });
    };
    match relay.read(bytes) {
        Ok(Datagram::Chat {
            kind: ChatKind::Join | ChatKind::Msg,
            ..
        }) => {
            match proofs.key.cookie(from, bytes, unix_secs) {
                Some(answer) => {
                    relay.count(Count::Cookie);
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
        Ok(Datagram::Chat { .. }) => None,
        Ok(Datagram::Plain) if options.plain_ok => Some((bytes, false)),
        Ok(Datagram::Plain) => {
            refuse(
                relay,
                "plain text from an address not in the chat (it cannot answer a cookie; \
                 start the server with --plain-ok to admit it)",
            );
            None
        }
        Err(e) => {
            refuse(relay, &e);
            None
        }
    }
}

/// The name profile, for a name new at `from` (a join, or a member's new name): rules
/// 1 to 3 of [`crate::names`], and no confusion with another member's name.
fn check_name<R: ChatRelay>(
    relay: &R,
    from: SocketAddr,
    name: &str,
) -> Result<(), NameProblem> {
    if relay.name_of(from) == Some(name) {
        return Ok(());
    }
    names::check(name)?;
    names::not_confusable(name, relay.names_but(from))
}

/// Seconds since 1970-01-01 UTC, by this machine's clock.
fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
