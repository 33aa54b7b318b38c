//! Exercises 7.2, 7.3 and 7.4: the secure server's checks.
//!
//! Scenario: article C's server, with every message sealed. Goal (7.2): open what
//! arrives and answer with a sealed `Success to receive message`; anything that does
//! not open is refused, and the server goes on. Goal (7.3): refuse a token that was
//! already accepted (a replay), remembering accepted tokens only as long as they
//! could be accepted at all. Goal (7.4): an allowlist of peer addresses. The tests
//! call the guard directly with tokens made at chosen times, then run the server on a
//! socket through a storm of garbage, old tokens and replays.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fernet::Fernet;

use super::{MAX_CLOCK_SKEW, OpenError, open, seal, token_id, token_timestamp};

/// What the server answers, sealed.
pub const REPLY: &[u8] = b"Success to receive message";

/// The word a client puts after its token (`TOKEN bind`) to ask for a reply bound to
/// that request: the reply's plaintext then starts with the request's id (in hex) and
/// a space, so a reply recorded earlier cannot pass for this one. Article C's Python
/// client does not ask, and gets the plain reply it expects.
pub const BIND: &str = "bind";

/// The plaintext of a reply bound to the request whose [`token_id`] is `request`:
/// the id in hex, a space, then [`REPLY`].
pub fn bound_reply(request: &[u8; 24]) -> Vec<u8> {
    let mut text: Vec<u8> = request.iter().flat_map(|b| hex_digits(*b)).collect();
    text.push(b' ');
    text.extend_from_slice(REPLY);
    text
}

fn hex_digits(byte: u8) -> [u8; 2] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    [
        DIGITS[usize::from(byte >> 4)],
        DIGITS[usize::from(byte & 0x0f)],
    ]
}

/// A request datagram without a trailing ` bind`, and whether it had one.
pub fn split_bind(datagram: &[u8]) -> (&[u8], bool) {
    let trimmed = datagram.trim_ascii_end();
    match trimmed.strip_suffix(BIND.as_bytes()) {
        Some(rest) if rest.ends_with(b" ") => (rest.trim_ascii_end(), true),
        _ => (datagram, false),
    }
}

/// An allowlist entry: an IP address, and optionally one port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allow {
    pub ip: IpAddr,
    pub port: Option<u16>,
}

impl FromStr for Allow {
    type Err = String;

    /// `127.0.0.1`, `::1`, `127.0.0.1:5000` or `[::1]:5000`.
    fn from_str(text: &str) -> Result<Allow, String> {
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Allow { ip, port: None });
        }
        match text.parse::<SocketAddr>() {
            Ok(addr) => Ok(Allow {
                ip: addr.ip(),
                port: Some(addr.port()),
            }),
            Err(_) => Err(format!("`{text}` is not IP or IP:PORT")),
        }
    }
}

/// Why a datagram was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The sender is not on the allowlist.
    NotAllowed,
    /// Not even text that could be a token.
    NotAToken,
    /// The token does not open, or not now.
    Open(OpenError),
    /// This token was accepted before.
    Replayed,
    /// It is dated before the server started: the server cannot know whether it
    /// accepted it then (its memory of accepted tokens did not survive the restart).
    BeforeStart,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotAllowed => write!(f, "the sender is not on the allowlist"),
            Refusal::NotAToken => write!(f, "not a token"),
            Refusal::Open(e) => write!(f, "{e}"),
            Refusal::Replayed => write!(f, "a replay of a token already accepted"),
            Refusal::BeforeStart => write!(
                f,
                "dated before this server started (it may have been accepted before a restart)"
            ),
        }
    }
}

impl From<OpenError> for Refusal {
    fn from(e: OpenError) -> Self {
        Refusal::Open(e)
    }
}

