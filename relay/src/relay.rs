//! The running relay.
//!
//! Threads and who owns what (two, however many clients):
//! - the *I/O thread* ([`crate::sessions`]) owns the socket clients send to and, for each
//!   client address, a *session*: an upstream socket towards the server (so the server sees
//!   one peer per client and its replies find their way back). It reads every socket through
//!   one `Poll`, bounds the sessions (in all and per address, evicting the longest-idle), and
//!   forgets those quiet for `idle_timeout`. It hands each datagram (and each session
//!   opened or closed) to the *dispatcher* it owns, on the same thread: a datagram forwarded
//!   without delay leaves from the thread that read it, with no other thread to wake;
//! - the dispatcher alone decides fates, counts, records, holds, delays and sends. With one
//!   decider, the fates and the record follow the order in which datagrams reached the relay.
//!   Its delay queue holds at most `max_queued` bytes (each datagram charged its payload
//!   and [`QUEUED_OVERHEAD`]); past that a delayed datagram is
//!   dropped and counted. The I/O thread wakes when the next delayed or held datagram is due;
//! - the *trace writer* prints the trace lines and (at most one a second) the warnings the
//!   other threads hand it through a bounded
//!   queue: a stderr nobody reads (a paused pager) stops the writer, never the relay; lines
//!   that do not fit are dropped and counted.
//!
//! Stopping sets a flag; the I/O thread wakes at least every 50 ms to look at it.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use wire_record::{Exchange, text};

use crate::fate::{Action, Direction, Fate, Fates, HOLD_LIMIT, Rates, Script};
use crate::sessions::Sessions;

/// How often the threads wake up to check whether the relay is stopping.
pub(crate) const POLL: Duration = Duration::from_millis(50);
/// Receive buffer for one datagram: larger than any datagram.
pub(crate) const DATAGRAM_BUFFER: usize = 65_536;
/// Kernel socket buffers: bursts must not be dropped by the relay itself, only by its fates.
const SOCKET_BUFFER: usize = 1 << 20;
/// At most this many sessions at once by default (each is a socket): a flood of new source
/// ports cannot make the relay take more. A newcomer past it evicts the longest-idle session.
pub const MAX_SESSIONS: usize = 1024;
/// At most this many sessions for one client address by default: one process opening
/// sessions from many ports evicts its own, not everybody else's.
pub const MAX_PER_ADDRESS: usize = 64;
/// Bytes the delay queue may hold by default (`--max-queued`).
pub const MAX_QUEUED: usize = 32 << 20;
/// What one delayed datagram costs besides its payload (its entries in the queue and in
/// the pending map, its allocation), charged against `max_queued`: empty datagrams are not
/// free to hold.
pub const QUEUED_OVERHEAD: usize = 128;
/// Warnings (a socket that cannot be opened, ...) printed at most once per this period; the
/// others are counted and the next printed line says how many were left out.
const WARN_EVERY: Duration = Duration::from_secs(1);
/// Trace lines waiting for stderr, at most; more are dropped and counted.
const TRACE_QUEUE: usize = 4_096;
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
    /// Sessions at once, in all; a newcomer past it evicts the longest-idle session.
    pub max_sessions: usize,
    /// Sessions at once for one client address; a newcomer past it evicts that address's
    /// longest-idle session.
    pub max_per_address: usize,
    /// Bytes of delayed datagrams held at once; a delayed datagram past it is dropped (and
    /// counted in [`Stats::queue_full`]).
    pub max_queued: usize,
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
            max_sessions: MAX_SESSIONS,
            max_per_address: MAX_PER_ADDRESS,
            max_queued: MAX_QUEUED,
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

