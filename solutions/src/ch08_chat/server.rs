//! Exercises 8.2 and 8.4: the relay server.
//!
//! Scenario: article C's server remembers every address it hears from and forwards
//! each message to all the others. Goal (8.2): [`Relay::on_datagram`] remembers the
//! sender and returns what to send to whom: every other member, never the sender; a
//! client that never spoke the course's format gets a plain-text line it can print;
//! joins, leaves and keepalive pings are handled here too; a name belongs to the
//! member who joined with it, and a full chat takes no newcomer. Goal (8.4):
//! [`Relay::forget_silent`] for clients that vanished without a word. (Given: the
//! rate limit, [`Relay::admit`], which the server asks first.) The tests call the
//! relay directly, then run it on a socket with many clients, garbage and 1,000
//! messages among 20 clients (through the given [`run_server`](super::run_server),
//! which proves each newcomer's address first: see `serve`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{
    ChatMessage, Kind, ParseError, Payload, escape_for_screen, mark_blank_runs,
    now_ms, parse,
};

/// The default maximum number of members (`--max-members`).
pub const DEFAULT_MAX_MEMBERS: usize = 64;

/// The default rate limit per sender, in datagrams per second (`--rate`); also the
/// burst.
pub const DEFAULT_RATE: f64 = 100.0;

/// The time as the relay needs it: a monotonic clock for silences, the wall clock to
/// stamp plain text, which arrives without a timestamp.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub instant: Instant,
    pub unix_ms: u64,
}

impl Now {
    /// This moment.
    pub fn current() -> Now {
        Now {
            instant: Instant::now(),
            unix_ms: now_ms(),
        }
    }
}

/// A token bucket: it fills at `rate` tokens a second up to `burst`; each datagram
/// takes one, and a datagram that finds the bucket empty is dropped. A sender may
/// send `burst` datagrams at once, and `rate` a second for ever, but no more.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate: f64, burst: f64, now: Instant) -> Self {
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes a token if there is one.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What the relay counted; the server prints it when it stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Datagrams received.
    pub received: u64,
    /// Messages relayed (each to every other member).
    pub relayed: u64,
    /// Datagrams dropped by the rate limit, unread.
    pub rate_limited: u64,
    /// Datagrams refused: malformed, a name taken, the chat full.
    pub refused: u64,
    /// Datagrams dropped because their sender already had its quota waiting in the
    /// queue (the relay was too busy to take them).
    pub busy: u64,
    /// Cookies sent to addresses not yet proven (see `serve`).
    pub cookies: u64,
}

/// What the relay knows about one client.
#[derive(Debug, Clone)]
struct Member {
    /// The name it joined with; a client without the format goes by its address.
    name: String,
    /// Sent a datagram in the course's format at least once.
    speaks_format: bool,
    last_heard: Instant,
    /// Its rate limit.
    bucket: TokenBucket,
}

// ANCHOR: relay
/// The members of the chat, by address.
#[derive(Debug, Clone)]
pub struct Relay {
    members: BTreeMap<SocketAddr, Member>,
    pub(super) silence_limit: Duration,
    max_members: usize,
    rate: f64,
    /// One bucket shared by every address that is not a member: a stream of datagrams
    /// from many (perhaps forged) addresses is limited as a whole.
    strangers: TokenBucket,
    pub(super) counters: Counters,
    last_logged: Option<Instant>,
}

impl Relay {
    /// A relay that forgets members silent for longer than `silence_limit`.
    pub fn new(silence_limit: Duration) -> Self {
        Relay {
            members: BTreeMap::new(),
            silence_limit,
            max_members: DEFAULT_MAX_MEMBERS,
            rate: DEFAULT_RATE,
            strangers: TokenBucket::new(DEFAULT_RATE, DEFAULT_RATE, Instant::now()),
            counters: Counters::default(),
            last_logged: None,
        }
    }

    /// At most `max_members` members; each sender may send `rate` datagrams a second.
    pub fn with_limits(mut self, max_members: usize, rate: f64) -> Self {
        self.max_members = max_members;
        self.rate = rate;
        self.strangers = TokenBucket::new(rate, rate, Instant::now());
        self
    }

    /// The addresses of the current members.
    pub fn members(&self) -> Vec<SocketAddr> {
        self.members.keys().copied().collect()
    }
    // ANCHOR_END: relay

    /// What has been counted so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Whether `addr` is a member (and so has proved its address).
    pub fn is_member(&self, addr: SocketAddr) -> bool {
        self.members.contains_key(&addr)
    }

    /// The name of the member at `addr`.
    pub fn name_of(&self, addr: SocketAddr) -> Option<&str> {
        self.members.get(&addr).map(|m| m.name.as_str())
    }

    /// The names of the members other than `addr`.
    pub fn names_but(&self, addr: SocketAddr) -> impl Iterator<Item = &str> {
        self.members
            .iter()
            .filter(move |(a, _)| **a != addr)
            .map(|(_, m)| m.name.as_str())
    }

