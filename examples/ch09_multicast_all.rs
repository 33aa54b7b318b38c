//! Chapter 9: Linux's IP_MULTICAST_ALL. One datagram goes to group A; five receivers
//! on the same port, joined to different things, report whether they got it, first
//! with the option on (Linux's default), then off. Loopback only: interface
//! 127.0.0.1, TTL 0. Run it with `cargo run --example ch09_multicast_all`.

#[cfg(target_os = "linux")]
fn main() -> std::io::Result<()> {
    linux::run()
}

#[cfg(not(target_os = "linux"))]
fn main() {
    println!(
        "IP_MULTICAST_ALL exists on Linux only; this system has no such surprise."
    );
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io;
    use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
    use std::time::Duration;

    use socket2::{Domain, Protocol, Socket, Type};

    const A: Ipv4Addr = Ipv4Addr::new(239, 255, 90, 1);
    const B: Ipv4Addr = Ipv4Addr::new(239, 255, 90, 2);
    const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

    /// A receiver on `port`, bound to `bind`, joined to `join` (if any), with `all`
    /// as IP_MULTICAST_ALL.
    fn receiver(
        bind: Ipv4Addr,
        port: u16,
        join: Option<Ipv4Addr>,
        all: bool,
    ) -> io::Result<UdpSocket> {
        let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        socket.set_reuse_address(true)?;
        socket.set_multicast_all_v4(all)?;
        socket.bind(&SocketAddrV4::new(bind, port).into())?;
        if let Some(group) = join {
            socket.join_multicast_v4(&group, &LOOPBACK)?;
        }
        Ok(socket.into())
    }

    /// Whether a datagram is waiting (or arrives within 0.2 s).
    fn got_it(socket: &UdpSocket) -> io::Result<bool> {
        socket.set_read_timeout(Some(Duration::from_millis(200)))?;
        let mut buf = [0u8; 64];
        Ok(socket.recv_from(&mut buf).is_ok())
    }

    /// The five receivers, all on `port`, and whether each got one datagram sent to
    /// A.
    fn who_gets_it(port: u16, all: bool) -> io::Result<[bool; 5]> {
        let any = Ipv4Addr::UNSPECIFIED;
        let joined_a = receiver(any, port, Some(A), all)?;
        let joined_b = receiver(any, port, Some(B), all)?;
        let joined_nothing = receiver(any, port, None, all)?;
        let bound_to_a = receiver(A, port, None, all)?;
        let left_a = receiver(any, port, Some(A), all)?;
        socket2::SockRef::from(&left_a).leave_multicast_v4(&A, &LOOPBACK)?;

        let sender = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        sender.set_multicast_if_v4(&LOOPBACK)?;
        sender.set_multicast_ttl_v4(0)?;
        sender.bind(&SocketAddrV4::new(LOOPBACK, 0).into())?;
        sender.send_to(b"to group A", &SocketAddrV4::new(A, port).into())?;

        Ok([
            got_it(&joined_a)?,
            got_it(&joined_b)?,
            got_it(&joined_nothing)?,
            got_it(&bound_to_a)?,
            got_it(&left_a)?,
        ])
    }

    pub fn run() -> io::Result<()> {
        // A port nobody uses: the OS picks one for a socket that is closed at once.
        let port = UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port();
        let on = who_gets_it(port, true)?;
        let off = who_gets_it(port, false)?;
        let rows = [
            "joined A, bound to 0.0.0.0",
            "joined B, bound to 0.0.0.0",
            "joined nothing, bound to 0.0.0.0",
            "joined nothing, bound to A's address",
            "joined A, then left it",
        ];
        let yes = |got: bool| if got { "got it" } else { "-" };
        println!("one datagram to group A ({A}), receivers on one port:");
        println!("{:<38} {:<10} ALL off", "receiver", "ALL on");
        for (i, row) in rows.iter().enumerate() {
            println!("{row:<38} {:<10} {}", yes(on[i]), yes(off[i]));
        }
        Ok(())
    }
}
