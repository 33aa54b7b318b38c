//! The running relay.
//!
//! Threads and who owns what:
//! - the *front reader* owns the socket clients send to; for each new client address it opens
//!   a *session*: an upstream socket towards the server (so the server sees one peer per
//!   client and its replies find their way back) and an *upstream reader* thread for it. It
//!   also closes sessions that have been quiet for `idle_timeout` in both directions: their
//!   reader stops, and the dispatcher drops the socket, so a client that left costs nothing;
//! - the readers only pass datagrams on, as events, to the *dispatcher*;
//! - the dispatcher alone decides fates, counts, records, holds, delays and sends. With one
//!   decider, the fates and the record follow the order in which datagrams reached the relay.
//!
//! Stopping sets a flag; every reader wakes at least every 50 ms to look at it, and the
//! dispatcher ends when the readers have dropped their ends of the event channel.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use wire_record::{Exchange, text};

use crate::fate::{Action, Direction, Fate, Fates, HOLD_LIMIT, Rates, Script};

/// How often blocked readers wake up to check whether the relay is stopping.
const POLL: Duration = Duration::from_millis(50);
/// Receive buffer for one datagram: larger than any datagram.
const DATAGRAM_BUFFER: usize = 65_536;
/// Kernel socket buffers: bursts must not be dropped by the relay itself, only by its fates.
const SOCKET_BUFFER: usize = 1 << 20;
/// At most this many sessions at once (each is a thread and a socket): a flood of new source
/// addresses cannot make the relay take more. Datagrams from further clients are dropped until
/// a session closes (see `RelayConfig::idle_timeout`).
pub const MAX_SESSIONS: usize = 1024;
/// How many characters of a payload the trace shows.
const PREVIEW_CHARS: usize = 24;

/// What the relay forwards to, and how it misbehaves.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The server every client's datagrams go to (on this machine).
    pub server: SocketAddr,
    /// Exact fates, tried first.
    pub script: Script,
    /// Random but reproducible fates for what the script does not name.
    pub rates: Option<Rates>,
    /// Print one line per datagram on stderr as it is decided.
    pub trace: bool,
    /// Keep the trace and the exchange in memory (for tests and diagrams).
    pub record: bool,
    /// Close a client's session (its thread and socket) after this long without a datagram
    /// in either direction; `None`: keep every session until the relay stops. A client that
    /// comes back later gets a new session, and the server sees a new port.
    pub idle_timeout: Option<Duration>,
}

impl RelayConfig {
    /// A relay to `server` that forwards everything, records, and prints nothing.
    pub fn new(server: SocketAddr) -> Self {
        RelayConfig {
            server,
            script: Script::new(),
            rates: None,
            trace: false,
            record: true,
            idle_timeout: None,
        }
    }

    /// Closing quiet sessions after `idle`.
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = Some(idle);
        self
    }

    /// With these scripted fates.
    pub fn script(mut self, script: Script) -> Self {
        self.script = script;
        self
    }

    /// With these rates.
    pub fn rates(mut self, rates: Rates) -> Self {
        self.rates = Some(rates);
        self
    }
}

/// What happened to the datagrams of one direction. Each datagram counts once as forwarded,
/// dropped, duplicated or reordered; `delayed` counts those of them that were also delayed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub forwarded: u64,
    pub dropped: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub delayed: u64,
}

impl Counters {
    /// Datagrams that reached the relay in this direction.
    pub fn total(&self) -> u64 {
        self.forwarded + self.dropped + self.duplicated + self.reordered
    }
}

/// Counters for both directions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub to_server: Counters,
    pub to_client: Counters,
}

impl Stats {
    fn counters_mut(&mut self, direction: Direction) -> &mut Counters {
        match direction {
            Direction::ToServer => &mut self.to_server,
            Direction::ToClient => &mut self.to_client,
        }
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (direction, c) in [
            (Direction::ToServer, &self.to_server),
            (Direction::ToClient, &self.to_client),
        ] {
            writeln!(
                f,
                "{direction}: {} datagrams: {} forwarded, {} dropped, {} duplicated, {} reordered, {} delayed",
                c.total(),
                c.forwarded,
                c.dropped,
                c.duplicated,
                c.reordered,
                c.delayed
            )?;
        }
        Ok(())
    }
}

