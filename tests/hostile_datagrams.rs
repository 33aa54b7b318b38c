//! Every UDP server program gets a few thousand hostile datagrams (random bytes, truncated and
//! bit-flipped valid messages, extreme numeric fields such as timestamps near u64::MAX), and
//! must then still answer a valid exchange, alive.
//!
//! The programs follow the switch, so on the learner's side (`cargo test`) they would run the
//! stubs, which panic at once: these tests are the course's own hardening, not exercises, so
//! they are compiled only with `--features solutions` (a learner's `cargo test` skips the
//! file). Debug build, overflow checks on, as learners run the programs.

#![cfg(feature = "solutions")]

use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::time::Duration;

use course_harness::{ChildGuard, Deadline};

mod support;

const HOSTILE: usize = 2_000;

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// `count` hostile datagrams built from `valid` examples of the program's format: random,
/// truncated, bit-flipped, and the examples themselves with bytes spliced in.
fn hostile(valid: &[Vec<u8>], count: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed | 1);
    (0..count)
        .map(|i| {
            let example = &valid[rng.below(valid.len())];
            match i % 5 {
                0 => {
                    let len = match rng.below(20) {
                        0 => 65_507,
                        1 => 0,
                        _ => rng.below(2_100),
                    };
                    rng.bytes(len)
                }
                1 => example[..rng.below(example.len() + 1)].to_vec(),
                2 | 3 => {
                    let mut flipped = example.clone();
                    for _ in 0..=rng.below(3) {
                        if !flipped.is_empty() {
                            let at = rng.below(flipped.len());
                            flipped[at] ^= 1 << rng.below(8);
                        }
                    }
                    flipped
                }
                _ => example.clone(),
            }
        })
        .collect()
}

fn attacker() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket
}

