//! The relay's sessions, all on one thread: the front socket (where clients send) and every
//! session's upstream socket (towards the server) are registered with one mio `Poll`; one
//! thread reads whatever is ready and passes it on, as events, to the dispatcher, which
//! decides and sends on the same thread.
//!
//! A session costs a socket and a table entry, no thread. Their number is bounded twice:
//! at most `max_sessions` in all and `max_per_address` for one client address. A newcomer is
//! never refused: when its address holds its share, that address's longest-idle session
//! makes way; when the table is full, the longest-idle session of the address holding the
//! most does. An address also opens new sessions at a bounded rate ([`NEW_PER_SECOND`]
//! after a burst of its share): past it, each newcomer from there replaces that address's
//! own longest-idle session. One process that opens sessions from many ports, or churns
//! through them, therefore only evicts its own, and a client that keeps talking is the
//! last to go. When the system has no descriptor left for a new socket (EMFILE), the
//! longest-idle session makes way all the same.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};

use crate::fate::Direction;
use crate::relay::{DATAGRAM_BUFFER, Dispatcher, Event, POLL, Shared, prepare};

/// The front socket's token; session `flow` has `Token(flow + 1)`.
const FRONT: Token = Token(0);
/// Datagrams read from one socket per turn before the others get theirs.
const BUDGET: usize = 256;
/// New sessions one client address may open a second, once its burst (its share of the
/// table) is spent.
pub const NEW_PER_SECOND: f64 = 32.0;

/// One client's session, as the I/O thread keeps it.
struct Session {
    flow: usize,
    /// Where the server's datagrams are read; the dispatcher sends on the same socket.
    upstream: Arc<UdpSocket>,
    /// When a datagram last went either way.
    last_active: Instant,
}

/// The I/O thread: the front socket, the sessions, and the limits.
pub(crate) struct Sessions {
    pub server: SocketAddr,
    pub idle_timeout: Option<Duration>,
    pub max_sessions: usize,
    pub max_per_address: usize,
    /// Decides and sends, on this thread (no hand-off, no wake-up per datagram).
    pub dispatcher: RefCell<Dispatcher>,
    pub shared: Arc<Shared>,
}

impl Sessions {
    /// The poller with the front socket registered, made before the relay says it is
    /// listening (so that everything it holds exists by then).
    pub fn poll_front(front: std::net::UdpSocket) -> io::Result<(Poll, UdpSocket)> {
        front.set_nonblocking(true)?;
        let mut front = UdpSocket::from_std(front);
        let poll = Poll::new()?;
        poll.registry()
            .register(&mut front, FRONT, Interest::READABLE)?;
        Ok((poll, front))
    }

    pub fn run(self, poll: Poll, front: UdpSocket) {
        let shared = Arc::clone(&self.shared);
        if let Err(e) = self.serve(poll, front) {
            shared.warn(|| format!("lossy-relay: stopped relaying: {e}"));
        }
    }

    fn serve(self, mut poll: Poll, front: UdpSocket) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        let mut table = Table::default();
        let mut next_flow = 0;
        let mut last_sweep = Instant::now();
        let mut again: Vec<Token> = Vec::new();
        let mut buf = vec![0u8; DATAGRAM_BUFFER];
        while !self.shared.stopping() {
            // Wake at least every POLL: to see the stop flag, and to forget quiet sessions;
            // sooner when a delayed or held datagram is due.
            let wait = if again.is_empty() {
                (self.dispatcher.borrow().next_wake()).map_or(POLL, |at| {
                    at.saturating_duration_since(Instant::now()).min(POLL)
                })
            } else {
                Duration::ZERO
            };
            match poll.poll(&mut events, Some(wait)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            let mut ready: Vec<Token> = std::mem::take(&mut again);
            ready.extend(events.iter().map(|event| event.token()));
            ready.dedup();
            for token in ready {
                let more = if token == FRONT {
                    self.read_front(&front, &poll, &mut table, &mut next_flow, &mut buf)?
                } else {
                    self.read_upstream(token, &mut table, &mut buf)?
                };
                if more {
                    again.push(token); // budget spent: come back without waiting for an event
                }
            }
            self.dispatcher.borrow_mut().release_due();
            if last_sweep.elapsed() >= POLL {
                last_sweep = Instant::now();
                self.close_idle(&mut table)?;
            }
        }
        Ok(())
    }

