//! Exercises 4.4 and 4.5: article B's `select` server, as an event loop with mio.
//!
//! Scenario: article B fixes the one-client-at-a-time server with `select` over the
//! listening socket and every connection. mio does the same with the OS's better
//! tools (epoll, kqueue, IOCP): register sockets once with a [`Token`], then ask
//! [`Poll`] which are ready. Goal, 4.4: [`accept_ready`] accepts every waiting
//! connection and registers it. Goal, 4.5: [`serve`] is the loop: poll, accept, pump
//! ready connections, close stalled ones, and return when stopped. The tests check
//! accepting (all at once, the cap, the share of one address), then the chapter's
//! specification.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Registry, Token, Waker};

use super::{
    Connection, Limits, Progress, READ_BUDGET, Shutdown, affects_one_connection,
    log_accept_error,
};

/// The token of the listening socket.
pub const LISTENER: Token = Token(0);
/// Stalled clients are looked for every tenth of the idle timeout, within these
/// bounds; an `accept` that failed is tried again as often.
const SWEEP_MIN: Duration = Duration::from_millis(10);
const SWEEP_MAX: Duration = Duration::from_millis(500);

/// The token of the waker that [`Shutdown::stop`] uses.
pub const WAKER: Token = Token(1);

/// The loop's connections by token (given). Tokens are never reused, so a late event
/// for a closed connection finds nothing instead of finding a newer one.
#[derive(Debug)]
pub struct Clients {
    connections: HashMap<Token, Connection>,
    /// Connections per address, and whether a newcomer from it was refused since one
    /// of them closed (then others wait: the minimum rate applies to them).
    per_address: HashMap<IpAddr, (usize, bool)>,
    next_token: usize,
}

impl Default for Clients {
    fn default() -> Self {
        Clients {
            connections: HashMap::new(),
            per_address: HashMap::new(),
            next_token: WAKER.0 + 1,
        }
    }
}

impl Clients {
    /// No connections yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many connections are open.
    pub fn len(&self) -> usize {
        self.connections.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.connections.is_empty()
    }

    /// Whether `token` is one of them.
    pub fn contains(&self, token: Token) -> bool {
        self.connections.contains_key(&token)
    }

    /// Whether one more client from `address` may come in: fewer than
    /// `limits.max_clients` in all, and fewer than `limits.max_per_address` from it. A
    /// refusal for the address's share is remembered: the address is under pressure.
    pub fn has_room_for(&mut self, address: IpAddr, limits: &Limits) -> bool {
        let full = self.len() >= limits.max_clients;
        match self.per_address.get_mut(&address) {
            Some(mine) if mine.0 >= limits.max_per_address => {
                mine.1 = true;
                false
            }
            _ => !full,
        }
    }

    /// Adds a connection under a new token and returns both (register it with that
    /// token).
    pub fn insert(&mut self, connection: Connection) -> (Token, &mut Connection) {
        let token = Token(self.next_token);
        self.next_token += 1;
        if let Some(address) = connection.peer() {
            self.per_address.entry(address).or_insert((0, false)).0 += 1;
        }
        (token, self.connections.entry(token).or_insert(connection))
    }

    /// The connection with `token`, if it is still open.
    pub fn get_mut(&mut self, token: Token) -> Option<&mut Connection> {
        self.connections.get_mut(&token)
    }

    /// Deregisters and closes the connection with `token`.
    pub fn close(&mut self, registry: &Registry, token: Token) {
        if let Some(mut connection) = self.connections.remove(&token) {
            let _ = registry.deregister(connection.stream_mut());
            if let Some(address) = connection.peer() {
                let mine = self.per_address.entry(address).or_insert((1, false));
                mine.0 -= 1;
                mine.1 = false; // a place of this address is free
                if mine.0 == 0 {
                    self.per_address.remove(&address); // only who is here
                }
            }
        } // dropped here: the socket is closed
    }

    /// Closes every connection that has stalled: moved no bytes for
    /// `limits.idle_timeout`, or, while others wait for a place (the server is at
    /// `limits.max_clients`, or a newcomer from the same address was refused its share),
    /// fewer than `limits.min_rate` a second over its last window. Returns how many.
    pub fn close_stalled(&mut self, registry: &Registry, limits: &Limits) -> usize {
        let (now, pace) = (Instant::now(), limits.pace());
        let full = self.len() >= limits.max_clients;
        let per_address = &self.per_address;
        let stalled: Vec<Token> = (self.connections.iter_mut())
            .filter_map(|(token, c)| {
                let crowded = c
                    .peer()
                    .and_then(|a| per_address.get(&a))
                    .is_some_and(|m| m.1);
                c.meter()
                    .check(&pace, now, || full || crowded)
                    .err()
                    .map(|_| *token)
            })
            .collect();
        for token in &stalled {
            self.close(registry, *token);
        }
        stalled.len()
    }
}

// ANCHOR: accept_ready
/// Accepts every connection waiting on `listener` (until `WouldBlock`: the listener
/// is edge-triggered too) and registers each for reading. Past `limits.max_clients`,
/// a new connection is closed at once.
pub fn accept_ready(
    listener: &TcpListener,
    registry: &Registry,
    clients: &mut Clients,
    limits: &Limits,
) -> io::Result<()> {
    // TODO: accept until WouldBlock. Unless clients.has_room_for(peer.ip(), limits),
    // drop the stream. Otherwise clients.insert(Connection::new(stream,
    // limits.max_buffer)) and register the stream with the token you got, for
    // Interest::READABLE.
    todo!()
}
// ANCHOR_END: accept_ready

// ANCHOR: serve
/// Serves every client from one thread: waits for readiness, accepts, echoes, closes
/// idle clients; returns when `shutdown` is stopped (dropping every connection closes
/// it).
pub fn serve(
    listener: std::net::TcpListener,
    limits: Limits,
    shutdown: Shutdown,
) -> io::Result<()> {
    // TODO: make the listener non-blocking and wrap it in mio's TcpListener; create
    // a Poll; register the listener (LISTENER) and a Waker (WAKER) that
    // shutdown.on_stop wakes. Until shutdown.is_stopped(): poll with a timeout,
    // accept_ready on LISTENER, pump each ready connection (close it on Done or an
    // error, serve it again at once on Again, reregister it with WRITABLE while it
    // wants to write), and now and then close stalled clients (close_stalled) and
    // call accept_ready again (after an accept error, no new event comes). Report
    // accept errors with log_accept_error.
    todo!()
}
// ANCHOR_END: serve
