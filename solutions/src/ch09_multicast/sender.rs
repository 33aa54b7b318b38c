//! Exercise 9.1: a socket configured to send to a group.
//!
//! Scenario: article B's sender names the interface its datagrams leave by
//! (IP_MULTICAST_IF) and mentions IP_MULTICAST_LOOP. Goal: a UDP socket that sends to
//! groups on the interface, with the TTL and the loop setting it is given, bound to
//! the interface's address. The tests read the options back from the socket, and
//! check that its datagrams reach a receiver that joined the group.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};

use socket2::{Domain, Protocol, Socket, Type};

use super::LOOPBACK;

// ANCHOR: options
/// How a multicast sender is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderOptions {
    /// The interface's address: datagrams to a group leave by this interface.
    pub interface: Ipv4Addr,
    /// How far a datagram may travel: with TTL n it crosses at most n-1 routers
    /// (1: the local network; 0: it never leaves this machine).
    pub ttl: u32,
    /// Whether this machine's own receivers get a copy (on by default in the OS).
    pub loopback: bool,
}

impl Default for SenderOptions {
    /// The course's safe setting: loopback, TTL 0, loop on.
    fn default() -> Self {
        SenderOptions {
            interface: LOOPBACK,
            ttl: 0,
            loopback: true,
        }
    }
}
// ANCHOR_END: options

// ANCHOR: sender
/// A UDP socket that sends to groups as `options` say, bound to `options.interface`
/// (port 0: any free port).
pub fn sender(options: &SenderOptions) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    // Without it, the routing table picks the interface: for 239.x.x.x that is
    // usually the one of the default route, the real network.
    socket.set_multicast_if_v4(&options.interface)?;
    socket.set_multicast_ttl_v4(options.ttl)?;
    socket.set_multicast_loop_v4(options.loopback)?;
    // Bound to the interface's address, the socket can send from nowhere else.
    socket.bind(&SocketAddrV4::new(options.interface, 0).into())?;
    Ok(socket.into())
}
// ANCHOR_END: sender
