//! Given (not an exercise): waiting for a datagram until a precise deadline.
//!
//! `set_read_timeout` (SO_RCVTIMEO) is counted in the kernel's timer ticks: on a
//! Linux kernel with 250 ticks a second, asking for 1 ms waits about 8 ms, and 10 ms
//! waits about 16 ms. A sender that waits for an ACK pays that on every loss.
//! Readiness polling (epoll on Linux, kqueue on macOS, IOCP on Windows, through
//! `mio`) sleeps on a high-resolution timer instead: its timeout is whole
//! milliseconds, rounded up, so 1 ms waits about 1 ms. (`cargo run --release
//! --example ch06_timers` measures both on your machine.)
//!
//! [`Waiter`] wraps that: create it once for a socket, then `recv_until` a deadline.
//! While a `Waiter` lives, the socket is in non-blocking mode: the mode belongs to
//! the socket, not to one handle, so the clone that `mio` polls shares it with yours.
//! Send through the `Waiter` too (it waits when the send buffer is full); dropping it
//! makes the socket blocking again.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};

/// How long `send` and `send_to` wait for room in a full send buffer.
const SEND_TIMEOUT: Duration = Duration::from_secs(1);

// ANCHOR: waiter
/// Receives datagrams on a UDP socket, waiting at most until a deadline (to the
/// millisecond).
pub struct Waiter {
    poll: Poll,
    events: Events,
    /// The handle that `mio` polls (a clone of the caller's socket).
    socket: mio::net::UdpSocket,
    /// Another clone, kept to switch the socket back to blocking mode on drop.
    std_socket: UdpSocket,
}

impl Waiter {
    /// Prepares to wait on `socket` (and switches it to non-blocking mode until the
    /// drop).
    pub fn new(socket: &UdpSocket) -> io::Result<Waiter> {
        let std_socket = socket.try_clone()?;
        std_socket.set_nonblocking(true)?;
        let mut polled = mio::net::UdpSocket::from_std(std_socket.try_clone()?);
        let poll = Poll::new()?;
        poll.registry().register(
            &mut polled,
            Token(0),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        Ok(Waiter {
            poll,
            events: Events::with_capacity(4),
            socket: polled,
            std_socket,
        })
    }

    /// Receives one datagram from the connected peer into `buf`.
    /// `Ok(Some(len))`: a datagram came; `Ok(None)`: `deadline` passed first.
    pub fn recv_until(
        &mut self,
        buf: &mut [u8],
        deadline: Instant,
    ) -> io::Result<Option<usize>> {
        self.until(deadline, |s| s.recv(buf))
    }

    /// Receives one datagram from anyone into `buf`, with the sender's address.
    /// `Ok(None)`: `deadline` passed first.
    pub fn recv_from_until(
        &mut self,
        buf: &mut [u8],
        deadline: Instant,
    ) -> io::Result<Option<(usize, SocketAddr)>> {
        self.until(deadline, |s| s.recv_from(buf))
    }

    /// Sends `bytes` to the connected peer (waiting, briefly, for room in the send
    /// buffer).
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let deadline = Instant::now() + SEND_TIMEOUT;
        self.until(deadline, |s| s.send(bytes))?
            .ok_or_else(send_timed_out)
    }

    /// Sends `bytes` to `to` (waiting, briefly, for room in the send buffer).
    pub fn send_to(&mut self, bytes: &[u8], to: SocketAddr) -> io::Result<usize> {
        let deadline = Instant::now() + SEND_TIMEOUT;
        self.until(deadline, |s| s.send_to(bytes, to))?
            .ok_or_else(send_timed_out)
    }

    /// Tries `op`; while it would block, sleeps in the poller until the socket is
    /// ready or `deadline` passes. Trying first matters: the poller reports changes,
    /// not states.
    fn until<T>(
        &mut self,
        deadline: Instant,
        mut op: impl FnMut(&mio::net::UdpSocket) -> io::Result<T>,
    ) -> io::Result<Option<T>> {
        loop {
            match op(&self.socket) {
                Ok(value) => return Ok(Some(value)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            match self.poll.poll(&mut self.events, Some(left)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        let _ = self.poll.registry().deregister(&mut self.socket);
        // The caller's handle shares the mode: give it back its blocking socket.
        let _ = self.std_socket.set_nonblocking(false);
    }
}
// ANCHOR_END: waiter

fn send_timed_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the send buffer stayed full for 1 s",
    )
}
