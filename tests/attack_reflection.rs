//! Reflection: a UDP server answers whoever a datagram claims to come from, so a forger can
//! aim its replies at a victim. udp-server answers a 0-byte request with 26 bytes; with
//! `--min-request 26` it answers only requests at least as long as its reply, so a forged
//! source gets no more bytes than the forger sent. (The test sends from its own address: what
//! matters is which requests get an answer, not whose address they carry.)
//! `COURSE_ATTACK_PROGRAMS=DIR` runs it against the programs in DIR.

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use course_harness::ChildGuard;

fn program(name: &str) -> PathBuf {
    match std::env::var_os("COURSE_ATTACK_PROGRAMS") {
        Some(dir) => PathBuf::from(dir).join(name),
        None => course_harness::program!(name),
    }
}

/// Sends each of `requests` from a socket of its own, in order, to a udp-server started with
/// `args`, then `probe` (which must be answered) from one more; returns which requests got a
/// reply. Once the probe's reply is here, the server has handled every request before it (one
/// socket, in order), and on loopback their replies were queued before the probe's.
fn answered(args: &[&str], requests: &[&[u8]], probe: &[u8]) -> Vec<bool> {
    let mut command = Command::new(program("udp-server"));
    command.args(["--bind", "127.0.0.1:0"]).args(args);
    let mut server = ChildGuard::spawn(command);
    let addr = server.listening_addr();
    let sockets: Vec<UdpSocket> = (0..=requests.len())
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    for (socket, request) in sockets.iter().zip(requests.iter().chain([&probe])) {
        socket.send_to(request, addr).unwrap();
    }
    let mut buf = [0u8; 64];
    let last = sockets.last().unwrap();
    last.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    if let Err(e) = last.recv_from(&mut buf) {
        server.fail(&format!("udp-server {args:?}: the probe got no reply: {e}"));
    }
    let got = sockets[..requests.len()]
        .iter()
        .map(|socket| {
            socket.set_nonblocking(true).unwrap();
            socket.recv_from(&mut buf).is_ok()
        })
        .collect();
    server.assert_running();
    got
}

#[test]
fn with_min_request_short_requests_get_no_reply() {
    let got = answered(&["--min-request", "26"], &[b"", &[b'y'; 25]], &[b'x'; 26]);
    assert_eq!(
        got,
        [false, false],
        "udp-server --min-request 26 answered requests of 0 and 25 bytes with 26 bytes"
    );
}

#[test]
fn by_default_every_request_is_answered_as_in_article_a() {
    assert_eq!(answered(&[], &[b"", b"a"], b"probe"), [true, true]);
}
