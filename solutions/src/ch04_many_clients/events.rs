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
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if affects_one_connection(&e) => continue,
            Err(e) => return Err(e),
        };
        if !clients.has_room_for(peer.ip(), limits) {
            continue; // `stream` is dropped: the client reads end-of-file
        }
        let connection = Connection::new(stream, limits.max_buffer);
        let (token, connection) = clients.insert(connection);
        let stream = connection.stream_mut();
        if let Err(e) = registry.register(stream, token, Interest::READABLE) {
            clients.close(registry, token);
            return Err(e);
        }
    }
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
    listener.set_nonblocking(true)?;
    let mut listener = TcpListener::from_std(listener);
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    // The closure gets a clone: `waker` itself lives until `serve` returns. Were the
    // closure's the only one, dropping it would close the Waker's descriptor, and
    // epoll forgets the pending wake-up of a closed descriptor.
    let wake = Arc::clone(&waker);
    shutdown.on_stop(move || drop(wake.wake()));
    // A second handle on the registry, usable while `poll` waits (it needs `&mut`).
    let registry = poll.registry().try_clone()?;

    let mut events = Events::with_capacity(1024);
    let mut clients = Clients::new();
    // Connections whose budget was spent: served again without waiting for an event.
    let mut again: Vec<Token> = Vec::new();
    let sweep_every = (limits.idle_timeout / 10).clamp(SWEEP_MIN, SWEEP_MAX);
    let mut next_sweep = Instant::now() + sweep_every;
    while !shutdown.is_stopped() {
        let wait = if again.is_empty() {
            next_sweep.saturating_duration_since(Instant::now())
        } else {
            Duration::ZERO
        };
        match poll.poll(&mut events, Some(wait)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        let mut ready = std::mem::take(&mut again);
        for event in events.iter() {
            match event.token() {
                // An accept error (out of file descriptors, say) does not stop the
                // loop.
                LISTENER => accept_ready(&listener, &registry, &mut clients, &limits)
                    .unwrap_or_else(|e| log_accept_error(&e)),
                WAKER => {} // stop() was called: the `while` condition sees it
                token => ready.push(token),
            }
        }
        for token in ready {
            let Some(connection) = clients.get_mut(token) else {
                continue; // closed earlier in this round
            };
            let wrote_before = connection.wants_to_write();
            match connection.pump(READ_BUDGET) {
                Ok(Progress::Waiting) => {}
                Ok(Progress::Again) => again.push(token),
                // Finished, or failed (a reset): only this client is affected.
                Ok(Progress::Done) | Err(_) => {
                    clients.close(&registry, token);
                    continue;
                }
            }
            // Ask for WRITABLE only while there is something to write.
            if connection.wants_to_write() != wrote_before {
                let interest = if connection.wants_to_write() {
                    Interest::READABLE | Interest::WRITABLE
                } else {
                    Interest::READABLE
                };
                if poll
                    .registry()
                    .reregister(connection.stream_mut(), token, interest)
                    .is_err()
                {
                    clients.close(&registry, token);
                }
            }
        }
        if Instant::now() >= next_sweep {
            clients.close_stalled(&registry, &limits);
            // After an accept that failed (out of file descriptors), no new event
            // comes for the clients already waiting: the listener is edge-triggered.
            // So try again now and then; a closed connection may have freed a
            // descriptor.
            accept_ready(&listener, &registry, &mut clients, &limits)
                .unwrap_or_else(|e| log_accept_error(&e));
            next_sweep = Instant::now() + sweep_every;
        }
    }
    Ok(())
}
// ANCHOR_END: serve
