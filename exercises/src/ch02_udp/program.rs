//! Exercise 2.5: the whole programs, from bind to close, in two steps.
//!
//! Scenario: exercises 2.1 to 2.4 wrote the pieces; here they become two whole
//! programs, in their plainest form (the `udp-server` and `udp-client` programs add
//! options and figures around the same loops). Goal (2.5a): the server of article A:
//! bind, say where it listens, then answer datagram after datagram, printing each,
//! and keep serving when one datagram or one peer is bad. Goal (2.5b): its client:
//! bind, send each typed line until `end`, print each reply, close. The tests run
//! your server and your client on real sockets, as the programs do.

use std::io::{self, BufRead, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use super::{RecvError, RequestError, answer_one, printable, request};

// ANCHOR: run_server
/// Step 2.5a: binds `bind`, calls `ready` with the bound socket (the program prints
/// `listening on` with its real address and sets its options there), then answers
/// every datagram of at most `max_size` bytes for ever: a `from ADDR: TEXT` line to
/// `out` for each (TEXT through [`printable`]), a `warning: ...` line to `log` for
/// each refused datagram or troubled peer. Returns only when the socket fails for
/// good.
pub fn run_server(
    bind: SocketAddr,
    max_size: usize,
    ready: impl FnOnce(&UdpSocket),
    mut out: impl Write,
    mut log: impl Write,
) -> io::Result<()> {
    // TODO: bind; call ready(&socket); loop over answer_one: print the
    // datagram, or warn and go on for TooLong and for errors that `affects_one_peer`;
    // else return it.
    todo!()
}
// ANCHOR_END: run_server

// ANCHOR: run_client
/// Step 2.5b: binds a loopback socket of the server's family (port 0), sends each
/// line of `input` (without its `\n` or `\r\n`) to `server` until a line `end` or the
/// end of the input, and writes each reply to `out` as a line (through
/// [`printable`]). The first request without a reply ends it with that error.
pub fn run_client(
    server: SocketAddr,
    input: impl BufRead,
    mut out: impl Write,
    timeout: Duration,
) -> Result<(), RequestError> {
    // TODO: bind 127.0.0.1:0 (or [::1]:0 for an IPv6 server); for each line up to
    // `end`: `request` (exercise 2.4) and print the reply.
    todo!()
}
// ANCHOR_END: run_client

/// Whether an error on a UDP server's socket concerns one datagram or one peer only,
/// so the server should report it and go on. Windows reports an ICMP "port
/// unreachable" (a client that went away) on the next receive as `ConnectionReset`.
pub fn affects_one_peer(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}
