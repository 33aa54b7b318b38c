//! A replayed reply: with the secure server gone and its port held by someone else, a
//! sealed reply recorded earlier is sent back to secure-client from the server's address.
//! Sealed with the right key, it opens; before replies were bound to requests the client
//! printed it and exited 0, believing a server that was not there. Now it asks for a bound
//! reply (`TOKEN bind`): the reply must name the request's token id, so the recording is
//! refused and counted. Article C's Python client does not ask, and still gets the plain
//! reply (tests/interop_fernet.rs). No root needed: the test holds the freed port itself.
//! `COURSE_ATTACK_PROGRAMS=DIR` runs the attack against the programs in DIR.

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use course_harness::ChildGuard;
use socket_course::ch07_security::{BIND, load_key, seal};

const KEY: &str = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";

fn program(name: &str) -> PathBuf {
    match std::env::var_os("COURSE_ATTACK_PROGRAMS") {
        Some(dir) => PathBuf::from(dir).join(name),
        None => course_harness::program!(name),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Sends `request` to `to` and returns the reply.
fn exchange(socket: &UdpSocket, to: std::net::SocketAddr, request: &[u8]) -> Vec<u8> {
    socket.send_to(request, to).unwrap();
    let mut buf = vec![0u8; 65_536];
    let (len, _) = socket
        .recv_from(&mut buf)
        .expect("the server did not answer");
    buf[..len].to_vec()
}

#[test]
fn a_replayed_reply_is_refused_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("secret.key");
    std::fs::write(&key_path, format!("{KEY}\n")).unwrap();
    let key_file = key_path.to_string_lossy().into_owned();
    let key = load_key(KEY).unwrap();

    // 1. Record replies while the server runs: one to a plain request (article C's way),
    //    one to a request that asked for a bound reply.
    let mut server = Command::new(program("secure-server"));
    server.args(["--bind", "127.0.0.1:0", "--key-file", &key_file]);
    let mut server = ChildGuard::spawn(server);
    let addr = server.listening_addr();
    let recorder = UdpSocket::bind("127.0.0.1:0").unwrap();
    recorder
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let plain = exchange(&recorder, addr, seal(&key, b"hello", now()).as_bytes());
    let bound_request = format!("{} {BIND}", seal(&key, b"hello again", now()));
    let mut recorded = vec![plain];
    recorder.send_to(bound_request.as_bytes(), addr).unwrap();
    let mut buf = vec![0u8; 65_536];
    // The server of an older build refuses a request with ` bind`: then only `plain`.
    recorder
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    if let Ok((len, _)) = recorder.recv_from(&mut buf) {
        recorded.push(buf[..len].to_vec());
    }

    // 2. The server stops; the attacker takes its port and answers every request with
    //    the recordings.
    drop(server);
    let attacker = UdpSocket::bind(addr).expect("test setup: the freed port");
    attacker
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut client = Command::new(program("secure-client"));
    client.args([
        "--server",
        &addr.to_string(),
        "--key-file",
        &key_file,
        "--timeout",
        "1",
    ]);
    let mut client = ChildGuard::spawn(client);
    client.write_stdin("is anybody there?\n");
    client.close_stdin();
    let (_, from) = attacker
        .recv_from(&mut buf)
        .expect("secure-client sent no request");
    for reply in &recorded {
        attacker.send_to(reply, from).unwrap();
    }
    let exited = client.wait_exit(Duration::from_secs(5));
    assert!(
        exited.stdout.is_empty(),
        "secure-client believed a replayed reply from a server that is gone: {exited:?}"
    );
    assert_eq!(exited.status.code(), Some(1), "{exited:?}");
    let refused = format!("refused {} sealed replies", recorded.len());
    assert!(exited.stderr_text().contains(&refused), "{exited:?}");
}
