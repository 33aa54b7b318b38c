//! Chapter 9: multicast, one datagram for many receivers.
//!
//! Article B ends with a sender to group 239.255.0.1 and receivers that share one
//! port. A sender names a *group* instead of a host; every socket that joined the
//! group gets a copy. The course keeps it all on this machine: the sending interface
//! is 127.0.0.1, the TTL is 0, and the receivers join on 127.0.0.1.
//! - [`sender`]: a socket configured to send to groups: interface, TTL, loop.
//! - [`receiver`]: a socket that shares its port, joins a group and can leave it
//!   again, and gets only the groups it joined (Linux's `IP_MULTICAST_ALL` off).
//! - [`receive`]: a receive loop that returns what arrived, each datagram with its
//!   sender.
//!
//! std's `UdpSocket` cannot set options before `bind`, so the sockets are made with
//! `socket2` and handed back as std sockets.

use std::net::Ipv4Addr;

pub mod receive;
pub mod receiver;
pub mod sender;

pub use crate::ch02_udp::Datagram;
pub use receive::receive;
pub use receiver::{bind_address, leave, receiver};
pub use sender::{SenderOptions, sender};

/// Article B's group. 239.0.0.0/8 is for use inside one organisation (RFC 2365), and
/// 239.255.0.0/16 is its local scope: the right place for experiments.
pub const ARTICLE_GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 0, 1);

/// Article B's port.
pub const ARTICLE_PORT: u16 = 4000;

/// The interface the course sends and joins on: loopback, so nothing leaves the
/// machine.
pub const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;
