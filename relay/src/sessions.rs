//! The relay's sessions, all on one thread: the front socket (where clients send) and every
//! session's upstream socket (towards the server) are registered with one mio `Poll`; one
//! thread reads whatever is ready and passes it on, as events, to the dispatcher.
//!
//! A session costs a socket and a table entry, no thread. Their number is bounded twice:
//! at most `max_sessions` in all and `max_per_address` for one client address. A newcomer is
//! never refused: when its address holds its share, that address's longest-idle session
//! makes way; when the table is full, the longest-idle session of all does. One process
//! that opens sessions from many ports therefore only evicts its own, and a client that
//! keeps talking is the last to go.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::SyncSender;
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};

use crate::fate::Direction;
use crate::relay::{DATAGRAM_BUFFER, Event, POLL, Shared, prepare};

/// The front socket's token; session `flow` has `Token(flow + 1)`.
const FRONT: Token = Token(0);
/// Datagrams read from one socket per turn before the others get theirs.
const BUDGET: usize = 256;

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
    pub events: SyncSender<Event>,
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
        if let Err(e) = self.serve(poll, front) {
            eprintln!("lossy-relay: stopped relaying: {e}");
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
            // Wake at least every POLL: to see the stop flag, and to forget quiet sessions.
            let wait = if again.is_empty() {
                POLL
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
                    self.make_room(client.ip(), table)?;
                    let Some(session) = self.open_session(client, *next_flow, poll) else {
                        continue;
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
            let event = Event::Datagram {
                flow,
                direction: Direction::ToServer,
                bytes: buf[..len].to_vec(),
            };
            if self.events.send(event).is_err() {
                return Err(io::Error::other("the dispatcher stopped"));
            }
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
                    let event = Event::Datagram {
                        flow,
                        direction: Direction::ToClient,
                        bytes: buf[..len].to_vec(),
                    };
                    if self.events.send(event).is_err() {
                        return Err(io::Error::other("the dispatcher stopped"));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                // "Connection refused" while the server is not (yet) running, a signal.
                Err(_) => {}
            }
        }
        Ok(true)
    }

    /// Before a session for a client from `ip` opens: if that address holds its share,
    /// its longest-idle session goes; else, if the table is full, the longest-idle of all.
    fn make_room(&self, ip: IpAddr, table: &mut Table) -> io::Result<()> {
        let mine = table.per_address.get(&ip).copied().unwrap_or(0);
        let victim = if mine >= self.max_per_address {
            table.longest_idle(|client| client.ip() == ip)
        } else if table.by_client.len() >= self.max_sessions {
            table.longest_idle(|_| true)
        } else {
            None
        };
        if let Some(client) = victim {
            self.shared.evicted.fetch_add(1, Ordering::Relaxed);
            self.close(client, table)?;
        }
        Ok(())
    }

    /// A new session for `client`: a socket towards the server, registered for reading; its
    /// sending clone goes to the dispatcher.
    fn open_session(&self, client: SocketAddr, flow: usize, poll: &Poll) -> Option<Session> {
        let opened = open_upstream(self.server).and_then(|socket| {
            let mut socket = UdpSocket::from_std(socket);
            poll.registry()
                .register(&mut socket, Token(flow + 1), Interest::READABLE)?;
            Ok(Arc::new(socket))
        });
        let upstream = match opened {
            Ok(socket) => socket,
            Err(e) => {
                eprintln!(
                    "lossy-relay: no socket towards {} for {client}: {e}",
                    self.server
                );
                return None;
            }
        };
        self.events
            .send(Event::NewFlow {
                flow,
                client,
                upstream: Arc::clone(&upstream),
            })
            .ok()?;
        Some(Session {
            flow,
            upstream,
            last_active: Instant::now(),
        })
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
            self.events
                .send(Event::FlowClosed { flow: session.flow })
                .map_err(|_| io::Error::other("the dispatcher stopped"))?;
        }
        self.shared
            .sessions
            .store(table.by_client.len(), Ordering::Relaxed);
        Ok(())
    }
}

/// The session table, indexed by client, by flow, and counted by address.
#[derive(Default)]
struct Table {
    by_client: HashMap<SocketAddr, Session>,
    by_flow: HashMap<usize, SocketAddr>,
    per_address: HashMap<IpAddr, usize>,
}

impl Table {
    fn insert(&mut self, client: SocketAddr, session: Session) {
        self.by_flow.insert(session.flow, client);
        *self.per_address.entry(client.ip()).or_insert(0) += 1;
        self.by_client.insert(client, session);
    }

    fn remove(&mut self, client: SocketAddr) -> Option<Session> {
        let session = self.by_client.remove(&client)?;
        self.by_flow.remove(&session.flow);
        let count = self.per_address.entry(client.ip()).or_insert(1);
        *count -= 1;
        if *count == 0 {
            self.per_address.remove(&client.ip());
        }
        Some(session)
    }

    /// The client, among those `which` accepts, whose session has been quiet the longest.
    fn longest_idle(&self, which: impl Fn(&SocketAddr) -> bool) -> Option<SocketAddr> {
        (self.by_client.iter())
            .filter(|(client, _)| which(client))
            .min_by_key(|(_, session)| session.last_active)
            .map(|(client, _)| *client)
    }
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
