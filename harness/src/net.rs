//! Loopback sockets for tests, each with a deadline on every blocking call.
//!
//! Tests own their sockets and pass clones into learner code, so the test, not the learner,
//! decides that nothing blocks forever. Setup failures panic with a message that names the
//! step, since a test cannot go on without its sockets.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use crate::deadline::{Deadline, format_duration};

/// Read and write timeout of every socket the harness hands out.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest datagram a UDP socket can receive; reading into this many bytes never truncates.
pub const MAX_DATAGRAM: usize = 65_536;

/// Socket buffer size the harness asks for: room for several of the largest datagrams.
/// (macOS, for one, refuses to send a datagram larger than the send buffer, 9,216 bytes by
/// default.)
pub const SOCKET_BUFFER: usize = 4 * MAX_DATAGRAM;

/// A UDP socket bound to `127.0.0.1:0` (the OS picks the port) with read and write timeouts
/// and buffers large enough for 65,507-byte datagrams.
pub fn udp_socket() -> UdpSocket {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .expect("test setup: could not bind a UDP socket to 127.0.0.1:0");
    prepare_udp(&socket).expect("test setup: could not set timeouts and buffers on a UDP socket");
    socket
}

/// An address family: the tests that run on both loopback addresses take one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// IPv4, loopback `127.0.0.1`.
    V4,
    /// IPv6, loopback `::1`.
    V6,
}

impl Family {
    /// Both families, IPv4 first.
    pub const BOTH: [Family; 2] = [Family::V4, Family::V6];

    /// The loopback address of this family: `127.0.0.1` or `::1`.
    pub fn loopback(self) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(Ipv4Addr::LOCALHOST),
            Family::V6 => IpAddr::V6(Ipv6Addr::LOCALHOST),
        }
    }

    /// `127.0.0.1:0` or `[::1]:0`: where a test binds so that the OS picks the port.
    pub fn any_port(self) -> SocketAddr {
        SocketAddr::new(self.loopback(), 0)
    }

    /// The loopback address of this family with `port`.
    pub fn with_port(self, port: u16) -> SocketAddr {
        SocketAddr::new(self.loopback(), port)
    }

    /// Whether a test on this family can run here: always for IPv4; for IPv6 see
    /// [`ipv6_or_skip`] (a note and `false` where `::1` is missing, a failure under `CI=true`).
    ///
    /// ```no_run
    /// # let family = course_harness::net::Family::V6;
    /// if !family.usable() { return; }
    /// ```
    pub fn usable(self) -> bool {
        self == Family::V4 || ipv6_or_skip()
    }

    /// The family of `addr`.
    pub fn of(addr: SocketAddr) -> Family {
        if addr.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }
}

/// Whether this machine has a usable `::1`. Where it has none (IPv6 switched off in the
/// kernel, some containers), an IPv6 test calls this first and returns early with a note on
/// stderr; under `CI=true` a missing `::1` fails the test instead, since CI must run them.
///
/// ```no_run
/// if !course_harness::net::ipv6_or_skip() { return; }
/// ```
pub fn ipv6_or_skip() -> bool {
    static HAS_V6: OnceLock<Result<(), String>> = OnceLock::new();
    let probe = HAS_V6.get_or_init(|| {
        UdpSocket::bind((Ipv6Addr::LOCALHOST, 0))
            .and_then(|_| TcpListener::bind((Ipv6Addr::LOCALHOST, 0)))
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    match probe {
        Ok(()) => true,
        Err(e) => {
            let args: [(&str, &dyn std::fmt::Display); 1] = [("error", e)];
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{}", course_catalog::fill("harness.no_ipv6_ci", &args));
            }
            // Straight to the process's stderr, not `eprintln!`: libtest captures the macros'
            // output and shows it only for a failing test, and this test passes, so a learner
            // would see "ok" and never the note.
            let note = format!("{}\n", course_catalog::fill("harness.no_ipv6", &args));
            let _ = std::io::Write::write_all(&mut std::io::stderr(), note.as_bytes());
            false
        }
    }
}

/// A UDP socket bound to the loopback address of `family`, port 0, prepared like
/// [`udp_socket`].
pub fn udp_socket_on(family: Family) -> UdpSocket {
    let addr = family.any_port();
    let socket = UdpSocket::bind(addr)
        .unwrap_or_else(|e| panic!("test setup: could not bind a UDP socket to {addr}: {e}"));
    prepare_udp(&socket).expect("test setup: could not set timeouts and buffers on a UDP socket");
    socket
}

/// A TCP listener bound to the loopback address of `family`, port 0.
pub fn tcp_listener_on(family: Family) -> TcpListener {
    let addr = family.any_port();
    TcpListener::bind(addr)
        .unwrap_or_else(|e| panic!("test setup: could not bind a TCP listener to {addr}: {e}"))
}

/// Gives a UDP socket (the test's own, or one that learner code returned) the harness's read
/// and write timeouts and large send and receive buffers.
pub fn prepare_udp(socket: &UdpSocket) -> io::Result<()> {
    socket.set_read_timeout(Some(IO_TIMEOUT))?;
    socket.set_write_timeout(Some(IO_TIMEOUT))?;
    let sock = socket2::SockRef::from(socket);
    sock.set_send_buffer_size(SOCKET_BUFFER)?;
    sock.set_recv_buffer_size(SOCKET_BUFFER)
}

/// A TCP listener bound to `127.0.0.1:0`.
pub fn tcp_listener() -> TcpListener {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .expect("test setup: could not bind a TCP listener to 127.0.0.1:0")
}

/// Receives one datagram into a buffer large enough for any datagram, so nothing is cut.
/// Returns the bytes and the sender. Fails with `WouldBlock`/`TimedOut` after the socket's
/// read timeout.
///
/// A receive on a socket with a read timeout is never restarted after a signal: Linux fails
/// it with `Interrupted` instead (signal(7)). A suite run at load 12 met it once (which signal,
/// not found). It is tried again, a bounded number of times.
pub fn recv_datagram(socket: &UdpSocket) -> io::Result<(Vec<u8>, SocketAddr)> {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut tries = 0;
    let (len, from) = loop {
        match socket.recv_from(&mut buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted && tries < 10 => tries += 1,
            other => break other?,
        }
    };
    buf.truncate(len);
    Ok((buf, from))
}

/// Accepts one connection within `within`; `TimedOut` if none comes.
///
/// std's `accept` has no timeout, so the listener is polled in non-blocking mode.
pub fn accept_within(
    listener: &TcpListener,
    within: Duration,
) -> io::Result<(TcpStream, SocketAddr)> {
    let deadline = Deadline::after(within);
    listener.set_nonblocking(true)?;
    let result = loop {
        match listener.accept() {
            Ok(accepted) => break Ok(accepted),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && !deadline.expired() => {
                // Polling, not waiting for readiness: a short nap between tries.
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                break Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no connection arrived within {}", format_duration(within)),
                ));
            }
            Err(e) => break Err(e),
        }
    };
    listener.set_nonblocking(false)?;
    let (stream, peer) = result?;
    // On some systems (BSD, macOS) an accepted socket inherits non-blocking mode.
    stream.set_nonblocking(false)?;
    with_timeouts(&stream)?;
    Ok((stream, peer))
}

/// Connects within [`IO_TIMEOUT`] and sets read and write timeouts on the stream.
pub fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    with_timeouts(&stream)?;
    Ok(stream)
}

fn with_timeouts(stream: &TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))
}

/// Closes `stream` with a reset (RST) instead of a clean end (FIN): an abortive close, as when
/// a program closes a socket while unread data is waiting. Linger 0 makes the close abort.
pub fn reset(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}
