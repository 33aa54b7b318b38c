//! Hijack: a chat server that shares its port (`SO_REUSEADDR` on its socket, so each member
//! could have a socket of its own) lets any other process on the machine bind the same port
//! and receive what was meant for the server: a newcomer's join and messages, and, once it
//! connects to a member's address, that member's messages. Here the test process plays the
//! other process: it binds the server's port with every reuse option (`SO_REUSEADDR` and, on
//! Unix, `SO_REUSEPORT`), twice (one socket left unconnected, one connected to a member), and
//! must receive nothing while two members chat. On Linux the bind itself fails ("address in
//! use") when the server's socket allows no sharing: that counts as a pass, and the test says
//! so. `COURSE_ATTACK_PROGRAMS=DIR` runs the attack against the programs in DIR.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use course_harness::ChildGuard;
use socket2::{Domain, Protocol, Socket, Type};

mod support;

fn program(name: &str) -> PathBuf {
    match std::env::var_os("COURSE_ATTACK_PROGRAMS") {
        Some(dir) => PathBuf::from(dir).join(name),
        None => course_harness::program!(name),
    }
}

/// A socket bound to `port` of the server with every reuse option the system has.
fn thief(addr: SocketAddr, peer: Option<SocketAddr>) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    #[cfg(unix)]
    socket.set_reuse_port(true)?;
    socket.bind(&addr.into())?;
    if let Some(peer) = peer {
        socket.connect(&peer.into())?;
    }
    let socket = UdpSocket::from(socket);
    socket.set_nonblocking(true)?;
    Ok(socket)
}

fn member(server: &mut ChildGuard, addr: SocketAddr, name: &str) -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let join = format!("chat/1 join 1763798400000 {name}\n");
    support::chat_join(&socket, addr, join.as_bytes());
    server.stdout_line_ending_with(&format!("* {name} joined"));
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket
}

/// Reads `socket` until a datagram ending with `text` arrives (true) or for 1 s (false).
fn expect(socket: &UdpSocket, text: &str) -> bool {
    socket
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut buf = vec![0u8; 65_536];
    loop {
        match socket.recv(&mut buf) {
            Ok(len) if buf[..len].ends_with(text.as_bytes()) => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
}

#[test]
fn another_process_on_the_port_receives_nothing() {
    let mut command = Command::new(program("chat-server"));
    command.args(["--bind", "127.0.0.1:0"]);
    let mut server = ChildGuard::spawn(command);
    let addr = server.listening_addr();
    let alice = member(&mut server, addr, "alice");

    let thieves = match (
        thief(addr, None),
        thief(addr, Some(alice.local_addr().unwrap())),
    ) {
        (Ok(a), Ok(b)) => [a, b],
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("the thief could not bind {addr} with SO_REUSEADDR and SO_REUSEPORT: {e}");
            eprintln!("pass: the port is the server's alone");
            server.assert_running();
            return;
        }
    };
    eprintln!("the thief bound {addr} too: checking that it receives nothing");
    // A newcomer joins while the thief holds the port, and both members talk.
    let bob = UdpSocket::bind("127.0.0.1:0").unwrap();
    support::chat_join(&bob, addr, b"chat/1 join 1763798400000 bob\n");
    bob.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut missed = Vec::new();
    if !expect(&alice, " bob\n") {
        missed.push("bob's join".to_string());
    }
    for i in 0..5 {
        let from_alice = format!("chat/1 msg 1763798400000 alice\nsecret {i} from alice");
        alice.send_to(from_alice.as_bytes(), addr).unwrap();
        if !expect(&bob, &from_alice) {
            missed.push(format!("alice's message {i}"));
        }
        let from_bob = format!("chat/1 msg 1763798400000 bob\nsecret {i} from bob");
        bob.send_to(from_bob.as_bytes(), addr).unwrap();
        if !expect(&alice, &from_bob) {
            missed.push(format!("bob's message {i}"));
        }
    }
    let mut stolen = Vec::new();
    let mut buf = vec![0u8; 65_536];
    for thief in &thieves {
        while let Ok((len, from)) = thief.recv_from(&mut buf) {
            stolen.push(format!(
                "{from}: {:?}",
                String::from_utf8_lossy(&buf[..len])
            ));
        }
    }
    eprintln!("the thief received {} datagrams", stolen.len());
    for line in stolen.iter().take(5) {
        eprintln!("  stolen: {line}");
    }
    server.assert_running();
    assert!(
        stolen.is_empty(),
        "another process received chat traffic; the members missed {missed:?}"
    );
    assert!(missed.is_empty(), "the members missed {missed:?}");
}
