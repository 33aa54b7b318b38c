//! Multicast sockets for tests, on loopback only: the sending interface is 127.0.0.1, the TTL
//! is 0, receivers join on 127.0.0.1 (the course contract's network-safety rule).
//!
//! Tests that run at the same time must not hear each other: each test takes its own group
//! from [`group`] and a port that was free a moment ago from [`free_port`]. The receivers made
//! here turn Linux's `IP_MULTICAST_ALL` off, so they get only the group they joined.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use crate::net::prepare_udp;

/// The only interface the tests send and join on.
pub const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// Group number `n` of test family `family`: 239.255.`family`.`n`, in the local scope of the
/// administratively scoped range. Give each test file its own family and each test its own n.
pub fn group(family: u8, n: u8) -> Ipv4Addr {
    Ipv4Addr::new(239, 255, family, n)
}

/// A UDP port that was free a moment ago, different on each call in this process.
/// Multicast receivers share ports, so a test must not use a fixed one that others use.
///
/// It comes from 20,000-29,999, below the range the OS picks from for port 0 (Linux
/// 32768-60999; macOS and Windows 49152-65535). A port the OS had picked would be free
/// again once looked at, and the OS could give it to another test's socket before this
/// test binds its receivers: with 8 tests at once, that happened ("Address already in
/// use").
pub fn free_port() -> u16 {
    const FIRST: u16 = 20_000;
    const COUNT: u16 = 10_000;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    // Processes start at different places, so two test programs rarely try the same ports.
    let start = (std::process::id() % u32::from(COUNT)) as u16;
    for _ in 0..1_000 {
        let n = start.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed)) % COUNT;
        let port = FIRST + n;
        if UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)).is_ok() {
            return port;
        }
    }
    panic!(
        "test setup: no free UDP port in {FIRST}-{}",
        FIRST + COUNT - 1
    )
}

/// The test's own sender: interface 127.0.0.1, TTL 0, loop on, bound to 127.0.0.1:0, with
/// the harness's timeouts.
pub fn test_sender() -> UdpSocket {
    let make = || -> io::Result<UdpSocket> {
        let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        socket.set_multicast_if_v4(&LOOPBACK)?;
        socket.set_multicast_ttl_v4(0)?;
        socket.set_multicast_loop_v4(true)?;
        socket.bind(&SocketAddrV4::new(LOOPBACK, 0).into())?;
        let socket: UdpSocket = socket.into();
        prepare_udp(&socket)?;
        Ok(socket)
    };
    make().expect("test setup: could not make a multicast sender on 127.0.0.1")
}

/// Runs `bind` again, up to 5 times 20 ms apart, while it fails with "address in use".
///
/// With 8 tests at once, binding a multicast receiver to a port that nothing else used
/// failed now and then (3 runs of the chapter 8 and 9 tests in 205) with "address in use",
/// and the holder was gone by the time the test looked (`/proc/net/udp`). The cause was
/// not found; a second try succeeds. A port that stays taken still fails, 0.1 s later: a
/// second receiver without `SO_REUSEADDR` is still caught.
pub fn retry_if_in_use<T>(mut bind: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    let mut tries = 1;
    loop {
        match bind() {
            Err(e) if e.kind() == io::ErrorKind::AddrInUse && tries < 5 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            result => return result,
        }
    }
}

/// The test's own receiver of `group` on `port`, joined on 127.0.0.1, sharing the port, with
/// `IP_MULTICAST_ALL` off (Linux) and the harness's timeouts.
pub fn test_receiver(group: Ipv4Addr, port: u16) -> UdpSocket {
    let make = || -> io::Result<UdpSocket> {
        let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        socket.set_reuse_address(true)?;
        #[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
        socket.set_reuse_port(true)?;
        #[cfg(target_os = "linux")]
        socket.set_multicast_all_v4(false)?;
        let bind_ip = if cfg!(windows) {
            Ipv4Addr::UNSPECIFIED
        } else {
            group
        };
        socket.bind(&SocketAddrV4::new(bind_ip, port).into())?;
        socket.join_multicast_v4(&group, &LOOPBACK)?;
        let socket: UdpSocket = socket.into();
        prepare_udp(&socket)?;
        Ok(socket)
    };
    retry_if_in_use(make).unwrap_or_else(|e| {
        panic!("test setup: could not make a receiver of {group} on port {port}: {e}")
    })
}

/// How long a receiver is watched to show that nothing arrives. Called only after another
/// socket of the same machine has received the same datagram, which means the kernel has
/// finished delivering it (it hands one datagram to all its receivers in one pass), so this
/// is a safety margin, not a wait for readiness.
pub const NOTHING_WITHIN: Duration = Duration::from_millis(200);

/// The datagram that arrives on `socket` within [`NOTHING_WITHIN`], if any, as text; `None`
/// when nothing came. Restores the harness's read timeout afterwards.
pub fn anything_within(socket: &UdpSocket) -> Option<(String, std::net::SocketAddr)> {
    socket
        .set_read_timeout(Some(NOTHING_WITHIN))
        .expect("test setup: could not set a read timeout");
    let mut buf = vec![0u8; crate::net::MAX_DATAGRAM];
    let got = socket
        .recv_from(&mut buf)
        .ok()
        .map(|(len, from)| (String::from_utf8_lossy(&buf[..len]).into_owned(), from));
    socket
        .set_read_timeout(Some(crate::net::IO_TIMEOUT))
        .expect("test setup: could not set a read timeout");
    got
}
