//! Pieces the command-line programs in `programs/src/bin/` share, so each program reads as its article's
//! program and nothing else: binding with a clear error, the `listening on` line, showing
//! received bytes, and the contract's exit codes.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::exit;
use std::time::Duration;

use course_given::eyeballs::{self, NEXT_ATTEMPT_DELAY, first_to_connect};
use socket2::{Domain, Socket, Type};

/// Exit code for a runtime failure: refused, unreachable, timed out, retries spent.
pub const EXIT_FAILURE: i32 = 1;
/// Exit code for a usage or configuration error (clap uses it for bad flags, too).
pub const EXIT_USAGE: i32 = 2;

/// Prints `error: MESSAGE` on stderr and exits with `code`.
pub fn fail(code: i32, message: impl std::fmt::Display) -> ! {
    eprintln!("error: {message}");
    exit(code)
}

/// Binds a UDP socket to `addr`, or exits with a message that names the address.
/// `[::]:PORT` takes both families (see [`socket_for`]).
pub fn bind_udp(addr: SocketAddr) -> UdpSocket {
    socket_for(addr, Type::DGRAM)
        .and_then(|socket| {
            socket.bind(&addr.into())?;
            Ok(socket.into())
        })
        .unwrap_or_else(|e| fail(EXIT_FAILURE, format!("cannot bind {addr}: {e}")))
}

/// A TCP listener on `addr` (backlog 128, and `SO_REUSEADDR` on Unix, as std's
/// `TcpListener::bind`), or exits with a message that names the address. `[::]:PORT` takes
/// both families (see [`socket_for`]).
pub fn listen_tcp(addr: SocketAddr) -> TcpListener {
    socket_for(addr, Type::STREAM)
        .and_then(|socket| {
            #[cfg(unix)]
            socket.set_reuse_address(true)?;
            socket.bind(&addr.into())?;
            socket.listen(128)?;
            Ok(socket.into())
        })
        .unwrap_or_else(|e| fail(EXIT_FAILURE, format!("cannot bind {addr}: {e}")))
}

// ANCHOR: dual_stack
/// A new socket for `addr`'s family, not bound yet. For `[::]` (every IPv6 address)
/// `IPV6_V6ONLY` is switched off before `bind`, so that the one socket takes IPv4
/// too: an IPv4 peer shows up as `[::ffff:127.0.0.1]:PORT`. Where the OS refuses
/// (OpenBSD), this fails rather than listen on one family only.
pub fn socket_for(addr: SocketAddr, kind: Type) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), kind, None)?;
    if addr.is_ipv6() && addr.ip().is_unspecified() {
        socket.set_only_v6(false).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot take both families here: {e}"))
        })?;
    }
    Ok(socket)
}
// ANCHOR_END: dual_stack

/// `peer` as it shows up on a socket bound to `bind`, for an address given by the user that
/// peers are compared with (`--allow`, `--from`, a sealed `--server`): on an IPv6 socket an
/// IPv4 peer (it reaches `[::]`, see [`socket_for`]) is seen as its IPv4-mapped address,
/// 127.0.0.1 as `::ffff:127.0.0.1`, so an IPv4 address is turned into that form. Anything
/// else is returned unchanged.
pub fn as_seen_on(bind: SocketAddr, peer: IpAddr) -> IpAddr {
    match (bind, peer) {
        (SocketAddr::V6(_), IpAddr::V4(v4)) => IpAddr::V6(v4.to_ipv6_mapped()),
        _ => peer,
    }
}

/// Prints the contract's first stderr line, `listening on IP:PORT`, with the real address
/// (after port 0 was replaced by the port the OS chose): pass `socket.local_addr()`.
pub fn announce(local_addr: io::Result<SocketAddr>) {
    match local_addr {
        Ok(addr) => eprintln!("listening on {addr}"),
        Err(e) => fail(
            EXIT_FAILURE,
            format!("the socket has no local address: {e}"),
        ),
    }
}

/// The loopback address of the same family as `server`, port 0: where a client binds.
/// Bound to loopback, a client cannot send anywhere but to this machine.
pub fn loopback_for(server: SocketAddr) -> SocketAddr {
    match server {
        SocketAddr::V4(_) => (Ipv4Addr::LOCALHOST, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::LOCALHOST, 0).into(),
    }
}

