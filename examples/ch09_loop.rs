//! Chapter 9: does `IP_MULTICAST_LOOP` off keep a datagram from this machine's own
//! receivers? It depends on the interface. Sends one datagram to a group through the
//! interface with address IFACE (TTL 0), once with the loop on and once off, to a
//! receiver on this machine that joined the group on that interface.
//!
//! Run: `cargo run --example ch09_loop` (the loopback interface, 127.0.0.1), or
//! `-- --iface 10.200.0.1` for another interface. `scripts/ch09-loop.sh` (as root) makes
//! a veth pair in a private network namespace and runs both rows.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

const GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 90, 9);

fn main() -> io::Result<()> {
    let mut iface = Ipv4Addr::LOCALHOST;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next().and_then(|a| a.parse().ok())) {
            ("--iface", Some(addr)) => iface = addr,
            _ => {
                eprintln!("usage: ch09_loop [--iface IPV4]");
                std::process::exit(2);
            }
        }
    }
    let mut row = Vec::new();
    for looped in [true, false] {
        row.push(if try_once(iface, looped)? {
            "received"
        } else {
            "nothing"
        });
    }
    println!(
        "interface {iface}, TTL 0: loop on: {}, loop off: {}",
        row[0], row[1]
    );
    Ok(())
}

/// Whether the receiver got the datagram sent with `IP_MULTICAST_LOOP` set to `looped`.
fn try_once(iface: Ipv4Addr, looped: bool) -> io::Result<bool> {
    // ANCHOR: loop
    let receiver = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    receiver.set_reuse_address(true)?;
    #[cfg(target_os = "linux")]
    receiver.set_multicast_all_v4(false)?;
    receiver.bind(&SocketAddrV4::new(GROUP, 0).into())?;
    receiver.join_multicast_v4(&GROUP, &iface)?;
    let receiver: UdpSocket = receiver.into();
    let port = receiver.local_addr()?.port();

    let sender = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    sender.set_multicast_if_v4(&iface)?;
    sender.set_multicast_ttl_v4(0)?; // never beyond this machine
    sender.set_multicast_loop_v4(looped)?;
    sender.bind(&SocketAddrV4::new(iface, 0).into())?;
    sender.send_to(b"hello, group", &SocketAddrV4::new(GROUP, port).into())?;
    // ANCHOR_END: loop

    receiver.set_read_timeout(Some(Duration::from_millis(300)))?;
    let mut buf = [0u8; 64];
    match receiver.recv(&mut buf) {
        Ok(_) => Ok(true),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}
