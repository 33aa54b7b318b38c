//! [`Peer`]: a test's own UDP socket that records everything it sends and receives into an
//! [`Exchange`], so a failing test can print the wire exchange without any bookkeeping.

use std::io;
use std::net::{SocketAddr, UdpSocket};

use std::time::Duration;

use crate::child::ChildGuard;
use crate::deadline::Deadline;
use crate::deadline::format_duration;
use crate::exchange::Exchange;
use crate::net::{self, Family, IO_TIMEOUT};

/// A loopback UDP socket owned by the test, named in the exchange it records into.
#[derive(Debug)]
pub struct Peer {
    socket: UdpSocket,
    addr: SocketAddr,
    exchange: Exchange,
}

impl Peer {
    /// Binds `127.0.0.1:0` and names the socket `name` in `exchange`.
    pub fn new(exchange: &Exchange, name: &str) -> Self {
        Peer::on(exchange, name, Family::V4)
    }

    /// Like [`Peer::new`], on the loopback address of `family` (`[::1]:0` for IPv6).
    pub fn on(exchange: &Exchange, name: &str, family: Family) -> Self {
        let socket = net::udp_socket_on(family);
        let addr = socket
            .local_addr()
            .expect("test setup: a bound socket has an address");
        exchange.name(addr, name);
        Peer {
            socket,
            addr,
            exchange: exchange.clone(),
        }
    }

    /// This peer's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The socket itself, to hand a `try_clone` to learner code or to change its options.
    pub fn socket(&self) -> &UdpSocket {
        &self.socket
    }

    /// Sends `bytes` to `to` and records it. Panics if the OS refuses (test setup).
    pub fn send_to(&self, bytes: &[u8], to: SocketAddr) {
        self.socket.send_to(bytes, to).unwrap_or_else(|e| {
            panic!(
                "test setup: could not send {} bytes to {to}: {e}",
                bytes.len()
            )
        });
        self.exchange.sent(self.addr, to, bytes);
    }

    /// Receives one datagram (waiting at most the socket's read timeout) and records it; a
    /// timeout is recorded as a note.
    pub fn recv(&self) -> io::Result<(Vec<u8>, SocketAddr)> {
        let result = net::recv_datagram(&self.socket);
        self.record(result, self.read_timeout())
    }

    /// Like [`Peer::recv`], but checks every 50 ms that `program` is still running, so a
    /// program that crashed fails the test at once with its output, instead of a timeout.
    #[track_caller]
    pub fn recv_while_running(
        &self,
        program: &mut ChildGuard,
    ) -> io::Result<(Vec<u8>, SocketAddr)> {
        self.recv_checking(|| program.assert_running())
    }

    /// Like [`Peer::recv`], but calls `check` every 50 ms while waiting; `check` fails the test
    /// when waiting is pointless (the learner's code panicked: see `Running::check`).
    #[track_caller]
    pub fn recv_checking(&self, mut check: impl FnMut()) -> io::Result<(Vec<u8>, SocketAddr)> {
        let wait = self.read_timeout();
        let deadline = Deadline::after(wait);
        self.socket
            .set_read_timeout(Some(Duration::from_millis(50)))?;
        let result = loop {
            match net::recv_datagram(&self.socket) {
                Err(e) if is_timeout(&e) && !deadline.expired() => check(),
                other => break other,
            }
        };
        self.socket.set_read_timeout(Some(wait))?;
        self.record(result, wait)
    }

    fn read_timeout(&self) -> Duration {
        self.socket
            .read_timeout()
            .ok()
            .flatten()
            .unwrap_or(IO_TIMEOUT)
    }

    fn record(
        &self,
        result: io::Result<(Vec<u8>, SocketAddr)>,
        waited: Duration,
    ) -> io::Result<(Vec<u8>, SocketAddr)> {
        match &result {
            Ok((bytes, from)) => self.exchange.sent(*from, self.addr, bytes),
            Err(_) => self.exchange.note(
                self.addr,
                &format!("nothing arrived within {}", format_duration(waited)),
            ),
        }
        result
    }
}

/// A read timeout: `WouldBlock` on Unix, `TimedOut` on Windows.
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