    /// The rate limit, before anything else: whether a datagram from `from` may be
    /// read. A refusal says whether to log it: at most once a second, or the log
    /// floods too.
    pub fn admit(&mut self, from: SocketAddr, now: Instant) -> Result<(), bool> {
        self.counters.received += 1;
        let bucket = match self.members.get_mut(&from) {
            Some(member) => &mut member.bucket,
            None => &mut self.strangers,
        };
        if bucket.take(now) {
            return Ok(());
        }
        self.counters.rate_limited += 1;
        let log = self.last_logged.is_none_or(|at| {
            now.saturating_duration_since(at) >= Duration::from_secs(1)
        });
        if log {
            self.last_logged = Some(now);
        }
        Err(log)
    }

    /// A new member called `name`, heard `now`.
    fn new_member(&self, name: &str, now: Instant) -> Member {
        Member {
            name: name.to_string(),
            speaks_format: false,
            last_heard: now,
            bucket: TokenBucket::new(self.rate, self.rate, now),
        }
    }

    // ANCHOR: on_datagram
    /// Handles one datagram from `from`; returns the datagrams to send, and to whom.
    /// A malformed datagram, a name that belongs to another member or a newcomer to a
    /// full chat is an error, and nothing is sent.
    pub fn on_datagram(
        &mut self,
        from: SocketAddr,
        datagram: &[u8],
        now: Now,
    ) -> Result<Vec<(SocketAddr, Vec<u8>)>, ParseError> {
        let payload = parse(datagram)?;
        let is_ping = matches!(&payload, Payload::Chat(m) if m.kind == Kind::Ping);
        if is_ping && !self.members.contains_key(&from) {
            return Ok(Vec::new()); // a ping keeps a member; it does not make one
        }
        let speaks_format = matches!(payload, Payload::Chat(_));
        // Plain text has no name or time: the sender's address and the relay's clock.
        let message = match payload {
            Payload::Chat(message) => message,
            Payload::Plain(bytes) => ChatMessage::new(
                Kind::Msg,
                now.unix_ms,
                &from.to_string(),
                &String::from_utf8_lossy(&bytes),
            ),
        };
        // A name belongs to the address that holds it, as long as that member is
        // here; a name that is an address (plain text goes by it) belongs to that
        // address.
        let held = self
            .members
            .iter()
            .any(|(addr, member)| *addr != from && member.name == message.name);
        let other_address =
            message.name.parse::<SocketAddr>().is_ok_and(|a| a != from);
        if held || other_address {
            return Err(ParseError::NameTaken(message.name));
        }
        if !self.members.contains_key(&from) && self.members.len() >= self.max_members
        {
            return Err(ParseError::ChatFull(self.max_members));
        }
        let fresh = self.new_member(&message.name, now.instant);
        let member = self.members.entry(from).or_insert(fresh);
        member.last_heard = now.instant;
        member.name = message.name.clone();
        member.speaks_format |= speaks_format;
        if message.kind == Kind::Ping {
            // A keepalive only proves the sender is still there.
            return Ok(Vec::new());
        }
        let sends = self.to_all_but(from, &message);
        if message.kind == Kind::Leave {
            self.members.remove(&from);
        }
        Ok(sends)
    }

    /// `message` for every member except `from`, in the form each can read.
    fn to_all_but(
        &self,
        from: SocketAddr,
        message: &ChatMessage,
    ) -> Vec<(SocketAddr, Vec<u8>)> {
        let formatted = message.encode();
        let plain = plain_text(message).into_bytes();
        self.members
            .iter()
            .filter(|(addr, _)| **addr != from)
            .map(|(addr, member)| {
                (
                    *addr,
                    if member.speaks_format {
                        formatted.clone()
                    } else {
                        plain.clone()
                    },
                )
            })
            .collect()
    }
    // ANCHOR_END: on_datagram
    // ANCHOR: forget_silent
    /// Forgets the members not heard from for longer than the silence limit; returns
    /// them.
    pub fn forget_silent(&mut self, now: Instant) -> Vec<SocketAddr> {
        let limit = self.silence_limit;
        let silent: Vec<SocketAddr> = self
            .members
            .iter()
            .filter(|(_, member)| {
                now.saturating_duration_since(member.last_heard) > limit
            })
            .map(|(addr, _)| *addr)
            .collect();
        for addr in &silent {
            self.members.remove(addr);
        }
        silent
    }
    // ANCHOR_END: forget_silent
}

/// How a client without the course's format (article C's, which prints what it gets
/// as it is) sees a message: one line, control characters escaped, long runs of
/// blanks marked.
fn plain_text(message: &ChatMessage) -> String {
    let name = escape_for_screen(&message.name);
    match message.kind {
        Kind::Join => format!("* {name} joined"),
        Kind::Leave => format!("* {name} left"),
        _ => format!(
            "{name}: {}",
            mark_blank_runs(&escape_for_screen(&message.text))
        ),
    }
}