/// Counters for both directions, and what the relay's own bounds cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub to_server: Counters,
    pub to_client: Counters,
    /// Sessions closed to make room for a newcomer.
    pub evicted: u64,
    /// Delayed datagrams dropped because the delay queue held `max_queued` bytes.
    pub queue_full: u64,
    /// Trace lines (and warnings) dropped because stderr was not keeping up.
    pub trace_dropped: u64,
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
        if self.evicted + self.queue_full + self.trace_dropped > 0 {
            writeln!(
                f,
                "bounds: {} sessions evicted, {} delayed datagrams dropped (queue full), {} trace lines dropped",
                self.evicted, self.queue_full, self.trace_dropped
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
pub(crate) struct Shared {
    stats: Mutex<Stats>,
    log: Mutex<Vec<TraceEntry>>,
    exchange: Exchange,
    stop: AtomicBool,
    /// Open sessions (one per client seen and not yet forgotten).
    pub(crate) sessions: AtomicUsize,
    /// Sessions evicted to make room.
    pub(crate) evicted: AtomicU64,
    /// Delayed datagrams dropped at a full queue.
    queue_full: AtomicU64,
    /// Lines for the writer thread (trace lines and warnings): the relay never writes to
    /// stderr itself.
    lines: SyncSender<String>,
    /// Whether datagrams are traced (`--trace`).
    tracing: bool,
    trace_dropped: AtomicU64,
    /// When a warning was last printed, and how many were left out since.
    warned: Mutex<(Option<Instant>, u64)>,
}

impl Shared {
    /// Hands a trace line to the trace writer, or drops (and counts) it if the writer is
    /// behind: the relay never waits for its stderr.
    pub(crate) fn trace(&self, line: String) {
        if self.tracing {
            self.print(line);
        }
    }

    /// A warning from the relay's threads, through the same writer (never blocking), at most
    /// one a [`WARN_EVERY`]: a flood of failures cannot become a flood of lines.
    pub(crate) fn warn(&self, line: impl FnOnce() -> String) {
        let left_out = {
            let mut warned = self.warned.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            if warned
                .0
                .is_some_and(|last| now.duration_since(last) < WARN_EVERY)
            {
                warned.1 += 1;
                return;
            }
            warned.0 = Some(now);
            std::mem::take(&mut warned.1)
        };
        let mut line = line();
        if left_out > 0 {
            line.push_str(&format!(" ({left_out} more like it not shown)"));
        }
        self.print(line);
    }

    fn print(&self, line: String) {
        if let Err(TrySendError::Full(_)) = self.lines.try_send(line) {
            self.trace_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

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

    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// A running relay. Dropping it stops it.
pub struct Relay {
    addr: SocketAddr,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

/// What the I/O thread tells the dispatcher about its sessions.
pub(crate) enum Event {
    /// A client was seen for the first time; flows are numbered in the order of these events.
    NewFlow {
        flow: usize,
        client: SocketAddr,
        upstream: Arc<mio::net::UdpSocket>,
    },
    /// The client's session was closed (idle, or evicted): drop its socket.
    FlowClosed { flow: usize },
}

impl Relay {
    /// Binds `bind` (port 0: any free port) and starts relaying to `config.server`.
    pub fn start(bind: SocketAddr, config: RelayConfig) -> io::Result<Relay> {
        Relay::start_on(UdpSocket::bind(bind)?, config)
    }

    /// Starts relaying to `config.server` from `front`, a socket bound already (the
    /// `lossy-relay` program binds `[::]` with `IPV6_V6ONLY` off, to take both families).
    pub fn start_on(front: UdpSocket, config: RelayConfig) -> io::Result<Relay> {
        if let Some(rates) = &config.rates {
            rates
                .validate()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        }
        prepare(&front)?;
        let addr = front.local_addr()?;
        let (lines, to_print) = mpsc::sync_channel::<String>(TRACE_QUEUE);
        // Not joined: blocked on a stderr nobody reads, it must not hold up the stop.
        // It ends when the relay drops the sending end.
        thread::Builder::new()
            .name("relay-trace".into())
            .spawn(move || {
                for line in to_print {
                    eprintln!("{line}");
                }
            })?;
        let shared = Arc::new(Shared {
            stats: Mutex::new(Stats::default()),
            log: Mutex::new(Vec::new()),
            exchange: Exchange::new(),
            stop: AtomicBool::new(false),
            sessions: AtomicUsize::new(0),
            evicted: AtomicU64::new(0),
            queue_full: AtomicU64::new(0),
            lines,
            tracing: config.trace,
            trace_dropped: AtomicU64::new(0),
            warned: Mutex::new((None, 0)),
        });
        shared.exchange.name(config.server, "server");

        let dispatcher = Dispatcher {
            front: front.try_clone()?,
            server: config.server,
            flows: HashMap::new(),
            fates: Fates::new(config.script, config.rates),
            holds: HashMap::new(),
            delayed: BinaryHeap::new(),
            pending: HashMap::new(),
            queued_bytes: 0,
            max_queued: config.max_queued,
            next_seq: 0,
            started: Instant::now(),
            trace: config.trace,
            record: config.record,
            shared: Arc::clone(&shared),
        };
        let sessions = Sessions {
            server: config.server,
            idle_timeout: config.idle_timeout,
            max_sessions: config.max_sessions.max(1),
            max_per_address: config.max_per_address.max(1),
            dispatcher: RefCell::new(dispatcher),
            shared: Arc::clone(&shared),
        };
        let (poll, front) = Sessions::poll_front(front)?;
        let reader = thread::Builder::new()
            .name("relay-io".into())
            .spawn(move || sessions.run(poll, front))?;
        Ok(Relay {
            addr,
            shared,
            threads: vec![reader],
        })
    }

    /// The address clients send to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many client sessions are open (each holds a socket).
    pub fn sessions(&self) -> usize {
        self.shared.sessions.load(Ordering::Relaxed)
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        Stats {
            evicted: self.shared.evicted.load(Ordering::Relaxed),
            queue_full: self.shared.queue_full.load(Ordering::Relaxed),
            trace_dropped: self.shared.trace_dropped.load(Ordering::Relaxed),
            ..*self.shared.stats()
        }
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

/// Read timeout and large buffers.
pub(crate) fn prepare(socket: &UdpSocket) -> io::Result<()> {
    socket.set_read_timeout(Some(POLL))?;
    let sock = socket2::SockRef::from(socket);
    sock.set_send_buffer_size(SOCKET_BUFFER)?;
    sock.set_recv_buffer_size(SOCKET_BUFFER)
}

struct Flow {
    client: SocketAddr,
    upstream: Arc<mio::net::UdpSocket>,
}

/// A datagram waiting to be sent later.
struct Pending {
    flow: usize,
    direction: Direction,
    bytes: Vec<u8>,
}

pub(crate) struct Dispatcher {
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
    /// Bytes in `pending` plus [`QUEUED_OVERHEAD`] for each, at most `max_queued`.
    queued_bytes: usize,
    max_queued: usize,
    next_seq: u64,
    started: Instant,
    trace: bool,
    record: bool,
    shared: Arc<Shared>,
}

impl Dispatcher {
    /// Takes one event from the I/O thread, in the order the datagrams reached the relay.
    pub(crate) fn on_event(&mut self, event: Event) {
        match event {
            Event::NewFlow {
                flow,
                client,
                upstream,
            } => {
                if self.record {
                    self.shared
                        .exchange
                        .name(client, &format!("client {}", flow + 1));
                }
                self.flows.insert(flow, Flow { client, upstream });
            }
            Event::FlowClosed { flow } => {
                // Dropping the Flow closes the socket (the poller has already forgotten it).
                self.flows.remove(&flow);
                self.holds.retain(|(held_flow, _), _| *held_flow != flow);
            }
        }
    }

    /// Decides the fate of one datagram of `flow` (read into the I/O thread's buffer) and
    /// sends it now, or copies it to hold or delay it.
    pub(crate) fn handle(&mut self, flow: usize, direction: Direction, bytes: &[u8]) {
        if !self.flows.contains_key(&flow) {
            return; // its session was closed while the datagram was on its way here
        }
        let fate = self.fates.decide(direction, bytes);
        self.count(direction, fate);
        self.record_entry(flow, direction, bytes, fate);
        let overtaken = self.holds.remove(&(flow, direction));
        match fate.action {
            Action::Drop => {
                if self.record {
                    let (from, to) = self.endpoints(flow, direction);
                    self.shared.exchange.lost(from, to, bytes);
                }
            }
            Action::Forward => self.send_after(fate.delay, flow, direction, bytes),
            Action::Duplicate => {
                self.send_after(fate.delay, flow, direction, bytes);
                self.send_after(fate.delay, flow, direction, bytes);
            }
            Action::Reorder => {
                self.holds
                    .insert((flow, direction), (bytes.to_vec(), Instant::now()));
            }
        }
        // A datagram held back earlier goes out after this one: now they are out of order.
        if let Some((held, _)) = overtaken {
            self.send_after(fate.delay, flow, direction, &held);
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
            self.shared.trace(entry.to_string());
        }
        if self.record {
            self.shared.log().push(entry);
        }
    }

    /// Sends `bytes` now, or a copy after `delay`.
    fn send_after(&mut self, delay: Duration, flow: usize, direction: Direction, bytes: &[u8]) {
        if delay.is_zero() {
            self.deliver(flow, direction, bytes);
            return;
        }
        let cost = bytes.len() + QUEUED_OVERHEAD;
        if self.queued_bytes + cost > self.max_queued {
            // Memory is bounded: past `max_queued` bytes a delayed datagram is lost (and
            // counted), as on a router whose queue is full.
            self.shared.queue_full.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.queued_bytes += cost;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.delayed.push(Reverse((Instant::now() + delay, seq)));
        self.pending.insert(
            seq,
            Pending {
                flow,
                direction,
                bytes: bytes.to_vec(),
            },
        );
    }

    /// When the next delayed datagram is due or the next hold runs out.
    pub(crate) fn next_wake(&self) -> Option<Instant> {
        let delayed = self.delayed.peek().map(|Reverse((at, _))| *at);
        let held = self
            .holds
            .values()
            .map(|(_, since)| *since + HOLD_LIMIT)
            .min();
        delayed.into_iter().chain(held).min()
    }

    /// Sends the delayed datagrams that are due and those held back too long.
    pub(crate) fn release_due(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((at, seq))) = self.delayed.peek().copied() {
            if at > now {
                break;
            }
            self.delayed.pop();
            if let Some(p) = self.pending.remove(&seq) {
                self.queued_bytes -= p.bytes.len() + QUEUED_OVERHEAD;
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
