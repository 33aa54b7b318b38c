//! Exercises 4.3 and 4.4: article B's `select` server, as an event loop with mio.
//!
//! Scenario: article B fixes the one-client-at-a-time server with `select` over the
//! listening socket and every connection. mio does the same with the OS's better
//! tools (epoll, kqueue, IOCP): register sockets once with a [`Token`], then ask
//! [`Poll`] which are ready. Goal, 4.3: [`accept_ready`] accepts every waiting
//! connection and registers it. Goal, 4.4: [`serve`] is the loop: poll, accept, pump
//! ready connections, close idle ones, and return when stopped. The tests check
//! accepting (all at once, and the cap), then the chapter's specification.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Registry, Token, Waker};

use super::{
    Connection, Limits, Progress, READ_BUDGET, Shutdown, affects_one_connection,
};

/// The token of the listening socket.
pub const LISTENER: Token = Token(0);
/// Idle clients are looked for every tenth of the idle timeout, within these bounds.
const SWEEP_MIN: Duration = Duration::from_millis(10);
const SWEEP_MAX: Duration = Duration::from_secs(1);

/// The token of the waker that [`Shutdown::stop`] uses.
pub const WAKER: Token = Token(1);

/// The loop's connections by token (given). Tokens are never reused, so a late event
/// for a closed connection finds nothing instead of finding a newer one.
#[derive(Debug)]
pub struct Clients {
    connections: HashMap<Token, Connection>,
    next_token: usize,
}

impl Default for Clients {
    fn default() -> Self {
        Clients {
            connections: HashMap::new(),
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

    /// Adds a connection under a new token and returns both (register it with that
    /// token).
    pub fn insert(&mut self, connection: Connection) -> (Token, &mut Connection) {
        let token = Token(self.next_token);
        self.next_token += 1;
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
        } // dropped here: the socket is closed
    }

    /// Closes every connection that moved no bytes for `idle`; returns how many.
    pub fn close_idle(&mut self, registry: &Registry, idle: Duration) -> usize {
        let now = Instant::now();
        let quiet: Vec<Token> = (self.connections.iter())
            .filter(|(_, c)| now.duration_since(c.last_active()) >= idle)
            .map(|(token, _)| *token)
            .collect();
        for token in &quiet {
            self.close(registry, *token);
        }
        quiet.len()
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
    // TODO: accept until WouldBlock. Past limits.max_clients, drop the stream.
    // Otherwise clients.insert(Connection::new(stream, limits.max_buffer)) and
    // register the stream with the token you got, for Interest::READABLE.
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
    // wants to write), and close idle clients now and then.
    todo!()
}
// ANCHOR_END: serve
