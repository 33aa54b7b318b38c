//! Given (not an exercise): the chat server's socket loop, [`run_server`], around your
//! `Relay`.
//!
//! The loop itself is given code the stubs and the reference share:
//! [`course_given::chat`] (in `given/src/chat/`). Read its `serve.rs` for what it does:
//! one socket no other process can share; a reading thread that queues what arrives, a
//! queue per sender, taken in turn, so a quiet member waits for nobody's flood; a rate
//! limit per member and an allowance per address for newcomers; a cookie that proves each
//! newcomer's address, then a welcome or a refusal (the chat is full, its address has
//! too many members, or the name); names checked against the profile. This file only
//! connects it to your `Relay`: the loop asks through [`ChatRelay`].

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use course_given::chat::{ChatKind, ChatRelay, Count, Datagram, Refusal};
pub use course_given::chat::{
    DEFAULT_MAX_PER_ADDRESS, ServeOptions, admission, inbox,
};

use super::{Counters, Kind, Now, ParseError, Payload, Relay, display_line, parse};

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
/// it counted: proves each newcomer's address with a cookie and tells it whether it is
/// in, relays every datagram, reports each relayed message to `show` and each refused
/// datagram on stderr, drops what a sender sends over its quota or the rate limit, and
/// forgets silent members. (Given: it uses your `parse`, `on_datagram` and
/// `forget_silent`.)
pub fn run_server_with(
    socket: &UdpSocket,
    mut relay: Relay,
    options: ServeOptions,
    stop: &AtomicBool,
    show: impl FnMut(String),
) -> io::Result<Counters> {
    course_given::chat::serve(socket, &mut relay, options, stop, show)?;
    Ok(relay.counters)
}

impl ChatRelay for Relay {
    fn read(&self, datagram: &[u8]) -> Result<Datagram, String> {
        match parse(datagram) {
            Ok(Payload::Chat(m)) => Ok(Datagram::Chat {
                kind: match m.kind {
                    Kind::Msg => ChatKind::Msg,
                    Kind::Join => ChatKind::Join,
                    Kind::Leave => ChatKind::Leave,
                    Kind::Ping => ChatKind::Ping,
                },
                name: m.name,
            }),
            Ok(Payload::Plain(_)) => Ok(Datagram::Plain),
            Err(e) => Err(e.to_string()),
        }
    }

    fn show(&self, datagram: &[u8], from: SocketAddr) -> Option<String> {
        parse(datagram).ok().and_then(|p| display_line(&p, from))
    }

    fn admit(&mut self, from: SocketAddr, now: Instant) -> Result<(), bool> {
        Relay::admit(self, from, now)
    }

    fn is_member(&self, addr: SocketAddr) -> bool {
        Relay::is_member(self, addr)
    }

    fn members(&self) -> Vec<SocketAddr> {
        Relay::members(self)
    }

    fn name_of(&self, addr: SocketAddr) -> Option<&str> {
        Relay::name_of(self, addr)
    }

    fn names_but(&self, addr: SocketAddr) -> Vec<&str> {
        Relay::names_but(self, addr).collect()
    }

    fn on_datagram(
        &mut self,
        from: SocketAddr,
        datagram: &[u8],
        instant: Instant,
        unix_ms: u64,
    ) -> Result<Vec<(SocketAddr, Vec<u8>)>, Refusal> {
        let now = Now { instant, unix_ms };
        Relay::on_datagram(self, from, datagram, now).map_err(|e| match e {
            ParseError::ChatFull(max) => Refusal::Full(max),
            ParseError::NameTaken(name) => Refusal::NameTaken(name),
            other => Refusal::Other(other.to_string()),
        })
    }

    fn forget_silent(&mut self, now: Instant) -> Vec<SocketAddr> {
        Relay::forget_silent(self, now)
    }

    fn silence_limit(&self) -> Duration {
        self.silence_limit
    }

    fn count(&mut self, what: Count) {
        let counters = &mut self.counters;
        match what {
            Count::Received => counters.received += 1,
            Count::Relayed => counters.relayed += 1,
            Count::Refused => counters.refused += 1,
            Count::Cookie => counters.cookies += 1,
            Count::RateLimited => counters.rate_limited += 1,
            Count::Busy(total) => counters.busy = total,
        }
    }

    fn rate_limited(&self) -> u64 {
        self.counters.rate_limited
    }
}
