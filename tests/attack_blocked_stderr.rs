//! Servers whose stderr is a pipe nobody reads (a paused `2>&1 | less`): a pipe holds
//! 64 KiB, and a server that writes one line per refused datagram on the thread that serves
//! stops there once it is full. Each server here is sent enough junk for hundreds of KiB of
//! such lines, and must still serve: chat-server relays a member's message, udp-server
//! answers, secure-server answers a genuine token. Their lines go through a logging thread
//! (`course_given::log`), at most one a second of each kind.
//! `COURSE_ATTACK_PROGRAMS=DIR` runs the attack against the programs in DIR.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::Duration;

mod support;

fn program(name: &str) -> PathBuf {
    match std::env::var_os("COURSE_ATTACK_PROGRAMS") {
        Some(dir) => PathBuf::from(dir).join(name),
        None => course_harness::program!(name),
    }
}

/// A server killed when dropped; its stderr is read up to the `listening on` line, then
/// held open and never read again.
struct Blocked {
    child: Child,
    _stderr: BufReader<ChildStderr>,
    addr: SocketAddr,
}

impl Drop for Blocked {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(name: &str, args: &[&str]) -> Blocked {
    let mut child = Command::new(program(name))
        .args(["--bind", "127.0.0.1:0"])
        .args(args)
        .env("LANG", "en")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "{name} said nothing"
        );
        if let Some((_, rest)) = line.split_once("listening on ") {
            let addr = rest.split_whitespace().next().unwrap();
            break addr.trim_end_matches([',', '.', ')']).parse().unwrap();
        }
    };
    Blocked {
        child,
        _stderr: stderr,
        addr,
    }
}

fn socket(ip: [u8; 4]) -> UdpSocket {
    let socket = UdpSocket::bind(SocketAddr::from((ip, 0))).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    socket
}

/// `count` datagrams of junk, from `addresses` addresses, paced so that the server's
/// socket buffer is not what drops them.
fn junk(to: SocketAddr, addresses: u8, count: usize, datagram: &[u8]) {
    let senders: Vec<UdpSocket> = (1..=addresses).map(|i| socket([127, 0, 77, i])).collect();
    for i in 0..count {
        let _ = senders[i % senders.len()].send_to(datagram, to);
        if i % 100 == 99 {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    std::thread::sleep(Duration::from_millis(300));
}

#[test]
fn chat_server_relays_while_its_stderr_is_not_read() {
    let server = start("chat-server", &[]);
    let (alice, bob) = (socket([127, 0, 5, 1]), socket([127, 0, 5, 2]));
    support::chat_join(&alice, server.addr, b"chat/1 join 1763798400000 alice\n");
    support::chat_join(&bob, server.addr, b"chat/1 join 1763798400000 bob\n");
    // Forged cookies, from 10 addresses (each within its allowance): each was a line.
    let forged = [
        &b"chat/1 cookie "[..],
        &[b'0'; 24],
        b"\nchat/1 join 1 ",
        &[b'x'; 20],
    ]
    .concat();
    junk(server.addr, 10, 2000, &forged);
    let mut buf = [0u8; 4096];
    let mut got = 0;
    for i in 0..5 {
        let message = format!("chat/1 msg 1 alice\nafter the junk {i}");
        alice.send_to(message.as_bytes(), server.addr).unwrap();
        while let Ok((len, _)) = bob.recv_from(&mut buf) {
            if buf[..len].starts_with(b"chat/1 msg 1 alice\nafter the junk") {
                got += 1;
                break;
            }
        }
    }
    assert_eq!(got, 5, "bob got {got} of alice's 5 messages after the junk");
}

#[test]
fn udp_server_answers_while_its_stderr_is_not_read() {
    let server = start("udp-server", &[]);
    junk(server.addr, 1, 2000, &[0xff; 2000]); // each too long: each was a warning
    let client = socket([127, 0, 0, 1]);
    client.send_to(b"hi", server.addr).unwrap();
    let mut buf = [0u8; 256];
    assert!(
        client.recv_from(&mut buf).is_ok(),
        "udp-server did not answer after 2,000 datagrams too long"
    );
}

#[test]
fn secure_server_answers_while_its_stderr_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    let key = key.to_str().unwrap();
    let made = Command::new(program("keygen"))
        .args(["--out", key])
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let server = start("secure-server", &["--key-file", key]);
    junk(server.addr, 1, 3000, &[0xff; 60]); // not tokens: each was a line
    let mut client = Command::new(program("secure-client"))
        .args(["--server", &server.addr.to_string(), "--key-file", key])
        .args(["--timeout", "2"])
        .env("LANG", "en")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = client.stdin.take().unwrap();
        stdin.write_all(b"hi\n").unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = client.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = client.kill();
            panic!("secure-client did not finish in 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = client.wait_with_output().unwrap();
    assert!(
        status.success(),
        "secure-server did not answer after 3,000 junk datagrams: {output:?}"
    );
}