/// One line of the relay's record: a datagram and its fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEntry {
    /// Since the relay started.
    pub at: Duration,
    pub direction: Direction,
    /// The client whose flow the datagram belongs to.
    pub client: SocketAddr,
    pub len: usize,
    pub fate: Fate,
    /// The start of the payload, printable.
    pub preview: String,
}

impl fmt::Display for TraceEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>8.3} s  {}  {}  {:>5} B  {:<13} \"{}\"",
            self.at.as_secs_f64(),
            self.direction,
            self.client,
            self.len,
            self.fate.to_string(),
            self.preview
        )
    }
}

/// State the relay's threads share with its owner.
struct Shared {
    stats: Mutex<Stats>,
    log: Mutex<Vec<TraceEntry>>,
    exchange: Exchange,
    stop: AtomicBool,
    /// Open sessions (one per client seen and not yet forgotten).
    sessions: AtomicUsize,
}

impl Shared {
    fn stats(&self) -> MutexGuard<'_, Stats> {
        self.stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn log(&self) -> MutexGuard<'_, Vec<TraceEntry>> {
        self.log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// A running relay. Dropping it stops it.
pub struct Relay {
    addr: SocketAddr,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

enum Event {
    /// A client was seen for the first time; flows are numbered in the order of these events.
    NewFlow {
        flow: usize,
        client: SocketAddr,
        upstream: Arc<UdpSocket>,
    },
    /// The client's session was closed (idle): drop its socket.
    FlowClosed { flow: usize },
    Datagram {
        flow: usize,
        direction: Direction,
        bytes: Vec<u8>,
    },
}

impl Relay {
    /// Binds `bind` (port 0: any free port) and starts relaying to `config.server`.
    pub fn start(bind: SocketAddr, config: RelayConfig) -> io::Result<Relay> {
        if let Some(rates) = &config.rates {
            rates
                .validate()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        }
        let front = UdpSocket::bind(bind)?;
        prepare(&front)?;
        let addr = front.local_addr()?;
        let shared = Arc::new(Shared {
            stats: Mutex::new(Stats::default()),
            log: Mutex::new(Vec::new()),
            exchange: Exchange::new(),
            stop: AtomicBool::new(false),
            sessions: AtomicUsize::new(0),
        });
        shared.exchange.name(config.server, "server");

        let (events, incoming) = mpsc::channel();
        let dispatcher = Dispatcher {
            front: front.try_clone()?,
            server: config.server,
            flows: HashMap::new(),
            fates: Fates::new(config.script, config.rates),
            holds: HashMap::new(),
            delayed: BinaryHeap::new(),
            pending: HashMap::new(),
            next_seq: 0,
            started: Instant::now(),
            trace: config.trace,
            record: config.record,
            shared: Arc::clone(&shared),
        };
        let dispatch = thread::Builder::new()
            .name("relay-dispatch".into())
            .spawn(move || dispatcher.run(incoming))?;
        let reader_shared = Arc::clone(&shared);
        let front_reader = FrontReader {
            server: config.server,
            idle_timeout: config.idle_timeout,
            trace: config.trace,
            events,
            shared: reader_shared,
        };
        let reader = thread::Builder::new()
            .name("relay-front".into())
            .spawn(move || front_reader.run(front))?;
        Ok(Relay {
            addr,
            shared,
            threads: vec![reader, dispatch],
        })
    }

    /// The address clients send to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many client sessions are open (each holds a thread and a socket).
    pub fn sessions(&self) -> usize {
        self.shared.sessions.load(Ordering::Relaxed)
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        *self.shared.stats()
    }

    /// Every datagram and its fate, in the order they reached the relay.
    pub fn log(&self) -> Vec<TraceEntry> {
        self.shared.log().clone()
    }

    /// What went over the wire, as the endpoints saw it (lost datagrams included).
    pub fn exchange(&self) -> Exchange {
        self.shared.exchange.clone()
    }

    /// [`Relay::exchange`] as mermaid `sequenceDiagram` text, to print when a test fails.
    pub fn diagram(&self) -> String {
        self.shared.exchange.to_mermaid()
    }

