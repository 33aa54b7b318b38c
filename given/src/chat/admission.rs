//! Who may join the chat, and what a newcomer is told.
//!
//! - [`Newcomers`]: the allowance of addresses that are not members, one per source
//!   address, and a cap on all of them together: a newcomer's join waits for no one
//!   else's flood. Its table is bounded ([`NEWCOMER_TABLE`] addresses); a newcomer to a
//!   full table takes the place of the address with the fullest bucket.
//! - [`Verdict`]: the server's answer to a newcomer whose address is proven (its cookie came
//!   back): `chat/1 welcome`, or `chat/1 refused REASON N`. The client shows a refusal, in
//!   the learner's language, and stops ([`check_server_answers`]).
//!
//! ```text
//! chat/1 welcome                <- you are a member now
//! chat/1 refused full 64        <- the chat has its 64 members
//! chat/1 refused address 16     <- your address has its 16 members
//! chat/1 refused name 0         <- the name is taken, or not allowed
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// The most source addresses with an allowance of their own (the table's memory is
/// bounded: about 40 bytes an address).
pub const NEWCOMER_TABLE: usize = 1024;

/// The most datagrams a second from all the addresses that are not members together
/// (at least the per-address rate): each may cost a cookie (a MAC and a send) or the
/// opening of one.
pub const NEWCOMERS_TOTAL: f64 = 1000.0;

/// What a quiet address may always send at once: its join, the cookie back, and a retry.
pub const NEWCOMER_BURST: f64 = 4.0;

/// The allowance of the addresses that are not members: a token bucket per source address
/// and one for all of them (see [`Newcomers::admit`]).
///
/// - The total is capped: [`NEWCOMERS_TOTAL`] a second (and as many at once).
/// - Each address's bucket fills at its fair share of half that total: the total divided
///   by twice the number of addresses in the table, at most the per-address rate. So the
///   addresses already sending can take at most about half the total, and the other half
///   is left for newcomers; a quiet address may always send [`NEWCOMER_BURST`] at once.
/// - The table holds at most [`NEWCOMER_TABLE`] addresses. A newcomer to a full table takes
///   the place of the address whose bucket is fullest: forgetting a full bucket costs its
///   address nothing (it would start with a full one), while the flooders, whose buckets
///   are empty, keep theirs. A table full of slow addresses cannot lock newcomers out.
#[derive(Debug)]
pub struct Newcomers {
    rate: f64,
    buckets: HashMap<IpAddr, Bucket>,
    /// All the addresses together.
    total: Bucket,
    total_rate: f64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn full(burst: f64, now: Instant) -> Bucket {
        Bucket {
            tokens: burst,
            last: now,
        }
    }

    /// The tokens at `now`: the bucket fills at `rate` a second up to `burst`.
    fn level(&self, rate: f64, burst: f64, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        (self.tokens + elapsed * rate).min(burst)
    }

    /// Takes a token if there is one.
    fn take(&mut self, rate: f64, burst: f64, now: Instant) -> bool {
        self.tokens = self.level(rate, burst, now);
        self.last = self.last.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

impl Newcomers {
    /// Each address may send `rate` datagrams a second (and `rate` at once) before it is a
    /// member, while few are sending; all together at most [`NEWCOMERS_TOTAL`] a second (or
    /// `rate`, if more).
    pub fn new(rate: f64) -> Self {
        let total_rate = NEWCOMERS_TOTAL.max(rate);
        Newcomers {
            rate,
            buckets: HashMap::new(),
            total: Bucket::full(total_rate, Instant::now()),
            total_rate,
        }
    }

    /// Each address's rate and burst now: its fair share of half the total.
    fn share(&self) -> (f64, f64) {
        let addresses = self.buckets.len().max(1) as f64;
        let rate = (self.total_rate / (2.0 * addresses)).min(self.rate);
        (rate, rate.max(NEWCOMER_BURST.min(self.rate)))
    }

    /// Whether a datagram from `from`, not a member, may be read: its address's bucket has
    /// a token, and so has the total.
    pub fn admit(&mut self, from: SocketAddr, now: Instant) -> bool {
        let ip = from.ip();
        if !self.buckets.contains_key(&ip) && self.buckets.len() >= NEWCOMER_TABLE {
            self.evict_fullest(now);
        }
        let (rate, burst) = self.share();
        let bucket = self
            .buckets
            .entry(ip)
            .or_insert_with(|| Bucket::full(burst, now));
        // A datagram the total refuses still costs its address a token: addresses that
        // keep trying drain their own buckets, not only the total.
        bucket.take(rate, burst, now)
            && self.total.take(self.total_rate, self.total_rate, now)
    }

    /// Makes room for one address: forgets the one whose bucket is fullest.
    fn evict_fullest(&mut self, now: Instant) {
        let (rate, burst) = self.share();
        let fullest = self
            .buckets
            .iter()
            .map(|(ip, bucket)| (*ip, bucket.level(rate, burst, now)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(ip, _)| ip);
        if let Some(ip) = fullest {
            self.buckets.remove(&ip);
        }
    }

    /// The addresses in the table (at most [`NEWCOMER_TABLE`]).
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Forgets the addresses quiet for a second or more.
    pub fn sweep(&mut self, now: Instant) {
        self.buckets.retain(|_, bucket| {
            now.saturating_duration_since(bucket.last) < Duration::from_secs(1)
        });
    }
}

/// The first bytes of every verdict.
pub const PREFIX: &[u8] = b"chat/1 ";

/// What the server says to a newcomer whose address is proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A member now.
    Welcome,
    /// Not admitted, and why.
    Refused(Reason),
}

/// Why a newcomer is not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The chat has its maximum number of members.
    Full(usize),
    /// The newcomer's source address has its maximum number of members.
    Address(usize),
    /// The name belongs to another member, looks like one, or is not allowed.
    Name,
}

impl Verdict {
    /// The datagram.
    pub fn encode(self) -> Vec<u8> {
        match self {
            Verdict::Welcome => "chat/1 welcome".to_string(),
            Verdict::Refused(Reason::Full(max)) => {
                format!("chat/1 refused full {max}")
            }
            Verdict::Refused(Reason::Address(max)) => {
                format!("chat/1 refused address {max}")
            }
            Verdict::Refused(Reason::Name) => "chat/1 refused name 0".to_string(),
        }
        .into_bytes()
    }

