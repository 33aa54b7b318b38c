//! Chapter 1: "localhost is ::1". `localhost` names two loopback addresses, 127.0.0.1
//! and ::1, and they are two separate doors: a server that listens on one of them is
//! not there for a client that knocks on the other. This example starts servers on
//! one family only and clients on the other, with explicit addresses (so it shows the
//! same thing whatever `localhost` means on this machine), and prints what each
//! client gets: "connection refused" over TCP, no reply at all over UDP. Then one
//! socket on `[::]` with `IPV6_V6ONLY` off takes both families, and sees an IPv4
//! client as an IPv4-mapped IPv6 address.
//!
//! Run it with `cargo run --example ch01_localhost`.
//!
//! Everything is on loopback, except the dual-stack listener: `[::]` means every
//! interface, so for the few milliseconds it exists, on a port the OS picks, it
//! answers loopback peers only.

use std::io;
use std::net::{
    IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket,
};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);
/// How long a client waits for a connection or a reply.
const DEADLINE: Duration = Duration::from_millis(500);

fn main() -> io::Result<()> {
    if UdpSocket::bind((V6, 0)).is_err() {
        println!("this machine has no ::1 (IPv6 is off): there is nothing to show");
        return Ok(());
    }

    // ANCHOR: one_family
    println!("server on 127.0.0.1 only:");
    let server = TcpListener::bind((V4, 0))?; // 127.0.0.1:PORT, and nothing on ::1
    let port = server.local_addr()?.port();
    tcp_client(SocketAddr::new(V4, port), &server);
    tcp_client(SocketAddr::new(V6, port), &server); // the same port, on ::1
    // ANCHOR_END: one_family
    let udp_server = UdpSocket::bind((V4, 0))?;
    let port = udp_server.local_addr()?.port();
    udp_client(SocketAddr::new(V4, port), &udp_server)?;
    udp_client(SocketAddr::new(V6, port), &udp_server)?;

    println!("server on ::1 only:");
    let server = TcpListener::bind((V6, 0))?;
    let port = server.local_addr()?.port();
    tcp_client(SocketAddr::new(V6, port), &server);
    tcp_client(SocketAddr::new(V4, port), &server);

    for v6_only in [false, true] {
        println!(
            "one socket on [::], IPV6_V6ONLY {}:",
            if v6_only { "on" } else { "off (dual stack)" }
        );
        let server = dual_stack_listener(v6_only)?;
        let port = server.local_addr()?.port();
        tcp_client(SocketAddr::new(V4, port), &server);
        tcp_client(SocketAddr::new(V6, port), &server);
    }
    Ok(())
}

/// Connects to `to`, then lets `server` accept: prints the address the server sees
/// for the client, or the error the client got.
fn tcp_client(to: SocketAddr, server: &TcpListener) {
    let label = format!("  TCP client to {}:", to.ip());
    match TcpStream::connect_timeout(&to, DEADLINE) {
        Ok(client) => match accept_from(server, &client) {
            Ok(seen) => println!("{label:<27} connected; the server sees {seen}"),
            Err(e) => println!("{label:<27} connected, but the server: {e}"),
        },
        Err(e) => println!("{label:<27} {e}"),
    }
}

/// The address `server` sees for `client`. A listener on `[::]` is reachable from
/// other machines too: a connection that is not this client's is closed, unread.
fn accept_from(server: &TcpListener, client: &TcpStream) -> io::Result<SocketAddr> {
    let ours = client.local_addr()?;
    server.set_nonblocking(true)?; // accept with a deadline
    let started = Instant::now();
    loop {
        match server.accept() {
            Ok((stream, seen)) => {
                drop(stream);
                if seen.ip().to_canonical().is_loopback()
                    && seen.port() == ours.port()
                {
                    return Ok(seen);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if started.elapsed() > DEADLINE {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "accept timed out",
                    ));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(e),
        }
    }
}

// ANCHOR: dual_stack
/// One TCP listener on `[::]:0` for both families, unless `v6_only`.
fn dual_stack_listener(v6_only: bool) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::IPV6, Type::STREAM, None)?;
    socket.set_only_v6(v6_only)?; // IPV6_V6ONLY: set it, never trust the default
    socket.bind(&SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0).into())?;
    socket.listen(16)?;
    Ok(socket.into())
}
// ANCHOR_END: dual_stack

/// Sends one datagram to `to` from a socket on the same family's loopback, and waits
/// [`DEADLINE`] for `server`'s echo.
fn udp_client(to: SocketAddr, server: &UdpSocket) -> io::Result<()> {
    let label = format!("  UDP client to {}:", to.ip());
    let client = UdpSocket::bind((to.ip(), 0))?;
    client.send_to(b"hello", to)?;
    // The server answers one datagram, if one came (it does not wait for it).
    server.set_read_timeout(Some(DEADLINE))?;
    let mut buf = [0u8; 16];
    if let Ok((n, from)) = server.recv_from(&mut buf) {
        server.send_to(&buf[..n], from)?;
    }
    client.set_read_timeout(Some(DEADLINE))?;
    match client.recv_from(&mut buf) {
        Ok((n, _)) => {
            let reply = String::from_utf8_lossy(&buf[..n]);
            println!("{label:<27} the reply {reply:?}");
        }
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            let ms = DEADLINE.as_millis();
            println!("{label:<27} no reply within {ms} ms, and no error");
        }
        Err(e) => println!("{label:<27} {e}"),
    }
    Ok(())
}
