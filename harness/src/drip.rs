//! Slow clients for the attack tests: connections that each send one byte now and then
//! (slowloris), from source addresses spread over 127.0.0.0/8 so that a per-address limit
//! does not refuse them before the rule under test has a chance to act.
//!
//! One thread drives every connection (a test never starts a thread per socket), stops when
//! the [`Drippers`] value is dropped, and stops by itself after a bound the test gives.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::net::IO_TIMEOUT;

/// The `n`-th source address of a spread: 127.0.1.1 and up, 250 to each third octet (never
/// .0 or .255), so 127.0.0.1 stays for the test's own probe. Linux and Windows answer on all
/// of 127.0.0.0/8.
pub fn spread_source(n: usize) -> IpAddr {
    let high = n / 250 + 1;
    let low = n % 250 + 1;
    IpAddr::V4(Ipv4Addr::new(127, (high >> 8) as u8, high as u8, low as u8))
}

/// Connects to `addr` from `source` (port chosen by the OS), with the harness's timeouts.
pub fn connect_from(source: IpAddr, addr: SocketAddr) -> io::Result<TcpStream> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.bind(&SocketAddr::new(source, 0).into())?;
    socket.connect_timeout(&addr.into(), IO_TIMEOUT)?;
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(stream)
}

/// Connections that each send one byte every `every`, read (and discard) whatever comes
/// back, and notice when the server closes them.
pub struct Drippers {
    stop: Arc<AtomicBool>,
    open: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Drippers {
    /// Connects `count` clients to `addr`, one per source address from [`spread_source`],
    /// and starts dripping; the thread stops by itself after `at_most`.
    pub fn start(
        addr: SocketAddr,
        count: usize,
        every: Duration,
        at_most: Duration,
    ) -> io::Result<Drippers> {
        let mut streams = Vec::with_capacity(count);
        for n in 0..count {
            let stream = connect_from(spread_source(n), addr)?;
            stream.set_nonblocking(true)?;
            streams.push(Some(stream));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let open = Arc::new(AtomicUsize::new(count));
        let (stop_flag, open_count) = (Arc::clone(&stop), Arc::clone(&open));
        let thread = thread::spawn(move || {
            let until = Instant::now() + at_most;
            let mut next = Instant::now();
            let mut buf = [0u8; 256];
            while !stop_flag.load(Ordering::SeqCst) && Instant::now() < until {
                let drip = Instant::now() >= next;
                if drip {
                    next += every;
                }
                for slot in streams.iter_mut() {
                    let Some(stream) = slot else { continue };
                    let closed = loop {
                        match stream.read(&mut buf) {
                            Ok(0) => break true,
                            Ok(_) => {}
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break false,
                            Err(_) => break true,
                        }
                    } || (drip && stream.write(b".").is_err());
                    if closed {
                        *slot = None;
                        open_count.fetch_sub(1, Ordering::SeqCst);
                    }
                }
                // Pacing: the drip is slow by design; look for closes every 20 ms.
                thread::sleep(Duration::from_millis(20));
            }
        });
        Ok(Drippers {
            stop,
            open,
            thread: Some(thread),
        })
    }

    /// How many of the connections the server has not closed yet.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
}

impl Drop for Drippers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Tries every 50 ms, until `within` has passed, to have `message` echoed on a new
/// connection from 127.0.0.1; returns how long it took, or `None`. A server that is full
/// closes the probe at once (or leaves it unanswered): the probe tries again.
pub fn probe_echo(addr: SocketAddr, message: &[u8], within: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        let attempt = || -> io::Result<bool> {
            let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
            let left = within
                .saturating_sub(started.elapsed())
                .max(Duration::from_millis(1));
            stream.set_read_timeout(Some(left.min(Duration::from_millis(500))))?;
            stream.write_all(message)?;
            let mut got = vec![0u8; message.len()];
            stream.read_exact(&mut got)?;
            Ok(got == message)
        };
        if let Ok(true) = attempt() {
            return Some(started.elapsed());
        }
        // Pacing between attempts, so that a refusing server is not flooded.
        thread::sleep(Duration::from_millis(50));
    }
    None
}
