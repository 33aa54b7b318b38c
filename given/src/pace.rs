//! Progress deadlines (given): a client must keep its connection moving, not just touch it.
//!
//! An idle timeout alone closes a client that is silent for the whole timeout, but one
//! byte just before it runs out starts it again: a client sending a byte every 20 s holds
//! a connection (and, in chapter 3, the whole server) forever. That is the *slowloris*
//! attack. So each connection is measured in windows as long as the idle timeout: in each
//! window it must send at least `min_rate` bytes a second on average. Only what the client
//! sends counts: that is the progress of its requests. Counting the echo too would let a
//! client sending 5 bytes every 1.8 s pass a minimum of 4 B/s with the server's own
//! answers. A silent client (nothing either way) is closed at
//! the idle timeout as before, always. A trickling one is closed only under *pressure*,
//! while others wait for its place: a person typing a line now and then into a server
//! nobody else needs is slow too, and harmless. Under pressure, a connection whose last
//! whole window was below the minimum is closed at its next check.
//!
//! - [`Pace`]: the rule (idle timeout and minimum rate), a small `Copy` value.
//! - [`Meter`]: counts the bytes one connection moves and says when it has stalled.
//! - [`Paced`]: a blocking `TcpStream` that keeps the rule by itself: each read or write
//!   waits at most until the next check, and fails with [`io::ErrorKind::TimedOut`] and a
//!   message saying why (idle, or too slow).
//! - [`Metered`]: a non-blocking stream that only counts (an event loop checks the meters
//!   itself, now and then).
//! - [`Pressure`]: whether others wait for a place, asked only about a connection that was
//!   too slow; [`Queue`] gives it for a server that serves one client at a time.

use std::borrow::Borrow;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Default minimum rate, in bytes a second sent by the client: a client typing by hand
/// passes easily in a short session; a client sending a byte now and then does not.
pub const MIN_RATE: u64 = 4;

/// How long a connection may stall: silent for `idle_timeout`, or (while others wait for
/// its place) moving fewer than `min_rate` bytes a second over a window of `idle_timeout`
/// (0: no minimum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// A client that moves no bytes for this long is closed; also the length of the window
    /// over which the rate is measured.
    pub idle_timeout: Duration,
    /// Bytes a second a client must send on average over each window while others wait
    /// for its place (0: no minimum; the server's answers do not count).
    pub min_rate: u64,
}

impl Pace {
    /// No deadline at all (for tests that call the echo directly).
    pub const UNBOUNDED: Pace = Pace {
        idle_timeout: Duration::MAX,
        min_rate: 0,
    };

    /// Bytes a connection must move in one window.
    pub fn min_bytes(&self) -> u64 {
        (self.idle_timeout.as_secs_f64() * self.min_rate as f64).ceil() as u64
    }
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            idle_timeout: Duration::from_secs(30),
            min_rate: MIN_RATE,
        }
    }
}

/// Why a connection was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stall {
    /// No byte moved for the idle timeout.
    Idle(Duration),
    /// Fewer bytes than the minimum moved in a window.
    TooSlow {
        moved: u64,
        expected: u64,
        window: Duration,
    },
}

impl fmt::Display for Stall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stall::Idle(idle) => write!(f, "idle for {} s", idle.as_secs_f64()),
            Stall::TooSlow {
                moved,
                expected,
                window,
            } => write!(
                f,
                "too slow: {moved} bytes received in {} s, at least {expected} expected",
                window.as_secs_f64()
            ),
        }
    }
}

impl From<Stall> for io::Error {
    fn from(stall: Stall) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, stall.to_string())
    }
}

/// Whether others wait for a place (given): the minimum rate is enforced only then. Asked
/// only about a connection whose last window was too slow, so it may cost a system call.
/// Clones share the question.
#[derive(Clone)]
pub struct Pressure(Arc<dyn Fn() -> bool + Send + Sync>);

impl Pressure {
    /// Pressure all the time: the minimum rate always applies.
    pub fn always() -> Self {
        Pressure::from_fn(|| true)
    }

    /// Never any pressure: only the idle timeout applies.
    pub fn never() -> Self {
        Pressure::from_fn(|| false)
    }

    /// Pressure whenever `others_wait` says so.
    pub fn from_fn(others_wait: impl Fn() -> bool + Send + Sync + 'static) -> Self {
        Pressure(Arc::new(others_wait))
    }

    /// Whether others wait for a place now.
    pub fn others_wait(&self) -> bool {
        (self.0)()
    }
}

