//! Who may join the chat, and what a newcomer is told.
//!
//! - [`Newcomers`]: the allowance of addresses that are not members, one per source
//!   address: a newcomer's join waits for no one else's flood. Its table is bounded
//!   ([`NEWCOMER_TABLE`] addresses); past it, the addresses not in it share one allowance.
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

/// The most source addresses with an allowance of their own.
pub const NEWCOMER_TABLE: usize = 1024;

/// A token bucket per source address that is not a member (see [`Newcomers::admit`]).
#[derive(Debug)]
pub struct Newcomers {
    rate: f64,
    buckets: HashMap<IpAddr, Bucket>,
    /// Shared by the addresses beyond the table's [`NEWCOMER_TABLE`].
    overflow: Bucket,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn full(rate: f64, now: Instant) -> Bucket {
        Bucket {
            tokens: rate,
            last: now,
        }
    }

    /// Takes a token if there is one; the bucket fills at `rate` a second up to `rate`.
    fn take(&mut self, rate: f64, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * rate).min(rate);
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
    /// member.
    pub fn new(rate: f64) -> Self {
        Newcomers {
            rate,
            buckets: HashMap::new(),
            overflow: Bucket::full(rate, Instant::now()),
        }
    }

    /// Whether a datagram from `from`, not a member, may be read.
    pub fn admit(&mut self, from: SocketAddr, now: Instant) -> bool {
        let rate = self.rate;
        let table_full = self.buckets.len() >= NEWCOMER_TABLE;
        match self.buckets.get_mut(&from.ip()) {
            Some(bucket) => bucket.take(rate, now),
            None if table_full => self.overflow.take(rate, now),
            None => {
                let mut bucket = Bucket::full(rate, now);
                let taken = bucket.take(rate, now);
                self.buckets.insert(from.ip(), bucket);
                taken
            }
        }
    }

    /// Forgets the addresses whose bucket is full again (quiet for a second or more): they
    /// would start with a full one anyway.
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