// ANCHOR: guard
/// The key, the time limit, the allowlist (empty: everybody), the earliest date
/// accepted, and the tokens accepted recently.
pub struct Guard {
    key: Fernet,
    ttl: Duration,
    allow: Vec<Allow>,
    /// Tokens dated before this (Unix seconds) are refused: see
    /// [`Guard::not_before`].
    not_before: u64,
    /// Accepted tokens (by [`token_id`]) with their timestamps.
    accepted: HashMap<[u8; 24], u64>,
}

impl Guard {
    /// A guard with nothing accepted yet.
    pub fn new(key: Fernet, ttl: Duration, allow: Vec<Allow>) -> Self {
        Guard {
            key,
            ttl,
            allow,
            not_before: 0,
            accepted: HashMap::new(),
        }
    }

    /// Refuses tokens dated before `started_secs`. A server passes the time it
    /// started: its memory of accepted tokens is lost on a restart, so a token from
    /// before it cannot be told from a replay. (Fernet dates tokens in whole seconds:
    /// a token recorded in the very second the server started still passes, once.)
    pub fn not_before(mut self, started_secs: u64) -> Self {
        self.not_before = started_secs;
        self
    }

    /// How many accepted tokens are remembered.
    pub fn remembered(&self) -> usize {
        self.accepted.len()
    }

    /// The sealed reply, dated `now_secs`.
    pub fn reply(&self, now_secs: u64) -> String {
        seal(&self.key, REPLY, now_secs)
    }

    /// The sealed reply to a request that asked for a bound one (`request`: its
    /// token's id), dated `now_secs`; see [`bound_reply`].
    pub fn bound_reply(&self, request: &[u8; 24], now_secs: u64) -> String {
        seal(&self.key, &bound_reply(request), now_secs)
    }
    // ANCHOR_END: guard

    // ANCHOR: allowed
    /// Whether `from` is on the allowlist (an empty list allows everybody).
    pub fn allowed(&self, from: SocketAddr) -> bool {
        // TODO: an empty list allows everybody; otherwise the IP must match an entry,
        // and its port too when the entry names one.
        todo!()
    }
    // ANCHOR_END: allowed

    // ANCHOR: check
    /// The plaintext of `datagram` from `from` at `now_secs`, or why it is refused.
    pub fn check(
        &mut self,
        from: SocketAddr,
        datagram: &[u8],
        now_secs: u64,
    ) -> Result<Vec<u8>, Refusal> {
        // TODO (7.2): text? opens (with the ttl)? (7.3): dated before not_before?
        // then forget accepted tokens older than the ttl, and refuse this one if its
        // token_id was accepted before; else remember it.
        // (7.4): first of all, `self.allowed(from)`?
        todo!()
    }
    // ANCHOR_END: check
}

/// Seconds since 1970-01-01 UTC, by this machine's clock.
fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Runs a [`Guard`] on `socket`: answers every accepted token with a sealed reply
/// (bound to the request when it ends with ` bind`, see [`BIND`]), shows what it
/// accepted through `show`, and reports refusals on stderr: at most one line a second
/// (the next says how many were left out), written by a logging thread, so a stderr
/// nobody reads never stops the server (`course_given::log`). (Given: it uses your
/// `check`, `open` and `seal`.)
pub fn run_secure_server(
    socket: &UdpSocket,
    mut guard: Guard,
    mut show: impl FnMut(SocketAddr, &[u8]),
) -> io::Result<()> {
    let mut buf = vec![0u8; 65_536];
    let mut refusals = course_given::log::Every::new();
    loop {
        let (len, from) = match socket.recv_from(&mut buf) {
            Ok(received) => received,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            Err(e) => return Err(e),
        };
        let now = now_secs();
        let (request, bind) = split_bind(&buf[..len]);
        match guard.check(from, request, now) {
            Ok(plaintext) => {
                show(from, &plaintext);
                // It opened, so it is a token: its id names this request.
                let id = std::str::from_utf8(request)
                    .ok()
                    .and_then(|t| token_id(t.trim_end()));
                let reply = match id.filter(|_| bind) {
                    Some(id) => guard.bound_reply(&id, now),
                    None => guard.reply(now),
                };
                let _ = socket.send_to(reply.as_bytes(), from);
            }
            Err(refusal) => {
                refusals.say(Instant::now(), || {
                    let clock = clock_note(&refusal, request, now);
                    format!("refused {len} bytes from {from}: {refusal}{clock}")
                });
            }
        }
    }
}