impl fmt::Debug for Pressure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pressure(..)")
    }
}

/// The bytes one connection moved, in its current window, and whether its last whole
/// window was too slow.
#[derive(Debug, Clone)]
pub struct Meter {
    window_start: Instant,
    in_window: u64,
    last_active: Instant,
    too_slow: Option<Stall>,
}

impl Default for Meter {
    fn default() -> Self {
        Self::new()
    }
}

impl Meter {
    /// A meter whose first window starts now.
    pub fn new() -> Self {
        let now = Instant::now();
        Meter {
            window_start: now,
            in_window: 0,
            last_active: now,
            too_slow: None,
        }
    }

    /// Counts `bytes` received from the client now: progress towards the minimum rate.
    pub fn moved(&mut self, bytes: usize) {
        if bytes > 0 {
            self.in_window += bytes as u64;
            self.last_active = Instant::now();
        }
    }

    /// Notes `bytes` sent to the client now: the connection is not idle, but the server's
    /// own answers are no progress towards the minimum rate.
    pub fn sent(&mut self, bytes: usize) {
        if bytes > 0 {
            self.last_active = Instant::now();
        }
    }

    /// When bytes last moved.
    pub fn last_active(&self) -> Instant {
        self.last_active
    }

    /// When [`check`](Self::check) may next fail: the idle deadline or the end of the
    /// window, whichever comes first (`None`: never).
    pub fn next_check(&self, pace: &Pace) -> Option<Instant> {
        let idle_end = self.last_active.checked_add(pace.idle_timeout);
        let window_end = if pace.min_rate == 0 {
            None
        } else {
            self.window_start.checked_add(pace.idle_timeout)
        };
        match (idle_end, window_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the connection has stalled at `now`: idle for the idle timeout, or, if
    /// `others_wait()` (asked only then), too slow over its last whole window. A window
    /// that ended makes way for the next one.
    pub fn check(
        &mut self,
        pace: &Pace,
        now: Instant,
        others_wait: impl FnOnce() -> bool,
    ) -> Result<(), Stall> {
        if now.saturating_duration_since(self.last_active) >= pace.idle_timeout {
            return Err(Stall::Idle(pace.idle_timeout));
        }
        if pace.min_rate > 0
            && now.saturating_duration_since(self.window_start) >= pace.idle_timeout
        {
            let expected = pace.min_bytes();
            self.too_slow = (self.in_window < expected).then_some(Stall::TooSlow {
                moved: self.in_window,
                expected,
                window: pace.idle_timeout,
            });
            self.window_start = now;
            self.in_window = 0;
        }
        match self.too_slow {
            Some(stall) if pace.min_rate > 0 && others_wait() => Err(stall),
            _ => Ok(()),
        }
    }
}

/// A blocking stream that keeps a [`Pace`]: reads and writes wait at most until the next
/// check, and fail with `TimedOut` ("idle for 30 s", "too slow: ...") once the connection
/// has stalled. `S` is the stream or a reference to it.
#[derive(Debug)]
pub struct Paced<S: Borrow<TcpStream> = TcpStream> {
    stream: S,
    pace: Pace,
    meter: Meter,
    pressure: Pressure,
    /// The read and write timeouts last set on the socket (`None`: not set yet).
    timeouts: [Option<Option<Duration>>; 2],
}

impl<S: Borrow<TcpStream>> Paced<S> {
    /// Wraps `stream`; its first window starts now. The minimum rate applies at all times
    /// unless [`under`](Self::under) says when.
    pub fn new(stream: S, pace: Pace) -> Self {
        Paced {
            stream,
            pace,
            meter: Meter::new(),
            pressure: Pressure::always(),
            timeouts: [None, None],
        }
    }

    /// The same stream, whose minimum rate applies only while `pressure` says others wait.
    pub fn under(mut self, pressure: Pressure) -> Self {
        self.pressure = pressure;
        self
    }

    /// The address of the client.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.borrow().peer_addr()
    }

    /// The stream inside.
    pub fn get_ref(&self) -> &TcpStream {
        self.stream.borrow()
    }

    /// The timeout for the next blocking call: until the next check (at least 1 ms).
    fn timeout(&self) -> Option<Duration> {
        let at = self.meter.next_check(&self.pace)?;
        Some(
            at.saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1)),
        )
    }

    /// Runs one blocking call (`which`: 0 read, 1 write) until it moves bytes, fails, or
    /// the connection stalls.
    fn call(
        &mut self,
        which: usize,
        mut op: impl FnMut(&TcpStream) -> io::Result<usize>,
    ) -> io::Result<usize> {
        loop {
            self.set_timeout(which)?;
            match op(self.stream.borrow()) {
                Ok(n) => {
                    if which == 0 {
                        self.meter.moved(n);
                    } else {
                        self.meter.sent(n);
                    }
                    let pressure = &self.pressure;
                    (self.meter).check(&self.pace, Instant::now(), || {
                        pressure.others_wait()
                    })?;
                    return Ok(n);
                }
                Err(e) if is_timeout(&e) => {
                    // Not an error yet: the window may have ended with enough bytes.
                    let pressure = &self.pressure;
                    (self.meter).check(&self.pace, Instant::now(), || {
                        pressure.others_wait()
                    })?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Sets the socket's timeout to the time left until the next check, unless the one
    /// already set is within a tenth of the idle timeout of it: a system call per read
    /// would cost more than the echo (checks may come that much late).
    fn set_timeout(&mut self, which: usize) -> io::Result<()> {
        let want = self.timeout();
        let slack = self.pace.idle_timeout / 10;
        let stale = match (self.timeouts[which], want) {
            (Some(Some(set)), Some(want)) => {
                set > want.saturating_add(slack) || set.saturating_add(slack) < want
            }
            (Some(set), want) => set.is_some() != want.is_some(),
            (None, _) => true,
        };
        if stale {
            let stream = self.stream.borrow();
            if which == 0 {
                stream.set_read_timeout(want)?;
            } else {
                stream.set_write_timeout(want)?;
            }
            self.timeouts[which] = Some(want);
        }
        Ok(())
    }
}

impl From<TcpStream> for Paced {
    /// A stream with no deadline ([`Pace::UNBOUNDED`]).
    fn from(stream: TcpStream) -> Self {
        Paced::new(stream, Pace::UNBOUNDED)
    }
}

impl<S: Borrow<TcpStream>> Read for Paced<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.call(0, |mut s| s.read(buf))
    }
}

impl<S: Borrow<TcpStream>> Write for Paced<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.call(1, |mut s| s.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A read or write timeout: `WouldBlock` on Unix, `TimedOut` on Windows.
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// A non-blocking stream whose reads and writes are counted in a [`Meter`]; whoever owns
/// it checks the meter now and then.
#[derive(Debug)]
pub struct Metered<S> {
    stream: S,
    meter: Meter,
}

impl<S> Metered<S> {
    /// Wraps `stream`; its first window starts now.
    pub fn new(stream: S) -> Self {
        Metered {
            stream,
            meter: Meter::new(),
        }
    }

    /// The stream inside (to register it with a poller, say).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The meter.
    pub fn meter(&mut self) -> &mut Meter {
        &mut self.meter
    }
}

impl<S: Read> Read for Metered<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.stream.read(buf)?;
        self.meter.moved(n);
        Ok(n)
    }
}

