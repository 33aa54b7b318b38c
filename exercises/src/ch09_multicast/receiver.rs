//! Exercise 9.2: a receiver that shares its port and joins a group.
//!
//! Scenario: article B's receiver sets SO_REUSEADDR before `bind`, so that several
//! programs can listen on port 4000, then joins the group with IP_ADD_MEMBERSHIP.
//! Goal: that socket, plus one thing the article does not know: on Linux, a socket
//! gets every group that *any* socket on the machine joined, unless IP_MULTICAST_ALL
//! is turned off. And a way to leave. The tests run two receivers of one group and
//! one of another group on the same port, make one receiver leave, and check who gets
//! what.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};

use socket2::{Domain, Protocol, SockRef, Socket, Type};

// ANCHOR: bind_address
/// Where a receiver of `group` binds: the group's address, so the socket takes only
/// datagrams sent to that group (never unicast from the network). Windows cannot
/// bind to a group's address; there it is 0.0.0.0.
pub fn bind_address(group: Ipv4Addr, port: u16) -> SocketAddrV4 {
    if cfg!(windows) {
        SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)
    } else {
        SocketAddrV4::new(group, port)
    }
}
// ANCHOR_END: bind_address

// ANCHOR: receiver
/// A UDP socket on `port` that has joined `group` on `interface`, shares the port
/// with other receivers, and gets only the groups it joined itself.
pub fn receiver(
    group: Ipv4Addr,     // the group to join, 239.255.0.1 say
    port: u16,           // its port, shared with other receivers
    interface: Ipv4Addr, // where to join: the course uses 127.0.0.1
) -> io::Result<UdpSocket> {
    // TODO: with socket2: a UDP socket; SO_REUSEADDR (and, on macOS and the BSDs,
    // SO_REUSEPORT) before bind; on Linux, IP_MULTICAST_ALL off; bind to
    // `bind_address(group, port)`; join `group` on `interface`; return it as a std
    // `UdpSocket`.
    todo!()
}
// ANCHOR_END: receiver

// ANCHOR: leave
/// Leaves `group` on `interface`: the socket gets no more datagrams sent to it.
pub fn leave(
    socket: &UdpSocket, // a socket from `receiver`
    group: Ipv4Addr,
    interface: Ipv4Addr, // the interface it joined on
) -> io::Result<()> {
    // TODO: leave the group (socket2's `SockRef::from(socket)` lends the options).
    todo!()
}
// ANCHOR_END: leave