/// Sends `datagrams` to `to`, paced in small bursts (a server that logs every refusal reads
/// more slowly than we can send; lost hostile datagrams prove nothing either way).
fn attack(datagrams: &[Vec<u8>], to: SocketAddr, server: &mut ChildGuard) {
    let socket = attacker();
    for (i, datagram) in datagrams.iter().enumerate() {
        let _ = socket.send_to(datagram, to);
        if i % 100 == 99 {
            server.assert_running();
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    server.assert_running();
}

fn start(program: std::path::PathBuf, args: &[&str]) -> (ChildGuard, SocketAddr) {
    let mut command = Command::new(program);
    command.args(["--bind", "127.0.0.1:0"]).args(args);
    let mut child = ChildGuard::spawn(command);
    let addr = child.listening_addr();
    (child, addr)
}

/// Sends `request` until a reply comes (the server may still be busy with the attack).
fn exchange(to: SocketAddr, request: &[u8], server: &mut ChildGuard) -> Vec<u8> {
    let socket = attacker();
    socket
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let deadline = Deadline::after(Duration::from_secs(10));
    let mut buf = vec![0u8; 65_536];
    while !deadline.expired() {
        server.assert_running();
        socket.send_to(request, to).unwrap();
        if let Ok((len, _)) = socket.recv_from(&mut buf) {
            return buf[..len].to_vec();
        }
    }
    server.fail("no answer to a valid request after the attack")
}

#[test]
fn udp_server_survives_hostile_datagrams() {
    let (mut server, addr) = start(course_harness::program!("udp-server"), &[]);
    let valid = vec![b"hello".to_vec(), "こんにちは\n\x1b[2J".as_bytes().to_vec()];
    attack(&hostile(&valid, HOSTILE, 1), addr, &mut server);
    let reply = exchange(addr, b"still there?", &mut server);
    assert_eq!(reply, b"Success to receive message");
}

#[test]
fn chat_server_survives_hostile_datagrams() {
    let (mut server, addr) = start(course_harness::program!("chat-server"), &[]);
    let valid: Vec<Vec<u8>> = [
        "chat/1 join 1 x\n",
        "chat/1 msg 18446744073709551615 x\nfrom the end of time",
        "chat/1 msg 99999999999999999999 x\nbeyond u64",
        "chat/1 leave 0 x\n",
        "chat/1 ping 1 x\n",
        "plain text\n* alice left",
        // A cookie coming back (this one does not open: the server's key is random).
        "chat/1 cookie 0123456789abcdef01234567\nchat/1 join 1763798400000 x\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    attack(&hostile(&valid, HOSTILE, 2), addr, &mut server);
    // Two members; the join is resent until announced (the strangers' allowance, shared by
    // every non-member, may still be spent by the attack).
    let alice = attacker();
    let bob = attacker();
    alice
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let deadline = Deadline::after(Duration::from_secs(10));
    let mut buf = [0u8; 4096];
    'joined: loop {
        assert!(!deadline.expired(), "bob's join never reached alice");
        server.assert_running();
        // Each newcomer answers the server's cookie, as chat-client does.
        support::chat_join(&alice, addr, b"chat/1 join 1763798400000 alice\n");
        support::chat_join(&bob, addr, b"chat/1 join 1763798400000 bob\n");
        alice
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        while let Ok(len) = alice.recv(&mut buf) {
            if buf[..len].ends_with(b" bob\n") {
                break 'joined;
            }
        }
    }
    bob.send_to(b"chat/1 msg 5 bob\nhi alice", addr).unwrap();
    loop {
        let len = alice.recv(&mut buf).expect("bob's message never came");
        if &buf[..len] == b"chat/1 msg 5 bob\nhi alice" {
            break;
        }
    }
    server.assert_running();
}

#[test]
fn secure_server_survives_hostile_datagrams() {
    use base64::Engine;
    use solutions::ch07_security::{load_key, open, seal};
    let dir = tempfile::tempdir().unwrap();
    let key_text = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
    let key_file = dir.path().join("secret.key");
    std::fs::write(&key_file, key_text).unwrap();
    let key = load_key(key_text).unwrap();
    let (mut server, addr) = start(
        course_harness::program!("secure-server"),
        &["--key-file", key_file.to_str().unwrap()],
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Valid tokens, and tokens whose timestamps are extreme (the MAC is then wrong).
    let mut valid = vec![seal(&key, b"hello", now).into_bytes()];
    for timestamp in [u64::MAX, u64::MAX - 59, 0, now + 3600] {
        let mut raw = vec![0x80];
        raw.extend_from_slice(&timestamp.to_be_bytes());
        raw.extend_from_slice(&[7u8; 16 + 16 + 32]);
        valid.push(
            base64::engine::general_purpose::URL_SAFE
                .encode(raw)
                .into_bytes(),
        );
    }
    attack(&hostile(&valid, HOSTILE, 3), addr, &mut server);
    let token = seal(&key, b"a valid request", now);
    let reply = exchange(addr, token.as_bytes(), &mut server);
    let reply = String::from_utf8(reply).expect("the reply is a token");
    assert_eq!(
        open(&key, &reply, Duration::from_secs(60), now + 1).as_deref(),
        Ok(&b"Success to receive message"[..])
    );
}

#[test]
fn lossy_relay_survives_hostile_datagrams() {
    let (mut backend, backend_addr) = start(course_harness::program!("udp-server"), &[]);
    let (mut relay, addr) = start(
        course_harness::program!("lossy-relay"),
        &["--server", &backend_addr.to_string()],
    );
    let valid = vec![b"hello".to_vec(), vec![0xff; 1500]];
    attack(&hostile(&valid, HOSTILE, 4), addr, &mut relay);
    let reply = exchange(addr, b"through the relay", &mut relay);
    assert_eq!(reply, b"Success to receive message");
    backend.assert_running();
}

#[test]
fn reliable_recv_survives_hostile_datagrams() {
    // reliable-recv speaks the sliding window's protocol (chapter 6, `--window`).
    use solutions::ch06_reliability::{Ack, FixedTimer, Packet, Session, send_window};
    let (mut receiver, addr) = start(
        course_harness::program!("reliable-recv"),
        &["--linger-ms", "200"],
    );
    let data = |session, seq, payload: &[u8]| Packet::Data {
        session,
        seq,
        payload: payload.to_vec(),
    };
    // Mutations of every field of the version 2 header, the session id included.
    let valid = vec![
        data(0x0102_0304, 1, b"hello").encode(),
        data(u32::MAX, u32::MAX, b"far ahead").encode(),
        Packet::Ack(Ack::new(7, u32::MAX, 64)).encode(),
        Packet::End {
            session: 0,
            seq: u32::MAX,
        }
        .encode(),
    ];
    // Datagrams that decode are left out: a stranger's well-formed first DATA or END
    // starting a session of its own before the real sender is a different defect (the
    // session only protects a stream once it has started; chapter 7's key does more).
    let garbage: Vec<Vec<u8>> = hostile(&valid, HOSTILE, 5)
        .into_iter()
        .filter(|d| Packet::decode(d).is_err())
        .collect();
    assert!(garbage.len() > HOSTILE / 2);
    attack(&garbage, addr, &mut receiver);
    let sender = attacker();
    sender
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let payloads = vec![b"still ".to_vec(), b"delivered".to_vec()];
    send_window(
        &sender,
        addr,
        Session::random().unwrap(),
        &payloads,
        4,
        &mut FixedTimer(Duration::from_millis(100)),
        50,
    )
    .expect("the valid stream was not acknowledged");
    let exited = receiver.wait_exit(Duration::from_secs(10));
    assert!(exited.status.success(), "{exited:?}");
    assert_eq!(exited.stdout.concat(), "still delivered", "{exited:?}");
}