impl<S: Write> Write for Metered<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.stream.write(buf)?;
        self.meter.sent(n);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// The listener of a server that serves one client at a time (given), which can tell
/// whether another client waits: that is the pressure under which the client being served
/// must keep the minimum rate. Asking accepts the waiting client (the listener is
/// non-blocking meanwhile); it is served next.
#[derive(Debug)]
pub struct Queue {
    listener: Arc<TcpListener>,
    next: Arc<Mutex<Option<(TcpStream, SocketAddr)>>>,
}

impl Queue {
    /// A queue on (a clone of) `listener`.
    pub fn new(listener: &TcpListener) -> io::Result<Self> {
        Ok(Queue {
            listener: Arc::new(listener.try_clone()?),
            next: Arc::new(Mutex::new(None)),
        })
    }

    /// The next client: the one found waiting, if any, else the next to connect (blocks).
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let waiting = lock(&self.next).take();
        let (stream, peer) = match waiting {
            Some(accepted) => accepted,
            None => {
                self.listener.set_nonblocking(false)?;
                let accepted = self.listener.accept();
                self.listener.set_nonblocking(true)?;
                accepted?
            }
        };
        stream.set_nonblocking(false)?;
        Ok((stream, peer))
    }

    /// Whether another client waits (accepting it, if so, to serve it next).
    pub fn pressure(&self) -> Pressure {
        let (listener, next) = (Arc::clone(&self.listener), Arc::clone(&self.next));
        Pressure::from_fn(move || {
            let mut next = lock(&next);
            if next.is_none() {
                // WouldBlock (nobody waits), or a client that gave up: no pressure.
                *next = listener.accept().ok();
            }
            next.is_some()
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
