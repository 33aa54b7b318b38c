//! Exercises 8.2 and 8.4: the relay server.
//!
//! Scenario: article C's server remembers every address it hears from and forwards each
//! message to all the others. Goal (8.2): [`Relay::on_datagram`] remembers the sender and
//! returns what to send to whom: every other member, never the sender; a client that never
//! spoke the course's format gets a plain-text line it can print; joins, leaves and keepalive
//! pings are handled here too. Goal (8.4): [`Relay::forget_silent`] for clients that vanished
//! without a word.
//! The tests call the relay directly, then run it on a socket with many clients, garbage and
//! 1,000 messages among 20 clients.

use std::collections::BTreeMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::{ChatMessage, Kind, ParseError, Payload, display_line, now_ms, parse};

/// The time as the relay needs it: a monotonic clock for silences, the wall clock to stamp
/// plain text, which arrives without a timestamp.
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

/// What the relay knows about one client.
#[derive(Debug, Clone)]
struct Member {
    /// Sent a datagram in the course's format at least once.
    speaks_format: bool,
    last_heard: Instant,
}

// ANCHOR: relay
/// The members of the chat, by address.
#[derive(Debug, Clone)]
pub struct Relay {
    members: BTreeMap<SocketAddr, Member>,
    silence_limit: Duration,
}

impl Relay {
    /// A relay that forgets members silent for longer than `silence_limit`.
    pub fn new(silence_limit: Duration) -> Self {
        Relay {
            members: BTreeMap::new(),
            silence_limit,
        }
    }

    /// The addresses of the current members.
    pub fn members(&self) -> Vec<SocketAddr> {
        self.members.keys().copied().collect()
    }
    // ANCHOR_END: relay

    // ANCHOR: on_datagram
    /// Handles one datagram from `from`; returns the datagrams to send, and to whom. A
    /// malformed datagram is an error and nothing is sent.
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
        let member = self.members.entry(from).or_insert(Member {
            speaks_format: false,
            last_heard: now.instant,
        });
        member.last_heard = now.instant;
        let message = match payload {
            Payload::Chat(message) => {
                member.speaks_format = true;
                message
            }
            // Plain text has no name or time: the sender's address and the relay's clock.
            Payload::Plain(bytes) => ChatMessage::new(
                Kind::Msg,
                now.unix_ms,
                &from.to_string(),
                &String::from_utf8_lossy(&bytes),
            ),
        };
        if message.kind == Kind::Ping {
            return Ok(Vec::new()); // a keepalive only proves the sender is still there
        }
        let sends = self.to_all_but(from, &message);
        if message.kind == Kind::Leave {
            self.members.remove(&from);
        }
        Ok(sends)
    }

    /// `message` for every member except `from`, in the form each can read.
    fn to_all_but(&self, from: SocketAddr, message: &ChatMessage) -> Vec<(SocketAddr, Vec<u8>)> {
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
    /// Forgets the members not heard from for longer than the silence limit; returns them.
    pub fn forget_silent(&mut self, now: Instant) -> Vec<SocketAddr> {
        let limit = self.silence_limit;
        let silent: Vec<SocketAddr> = self
            .members
            .iter()
            .filter(|(_, member)| now.saturating_duration_since(member.last_heard) > limit)
            .map(|(addr, _)| *addr)
            .collect();
        for addr in &silent {
            self.members.remove(addr);
        }
        silent
    }
    // ANCHOR_END: forget_silent
}

/// How a client without the course's format sees a message.
fn plain_text(message: &ChatMessage) -> String {
    match message.kind {
        Kind::Join => format!("* {} joined", message.name),
        Kind::Leave => format!("* {} left", message.name),
        _ => format!("{}: {}", message.name, message.text),
    }
}

/// Runs a [`Relay`] on `socket` until the socket fails: relays every datagram, reports each
/// relayed message to `show` and each rejected datagram on stderr, and forgets silent members.
/// (Given: it uses your `parse`, `on_datagram` and `forget_silent`.)
pub fn run_server(
    socket: &UdpSocket,
    silence_limit: Duration,
    mut show: impl FnMut(String),
) -> io::Result<()> {
    let mut relay = Relay::new(silence_limit);
    // Wake up now and then to forget silent members even when nobody speaks.
    socket.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut buf = vec![0u8; 65_536];
    loop {
        for gone in relay.forget_silent(Instant::now()) {
            eprintln!(
                "forgot {gone}: silent for more than {} s",
                silence_limit.as_secs_f64()
            );
        }
        let (len, from) = match socket.recv_from(&mut buf) {
            Ok(received) => received,
            // A timeout, or an ICMP error about one client (Windows): keep serving.
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
            Err(e) => return Err(e),
        };
        let datagram = &buf[..len];
        match relay.on_datagram(from, datagram, Now::current()) {
            Ok(sends) => {
                if let Some(line) = parse(datagram).ok().and_then(|p| display_line(&p, from)) {
                    show(line);
                }
                for (to, bytes) in sends {
                    // A vanished client only loses its copy; the others still get theirs.
                    let _ = socket.send_to(&bytes, to);
                }
            }
            Err(e) => eprintln!("rejected {len} bytes from {from}: {e}"),
        }
    }
}