    /// Stops the relay, waits for its threads, and returns the final counters.
    pub fn shutdown(mut self) -> Stats {
        self.stop();
        self.stats()
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Read timeout (so readers notice a stop) and large buffers.
fn prepare(socket: &UdpSocket) -> io::Result<()> {
    socket.set_read_timeout(Some(POLL))?;
    let sock = socket2::SockRef::from(socket);
    sock.set_send_buffer_size(SOCKET_BUFFER)?;
    sock.set_recv_buffer_size(SOCKET_BUFFER)
}

/// Nothing arrived before the read timeout (`WouldBlock` on Unix, `TimedOut` on Windows).
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// A socket towards `server` for one client, bound to loopback: the relay cannot forward
/// anywhere but to this machine.
fn open_upstream(server: SocketAddr) -> io::Result<UdpSocket> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::LOCALHOST, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::LOCALHOST, 0).into(),
    };
    let socket = UdpSocket::bind(local)?;
    prepare(&socket)?;
    socket.connect(server)?;
    Ok(socket)
}

/// One client's session, as the front reader keeps it.
struct Session {
    flow: usize,
    /// When the client last sent a datagram.
    last_from_client: Instant,
    /// When the server last sent one to this client (set by the upstream reader).
    last_from_server: Arc<Mutex<Instant>>,
    /// Tells this session's upstream reader to stop.
    closing: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
}

impl Session {
    fn last_activity(&self) -> Instant {
        let server = *self
            .last_from_server
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        server.max(self.last_from_client)
    }
}

struct FrontReader {
    server: SocketAddr,
    idle_timeout: Option<Duration>,
    trace: bool,
    events: Sender<Event>,
    shared: Arc<Shared>,
}

impl FrontReader {
    fn run(self, front: UdpSocket) {
        let mut sessions: HashMap<SocketAddr, Session> = HashMap::new();
        let mut next_flow = 0;
        let mut last_sweep = Instant::now();
        let mut full_since_warned = false;
        let mut buf = vec![0u8; DATAGRAM_BUFFER];
        while !self.shared.stopping() {
            // At most every POLL: forget the sessions that have been quiet for too long.
            if last_sweep.elapsed() >= POLL {
                last_sweep = Instant::now();
                if self.close_idle(&mut sessions).is_err() {
                    break;
                }
            }
            let (len, client) = match front.recv_from(&mut buf) {
                Ok(received) => received,
                // A timeout (time to look at the stop flag), or an ICMP error about a client
                // that went away (Windows reports those here): neither stops the relay.
                Err(_) => continue,
            };
            let open = sessions.len();
            let flow = match sessions.get_mut(&client) {
                Some(session) => {
                    session.last_from_client = Instant::now();
                    session.flow
                }
                None if open >= MAX_SESSIONS => {
                    if !full_since_warned {
                        eprintln!(
                            "lossy-relay: {MAX_SESSIONS} clients at once, the most it serves; \
                             dropping datagrams from new clients until a session closes"
                        );
                        full_since_warned = true;
                    }
                    continue;
                }
                None => {
                    full_since_warned = false;
                    let Some(session) = self.open_session(client, next_flow) else {
                        continue;
                    };
                    next_flow += 1;
                    let flow = session.flow;
                    sessions.insert(client, session);
                    self.shared
                        .sessions
                        .store(sessions.len(), Ordering::Relaxed);
                    flow
                }
            };
            let event = Event::Datagram {
                flow,
                direction: Direction::ToServer,
                bytes: buf[..len].to_vec(),
            };
            if self.events.send(event).is_err() {
                break;
            }
        }
        for session in sessions.values_mut() {
            if let Some(reader) = session.reader.take() {
                let _ = reader.join();
            }
        }
    }

    /// A new session for `client`: the socket towards the server and its reader thread.
    fn open_session(&self, client: SocketAddr, flow: usize) -> Option<Session> {
        let upstream = match open_upstream(self.server) {
            Ok(socket) => Arc::new(socket),
            Err(e) => {
                eprintln!(
                    "lossy-relay: no socket towards {} for {client}: {e}",
                    self.server
                );
                return None;
            }
        };
        let last_from_server = Arc::new(Mutex::new(Instant::now()));
        let closing = Arc::new(AtomicBool::new(false));
        let reader = {
            let (upstream, events, shared) = (
                Arc::clone(&upstream),
                self.events.clone(),
                Arc::clone(&self.shared),
            );
            let (last, closing) = (Arc::clone(&last_from_server), Arc::clone(&closing));
            thread::Builder::new()
                .name("relay-upstream".into())
                .spawn(move || read_upstream(&upstream, flow, events, shared, &last, &closing))
        };
        let reader = match reader {
            Ok(handle) => handle,
            Err(e) => {
                eprintln!("lossy-relay: no thread for {client}: {e}");
                return None;
            }
        };
        self.events
            .send(Event::NewFlow {
                flow,
                client,
                upstream,
            })
            .ok()?;
        Some(Session {
            flow,
            last_from_client: Instant::now(),
            last_from_server,
            closing,
            reader: Some(reader),
        })
    }