    /// Reads client datagrams (at most BUDGET); returns whether more may be waiting.
    fn read_front(
        &self,
        front: &UdpSocket,
        poll: &Poll,
        table: &mut Table,
        next_flow: &mut usize,
        buf: &mut [u8],
    ) -> io::Result<bool> {
        for _ in 0..BUDGET {
            let (len, client) = match front.recv_from(buf) {
                Ok(received) => received,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                // An ICMP error about a client that went away (Windows reports those here),
                // or a signal: neither stops the relay.
                Err(_) => continue,
            };
            let flow = match table.by_client.get_mut(&client) {
                Some(session) => {
                    session.last_active = Instant::now();
                    session.flow
                }
                None => {
                    if !self.make_room(client.ip(), table)? {
                        continue;
                    }
                    let mut opened = self.open_session(client, *next_flow, poll);
                    if opened.as_ref().is_err_and(out_of_descriptors) {
                        // No descriptor for its socket: the longest-idle session makes way.
                        // Its socket closes as the dispatcher drops its handle; a few
                        // tries, a millisecond apart, in case the system is slow to reuse it.
                        if let Some(victim) = table.longest_idle_of_largest() {
                            self.evict(victim, table)?;
                            for _ in 0..5 {
                                std::thread::sleep(Duration::from_millis(1));
                                opened = self.open_session(client, *next_flow, poll);
                                if !opened.as_ref().is_err_and(out_of_descriptors) {
                                    break;
                                }
                            }
                        }
                    }
                    let session = match opened {
                        Ok(session) => session,
                        Err(e) => {
                            let server = self.server;
                            self.shared.warn(|| {
                                format!("lossy-relay: no socket towards {server} for {client}: {e}")
                            });
                            continue;
                        }
                    };
                    *next_flow += 1;
                    let flow = session.flow;
                    table.insert(client, session);
                    self.shared
                        .sessions
                        .store(table.by_client.len(), Ordering::Relaxed);
                    flow
                }
            };
            (self.dispatcher.borrow_mut()).handle(flow, Direction::ToServer, &buf[..len]);
        }
        Ok(true)
    }

    /// Reads the server's datagrams for one session (at most BUDGET).
    fn read_upstream(&self, token: Token, table: &mut Table, buf: &mut [u8]) -> io::Result<bool> {
        let flow = token.0 - 1;
        let Some(client) = table.by_flow.get(&flow).copied() else {
            return Ok(false); // closed earlier in this turn
        };
        let Some(session) = table.by_client.get_mut(&client) else {
            return Ok(false);
        };
        for _ in 0..BUDGET {
            match session.upstream.recv(buf) {
                Ok(len) => {
                    session.last_active = Instant::now();
                    (self.dispatcher.borrow_mut()).handle(flow, Direction::ToClient, &buf[..len]);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                // "Connection refused" while the server is not (yet) running, a signal.
                Err(_) => {}
            }
        }
        Ok(true)
    }

    /// Before a session for a client from `ip` opens: if that address holds its share or
    /// opens sessions faster than its rate, its own longest-idle session goes; else, if the
    /// table is full, the longest-idle of the address holding the most. Returns whether the
    /// session may open.
    fn make_room(&self, ip: IpAddr, table: &mut Table) -> io::Result<bool> {
        let within_rate = table.take_token(ip, self.max_per_address, Instant::now());
        let mine = table.per_address.get(&ip).map_or(0, |a| a.sessions);
        let victim = if mine >= self.max_per_address || !within_rate {
            table.longest_idle(|client| client.ip() == ip)
        } else if table.by_client.len() >= self.max_sessions {
            table.longest_idle_of_largest()
        } else {
            None
        };
        if let Some(client) = victim {
            self.evict(client, table)?;
        }
        Ok(within_rate || victim.is_some())
    }

    fn evict(&self, client: SocketAddr, table: &mut Table) -> io::Result<()> {
        self.shared.evicted.fetch_add(1, Ordering::Relaxed);
        self.close(client, table)
    }

    /// A new session for `client`: a socket towards the server, registered for reading; its
    /// sending clone goes to the dispatcher.
    fn open_session(&self, client: SocketAddr, flow: usize, poll: &Poll) -> io::Result<Session> {
        let upstream = open_upstream(self.server).and_then(|socket| {
            let mut socket = UdpSocket::from_std(socket);
            poll.registry()
                .register(&mut socket, Token(flow + 1), Interest::READABLE)?;
            Ok(Arc::new(socket))
        })?;
        self.dispatch(Event::NewFlow {
            flow,
            client,
            upstream: Arc::clone(&upstream),
        });
        Ok(Session {
            flow,
            upstream,
            last_active: Instant::now(),
        })
    }

    /// Hands `event` to the dispatcher, which decides (and sends) before this returns.
    fn dispatch(&self, event: Event) {
        self.dispatcher.borrow_mut().on_event(event);
    }

    /// Forgets every session quiet for longer than the idle timeout.
    fn close_idle(&self, table: &mut Table) -> io::Result<()> {
        let Some(idle) = self.idle_timeout else {
            return Ok(());
        };
        let quiet: Vec<SocketAddr> = (table.by_client.iter())
            .filter(|(_, session)| session.last_active.elapsed() >= idle)
            .map(|(client, _)| *client)
            .collect();
        for client in quiet {
            self.close(client, table)?;
            self.shared.trace(format!(
                "lossy-relay: forgot {client} after {} s of silence",
                idle.as_secs_f64()
            ));
        }
        Ok(())
    }

    /// Closes `client`'s session: the dispatcher drops its handle on the socket, and the
    /// socket closes with the last one (the poller forgets a closed socket by itself; a late
    /// event names a flow number that is never used again).
    fn close(&self, client: SocketAddr, table: &mut Table) -> io::Result<()> {
        if let Some(session) = table.remove(client) {
            self.dispatch(Event::FlowClosed { flow: session.flow });
        }
        self.shared
            .sessions
            .store(table.by_client.len(), Ordering::Relaxed);
        Ok(())
    }
}

/// One client address: its sessions, and its bucket of new sessions (a token a session,
/// [`NEW_PER_SECOND`] tokens a second, at most its share).
struct Address {
    sessions: usize,
    tokens: f64,
    refilled: Instant,
}

/// The session table, indexed by client, by flow, and counted by address.
#[derive(Default)]
struct Table {
    by_client: HashMap<SocketAddr, Session>,
    by_flow: HashMap<usize, SocketAddr>,
    per_address: HashMap<IpAddr, Address>,
}

impl Table {
    fn insert(&mut self, client: SocketAddr, session: Session) {
        self.by_flow.insert(session.flow, client);
        let address = self.per_address.entry(client.ip()).or_insert(Address {
            sessions: 0,
            tokens: f64::INFINITY, // a full bucket: capped to the share at the next take
            refilled: Instant::now(),
        });
        address.sessions += 1;
        self.by_client.insert(client, session);
    }

