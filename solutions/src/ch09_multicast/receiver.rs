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
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    // Before bind: the OS checks the port when bind is called.
    socket.set_reuse_address(true)?;
    // macOS and the BSDs share a port bound to 0.0.0.0 only with SO_REUSEPORT.
    #[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
    socket.set_reuse_port(true)?;
    // Linux only: without this, the socket also gets the groups other sockets joined.
    #[cfg(target_os = "linux")]
    socket.set_multicast_all_v4(false)?;
    socket.bind(&bind_address(group, port).into())?;
    socket.join_multicast_v4(&group, &interface)?;
    Ok(socket.into())
}
// ANCHOR_END: receiver

// ANCHOR: leave
/// Leaves `group` on `interface`: the socket gets no more datagrams sent to it.
pub fn leave(
    socket: &UdpSocket, // a socket from `receiver`
    group: Ipv4Addr,
    interface: Ipv4Addr, // the interface it joined on
) -> io::Result<()> {
    SockRef::from(socket).leave_multicast_v4(&group, &interface)
}
// ANCHOR_END: leave