    /// Closes every session quiet for longer than the idle timeout: stops its reader (each
    /// wakes within POLL, so they are all told first and then awaited) and tells the
    /// dispatcher to drop its socket.
    fn close_idle(&self, sessions: &mut HashMap<SocketAddr, Session>) -> Result<(), ()> {
        let Some(idle) = self.idle_timeout else {
            return Ok(());
        };
        let quiet: Vec<SocketAddr> = sessions
            .iter()
            .filter(|(_, session)| session.last_activity().elapsed() >= idle)
            .map(|(client, _)| *client)
            .collect();
        let mut closed = Vec::new();
        for client in quiet {
            if let Some(session) = sessions.remove(&client) {
                session.closing.store(true, Ordering::Relaxed);
                closed.push((client, session));
            }
        }
        for (client, mut session) in closed {
            if let Some(reader) = session.reader.take() {
                let _ = reader.join();
            }
            if self.trace {
                eprintln!(
                    "lossy-relay: forgot {client} after {} s of silence",
                    idle.as_secs_f64()
                );
            }
            self.events
                .send(Event::FlowClosed { flow: session.flow })
                .map_err(|_| ())?;
        }
        self.shared
            .sessions
            .store(sessions.len(), Ordering::Relaxed);
        Ok(())
    }
}

fn read_upstream(
    upstream: &UdpSocket,
    flow: usize,
    events: Sender<Event>,
    shared: Arc<Shared>,
    last_from_server: &Mutex<Instant>,
    closing: &AtomicBool,
) {
    let mut buf = vec![0u8; DATAGRAM_BUFFER];
    while !shared.stopping() && !closing.load(Ordering::Relaxed) {
        match upstream.recv(&mut buf) {
            Ok(len) => {
                *last_from_server
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Instant::now();
                let event = Event::Datagram {
                    flow,
                    direction: Direction::ToClient,
                    bytes: buf[..len].to_vec(),
                };
                if events.send(event).is_err() {
                    return;
                }
            }
            // Timeouts, and "connection refused" while the server is not (yet) running.
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::ConnectionRefused => {}
            Err(_) => {}
        }
    }
}

struct Flow {
    client: SocketAddr,
    upstream: Arc<UdpSocket>,
}

/// A datagram waiting to be sent later.
struct Pending {
    flow: usize,
    direction: Direction,
    bytes: Vec<u8>,
}

struct Dispatcher {
    front: UdpSocket,
    server: SocketAddr,
    /// Open sessions by flow number (flow numbers are never reused).
    flows: HashMap<usize, Flow>,
    fates: Fates,
    /// At most one reordered datagram held back per flow and direction, with when it was held.
    holds: HashMap<(usize, Direction), (Vec<u8>, Instant)>,
    /// Delayed datagrams by due time; `next_seq` keeps equal due times in arrival order.
    delayed: BinaryHeap<Reverse<(Instant, u64)>>,
    pending: HashMap<u64, Pending>,
    next_seq: u64,
    started: Instant,
    trace: bool,
    record: bool,
    shared: Arc<Shared>,
}

impl Dispatcher {
    fn run(mut self, incoming: Receiver<Event>) {
        loop {
            let wait = self.next_wake().map_or(POLL, |at| {
                at.saturating_duration_since(Instant::now()).min(POLL)
            });
            match incoming.recv_timeout(wait) {
                Ok(Event::NewFlow {
                    flow,
                    client,
                    upstream,
                }) => {
                    if self.record {
                        self.shared
                            .exchange
                            .name(client, &format!("client {}", flow + 1));
                    }
                    self.flows.insert(flow, Flow { client, upstream });
                }
                Ok(Event::FlowClosed { flow }) => {
                    // Dropping the Flow closes the socket (the reader has already stopped).
                    self.flows.remove(&flow);
                    self.holds.retain(|(held_flow, _), _| *held_flow != flow);
                }
                Ok(Event::Datagram {
                    flow,
                    direction,
                    bytes,
                }) => self.handle(flow, direction, bytes),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            self.release_due();
            if self.shared.stopping() {
                return;
            }
        }
    }

    fn handle(&mut self, flow: usize, direction: Direction, bytes: Vec<u8>) {
        if !self.flows.contains_key(&flow) {
            return; // its session was closed while the datagram was on its way here
        }
        let fate = self.fates.decide(direction, &bytes);
        self.count(direction, fate);
        self.record_entry(flow, direction, &bytes, fate);
        let overtaken = self.holds.remove(&(flow, direction));
        match fate.action {
            Action::Drop => {
                if self.record {
                    let (from, to) = self.endpoints(flow, direction);
                    self.shared.exchange.lost(from, to, &bytes);
                }
            }
            Action::Forward => self.send_after(fate.delay, flow, direction, bytes),
            Action::Duplicate => {
                self.send_after(fate.delay, flow, direction, bytes.clone());
                self.send_after(fate.delay, flow, direction, bytes);
            }
            Action::Reorder => {
                self.holds
                    .insert((flow, direction), (bytes, Instant::now()));
            }
        }
        // A datagram held back earlier goes out after this one: now they are out of order.
        if let Some((held, _)) = overtaken {
            self.send_after(fate.delay, flow, direction, held);
        }
    }

    fn count(&self, direction: Direction, fate: Fate) {
        let mut stats = self.shared.stats();
        let counters = stats.counters_mut(direction);
        match fate.action {
            Action::Forward => counters.forwarded += 1,
            Action::Drop => counters.dropped += 1,
            Action::Duplicate => counters.duplicated += 1,
            Action::Reorder => counters.reordered += 1,
        }
        if fate.action != Action::Drop && !fate.delay.is_zero() {
            counters.delayed += 1;
        }
    }

    fn record_entry(&self, flow: usize, direction: Direction, bytes: &[u8], fate: Fate) {
        if !self.trace && !self.record {
            return;
        }
        let Some(f) = self.flows.get(&flow) else {
            return;
        };
        let entry = TraceEntry {
            at: self.started.elapsed(),
            direction,
            client: f.client,
            len: bytes.len(),
            fate,
            preview: text::preview(bytes, PREVIEW_CHARS),
        };
        if self.trace {
            eprintln!("{entry}");
        }
        if self.record {
            self.shared.log().push(entry);
        }
    }

    fn send_after(&mut self, delay: Duration, flow: usize, direction: Direction, bytes: Vec<u8>) {
        if delay.is_zero() {
            self.deliver(flow, direction, &bytes);
            return;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.delayed.push(Reverse((Instant::now() + delay, seq)));
        self.pending.insert(
            seq,
            Pending {
                flow,
                direction,
                bytes,
            },
        );
    }

    /// When the next delayed datagram is due or the next hold runs out.
    fn next_wake(&self) -> Option<Instant> {
        let delayed = self.delayed.peek().map(|Reverse((at, _))| *at);
        let held = self
            .holds
            .values()
            .map(|(_, since)| *since + HOLD_LIMIT)
            .min();
        delayed.into_iter().chain(held).min()
    }

    fn release_due(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((at, seq))) = self.delayed.peek().copied() {
            if at > now {
                break;
            }
            self.delayed.pop();
            if let Some(p) = self.pending.remove(&seq) {
                self.deliver(p.flow, p.direction, &p.bytes);
            }
        }
        let expired: Vec<(usize, Direction)> = self
            .holds
            .iter()
            .filter(|(_, (_, since))| *since + HOLD_LIMIT <= now)
            .map(|(key, _)| *key)
            .collect();
        for key in expired {
            if let Some((bytes, _)) = self.holds.remove(&key) {
                self.deliver(key.0, key.1, &bytes);
            }
        }
    }

    fn deliver(&self, flow: usize, direction: Direction, bytes: &[u8]) {
        let Some(f) = self.flows.get(&flow) else {
            return;
        };
        // A send can fail (the server is not running yet, a client went away); UDP would
        // lose the datagram in the same situation, so the relay does too.
        let _ = match direction {
            Direction::ToServer => f.upstream.send(bytes),
            Direction::ToClient => self.front.send_to(bytes, f.client),
        };
        if self.record {
            let (from, to) = self.endpoints(flow, direction);
            self.shared.exchange.sent(from, to, bytes);
        }
    }

    fn endpoints(&self, flow: usize, direction: Direction) -> (SocketAddr, SocketAddr) {
        let client = self.flows.get(&flow).map_or(self.server, |f| f.client);
        match direction {
            Direction::ToServer => (client, self.server),
            Direction::ToClient => (self.server, client),
        }
    }
}