/// For a token that does not open and claims a date ahead of this machine's clock by
/// more than [`MAX_CLOCK_SKEW`]: a note naming the clock. Fernet refuses such a token
/// before it checks the MAC, so it may be genuine, from a sender whose clock is ahead
/// (or this one's behind); the date itself is unauthenticated.
fn clock_note(refusal: &Refusal, request: &[u8], now: u64) -> String {
    let claimed = std::str::from_utf8(request)
        .ok()
        .and_then(|t| token_timestamp(t.trim_end()));
    match (refusal, claimed) {
        (Refusal::Open(OpenError::Rejected), Some(at))
            if at > now.saturating_add(MAX_CLOCK_SKEW) =>
        {
            format!(
                "; it claims a date {} s ahead of this machine's clock: if it is genuine, \
                 the sender's clock or this one is wrong",
                at - now
            )
        }
        _ => String::new(),
    }
}

/// Why a secure request got no usable reply.
#[derive(Debug)]
pub enum ClientError {
    /// Nothing answered this request in time; `unbound` sealed replies came that
    /// answered another request (recorded earlier and replayed?) and were refused.
    NoReply {
        unbound: u32,
    },
    Refused,
    BadReply(OpenError),
    Io(io::Error),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::NoReply { unbound: 0 } => write!(
                f,
                "no reply in time (is the server running, with the same key?)"
            ),
            ClientError::NoReply { unbound } => write!(
                f,
                "no reply to this request in time; refused {unbound} sealed replies \
                 that answered another request (replayed?)"
            ),
            ClientError::Refused => {
                write!(f, "nothing is listening at the server's address")
            }
            ClientError::BadReply(e) => write!(f, "the reply did not open: {e}"),
            ClientError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                ClientError::NoReply { unbound: 0 }
            }
            io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset => {
                ClientError::Refused
            }
            _ => ClientError::Io(e),
        }
    }
}

/// Seals `message`, sends it to `server` asking for a bound reply (see [`BIND`]), and
/// opens the reply (at most `ttl` old), waiting at most `timeout`. A sealed reply that
/// answers another request (a recording replayed from the server's address) is
/// refused and counted, and the wait goes on. (Given: it uses your `seal` and
/// `open`.)
pub fn secure_request(
    socket: &UdpSocket,
    server: SocketAddr,
    key: &Fernet,
    message: &[u8],
    timeout: Duration,
    ttl: Duration,
) -> Result<Vec<u8>, ClientError> {
    socket.connect(server)?;
    let request = seal(key, message, now_secs());
    let expected = match token_id(&request) {
        Some(id) => bound_reply(&id),
        None => return Err(ClientError::BadReply(OpenError::Rejected)),
    };
    // The part of a bound reply that names this request: the id and a space.
    let proof = &expected[..expected.len() - REPLY.len()];
    socket.send(format!("{request} {BIND}").as_bytes())?;
    let deadline = Instant::now() + timeout;
    let mut unbound = 0;
    let mut buf = vec![0u8; 65_536];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ClientError::NoReply { unbound });
        }
        socket.set_read_timeout(Some(left))?;
        let len = match socket.recv(&mut buf).map_err(ClientError::from) {
            Ok(len) => len,
            Err(ClientError::NoReply { .. }) => {
                return Err(ClientError::NoReply { unbound });
            }
            Err(e) => return Err(e),
        };
        let reply = String::from_utf8_lossy(&buf[..len]);
        let plaintext = open(key, reply.trim_end(), ttl, now_secs())
            .map_err(ClientError::BadReply)?;
        match plaintext.strip_prefix(proof) {
            Some(rest) => return Ok(rest.to_vec()),
            // Sealed with the key, but not an answer to this request.
            None => unbound += 1,
        }
    }
}