    fn remove(&mut self, client: SocketAddr) -> Option<Session> {
        let session = self.by_client.remove(&client)?;
        self.by_flow.remove(&session.flow);
        if let Some(address) = self.per_address.get_mut(&client.ip()) {
            address.sessions -= 1;
            if address.sessions == 0 {
                self.per_address.remove(&client.ip());
            }
        }
        Some(session)
    }

    /// Takes a token from `ip`'s bucket of new sessions (an address with no session has a
    /// full one); returns whether there was one.
    fn take_token(&mut self, ip: IpAddr, burst: usize, now: Instant) -> bool {
        let Some(address) = self.per_address.get_mut(&ip) else {
            return true;
        };
        let earned = now.duration_since(address.refilled).as_secs_f64() * NEW_PER_SECOND;
        address.tokens = (address.tokens + earned).min(burst as f64);
        address.refilled = now;
        if address.tokens >= 1.0 {
            address.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// The longest-idle session of the address that holds the most sessions.
    fn longest_idle_of_largest(&self) -> Option<SocketAddr> {
        let most = self.per_address.values().map(|a| a.sessions).max()?;
        self.longest_idle(|client| {
            self.per_address
                .get(&client.ip())
                .is_some_and(|a| a.sessions == most)
        })
    }

    /// The client, among those `which` accepts, whose session has been quiet the longest.
    fn longest_idle(&self, which: impl Fn(&SocketAddr) -> bool) -> Option<SocketAddr> {
        (self.by_client.iter())
            .filter(|(client, _)| which(client))
            .min_by_key(|(_, session)| session.last_active)
            .map(|(client, _)| *client)
    }
}

/// Whether `e` says the process (EMFILE) or the system (ENFILE) has no descriptor left.
fn out_of_descriptors(e: &io::Error) -> bool {
    // EMFILE 24 and ENFILE 23 on Linux, macOS and the BSDs; WSAEMFILE on Windows.
    matches!(e.raw_os_error(), Some(23 | 24 | 10_024))
}

/// A socket towards `server` for one client, bound to loopback: the relay cannot forward
/// anywhere but to this machine. Non-blocking: the dispatcher never waits on a send (a full
/// buffer loses the datagram, as UDP would).
fn open_upstream(server: SocketAddr) -> io::Result<std::net::UdpSocket> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::LOCALHOST, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::LOCALHOST, 0).into(),
    };
    let socket = std::net::UdpSocket::bind(local)?;
    prepare(&socket)?;
    socket.connect(server)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}