    /// The verdict in `datagram`, if it is one.
    pub fn parse(datagram: &[u8]) -> Option<Verdict> {
        if datagram == b"chat/1 welcome" {
            return Some(Verdict::Welcome);
        }
        let text =
            std::str::from_utf8(datagram.strip_prefix(b"chat/1 refused ")?).ok()?;
        let (reason, number) = text.split_once(' ')?;
        if number.is_empty()
            || number.len() > 9
            || !number.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let number: usize = number.parse().ok()?;
        Some(Verdict::Refused(match reason {
            "full" => Reason::Full(number),
            "address" => Reason::Address(number),
            "name" => Reason::Name,
            _ => return None,
        }))
    }
}

impl fmt::Display for Reason {
    /// In the learner's language (the catalog's `chat.refused.*`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Reason::Full(max) => {
                course_catalog::fill("chat.refused.full", &[("max", max)])
            }
            Reason::Address(max) => {
                course_catalog::fill("chat.refused.address", &[("max", max)])
            }
            Reason::Name => course_catalog::text("chat.refused.name").to_string(),
        };
        f.write_str(&text)
    }
}

impl std::error::Error for Reason {}

/// How long [`check_server_answers`] waits for each of the server's answers.
pub const ANSWER_WAIT: Duration = Duration::from_secs(1);

/// After the join: waits up to [`ANSWER_WAIT`] for the server's first answer. A cookie is
/// sent back unchanged (the server admits a newcomer only once it has proved that it
/// receives at its address, see `course_given::cookie`), and then the verdict is awaited
/// as long again: a welcome is taken off the socket; a refusal is an error of kind
/// `PermissionDenied` whose inner error is the [`Reason`] (shown in the learner's
/// language). On this machine, a server that is not there answers at once with an ICMP
/// "port unreachable", which a connected socket reports as `ConnectionRefused` (Windows:
/// `ConnectionReset`): that is an error. Any other answer (a message, or none in time: a
/// server that asks no cookie) is left for the receiving thread.
pub fn check_server_answers(socket: &UdpSocket) -> io::Result<()> {
    let mut buf = vec![0u8; 4096];
    let mut answered_cookie = false;
    let mut deadline = Instant::now() + ANSWER_WAIT;
    loop {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return Ok(());
        };
        socket.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
        let len = match socket.peek(&mut buf) {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset
                ) =>
            {
                return Err(io::Error::new(
                    e.kind(),
                    "nothing answered: is the chat server running there?",
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Ok(()), // no answer in time
            Ok(len) => len,
        };
        let answer = &buf[..len];
        if !answered_cookie && crate::cookie::is_cookie(answer) {
            let len = socket.recv(&mut buf)?;
            socket.send(&buf[..len])?;
            answered_cookie = true;
            deadline = Instant::now() + ANSWER_WAIT;
            continue;
        }
        return match Verdict::parse(answer) {
            Some(Verdict::Welcome) => socket.recv(&mut buf).map(|_| ()),
            Some(Verdict::Refused(reason)) => {
                socket.recv(&mut buf)?;
                Err(io::Error::new(io::ErrorKind::PermissionDenied, reason))
            }
            None => Ok(()),
        };
    }
}