/// Received bytes as one printable line: invalid UTF-8 shown as `�`; control characters (a
/// newline inside a datagram, say) escaped so that one message stays one line, and so are the
/// invisible ones that change how a line reads (`show::needs_escape`: bidi controls such as
/// U+202E, zero-width characters, line separators).
pub fn printable(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .flat_map(|c| {
            if socket_course::show::needs_escape(c) {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// A clap value parser for a number of seconds (`0.5`, `5`); `positive` rejects zero. The
/// `course` program reads its `--timeout` with the same function.
pub use course_catalog::seconds;

/// A clap value parser for an address flag (`--bind`, `--server`, `--from`): `IP:PORT`,
/// `[IPv6]:PORT` or `localhost:PORT` (which names 127.0.0.1 first: that one is taken; the
/// TCP clients take every address with [`socket_addrs`]). It uses
/// the reference `parse_addr` of exercise 1.2, so every program reads addresses the way
/// chapter 1 teaches, whichever side is switched in, and a mistake gets chapter 1's message
/// (`port 99999 is out of range: ports go from 0 to 65535`).
pub fn socket_addr(text: &str) -> Result<SocketAddr, String> {
    use solutions::ch01_addresses::{AddrError, parse_addr};
    let addrs = parse_addr(text).map_err(|e| match e {
        AddrError::PortOutOfRange(port) => {
            format!("port {port} is out of range: ports go from 0 to 65535")
        }
        other => other.to_string(),
    })?;
    addrs
        .first()
        .copied()
        .ok_or_else(|| format!("`{text}` names no address"))
}

/// Every address an address flag names, in order (`localhost:4000`: 127.0.0.1:4000, then
/// [::1]:4000), with the flag's text for messages.
#[derive(Clone, Debug)]
pub struct Addrs {
    text: String,
    list: Vec<SocketAddr>,
}

impl Addrs {
    /// The addresses, in the order to try them.
    pub fn all(&self) -> &[SocketAddr] {
        &self.list
    }
}

impl fmt::Display for Addrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A clap value parser for a TCP client's `--server`: like [`socket_addr`], but keeps every
/// address the text names, for [`connect_tcp`].
pub fn socket_addrs(text: &str) -> Result<Addrs, String> {
    socket_addr(text)?;
    let list = solutions::ch01_addresses::parse_addr(text).map_err(|e| e.to_string())?;
    Ok(Addrs {
        text: text.to_string(),
        list,
    })
}

/// How long one TCP connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects to one of `server`'s addresses, Happy Eyeballs style
/// ([`first_to_connect`]: the next address after [`NEXT_ATTEMPT_DELAY`]), each attempt
/// within [`CONNECT_TIMEOUT`]; or exits with every address's error.
pub fn connect_tcp(server: &Addrs) -> TcpStream {
    let connect = |addr| TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT);
    match first_to_connect(server.all(), NEXT_ATTEMPT_DELAY, connect) {
        Ok((_, stream)) => stream,
        Err(failed) => fail(
            EXIT_FAILURE,
            format!(
                "cannot connect to {server}: {}",
                eyeballs::describe(&failed, |e| e.to_string())
            ),
        ),
    }
}

/// Whether an error on a UDP server's socket concerns one datagram or one peer only, so the
/// server should report it and go on serving. Windows reports an ICMP "port unreachable"
/// (a client that went away) on the next receive as `ConnectionReset`.
pub fn affects_one_peer(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}

/// A clap value parser for a multicast group (224.0.0.0/4), for the multicast programs.
pub fn multicast_group(text: &str) -> Result<Ipv4Addr, String> {
    let ip: Ipv4Addr = text.parse().map_err(|_| not_ipv4(text))?;
    if !ip.is_multicast() {
        return Err(format!(
            "{ip} is not a multicast group (224.0.0.0 to 239.255.255.255; try 239.255.0.1)"
        ));
    }
    Ok(ip)
}

/// A clap value parser for the interface of the multicast programs: the course sends and
/// joins on loopback only (127.0.0.0/8), so nothing leaves this machine.
pub fn loopback_interface(text: &str) -> Result<Ipv4Addr, String> {
    let ip: Ipv4Addr = text.parse().map_err(|_| not_ipv4(text))?;
    if !ip.is_loopback() {
        return Err(format!(
            "{ip} is not a loopback address: the course's programs send and join on \
             127.0.0.1 only"
        ));
    }
    Ok(ip)
}

/// Why `text` is no address for the multicast programs: an IPv6 address gets the reason
/// (Linux's loopback carries no IPv6 multicast) and where chapter 9 shows it, in the
/// learner's language (the catalog's `programs.multicast_v6`).
fn not_ipv4(text: &str) -> String {
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<Ipv6Addr>().is_ok() {
        course_catalog::fill("programs.multicast_v6", &[("addr", &text)])
    } else {
        format!("`{text}` is not an IPv4 address")
    }
}
