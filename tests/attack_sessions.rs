//! Attacks on chapter 6's programs by someone who can send from another program's address
//! but cannot read its traffic (an off-path attacker): forged ACKs that would make
//! reliable-send report a delivery nobody received, and DATA/END injected into
//! reliable-recv's stream from the address it trusts (`--from`). The test plays the
//! attacker from the very socket whose address it forges, so it needs no root. The fix:
//! a random session id and first sequence number that every message carries.
//!
//! The attacker sends its forgeries in both versions of the window header: version 1 (no
//! session) is what the programs spoke before sessions; they must refuse it by name.
//! `COURSE_ATTACK_PROGRAMS=DIR` runs the attacks against the programs in DIR (an older
//! build, to watch them succeed) instead of this course's.

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use course_harness::{ChildGuard, net};
use solutions::ch06_reliability::{Ack, Packet, Session};

fn program(name: &str) -> PathBuf {
    match std::env::var_os("COURSE_ATTACK_PROGRAMS") {
        Some(dir) => PathBuf::from(dir).join(name),
        None => course_harness::program!(name),
    }
}

/// A version-1 window header (the programs' format before sessions): kind, number,
/// window, length.
fn version1(kind: u8, number: u32, window: u16, payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0x10 | kind];
    bytes.extend_from_slice(&number.to_be_bytes());
    bytes.extend_from_slice(&window.to_be_bytes());
    bytes.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

/// A free loopback port (bound, then released for the program to take).
fn free_addr() -> SocketAddr {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[test]
fn forged_acks_never_make_reliable_send_report_a_delivery() {
    // The "receiver" is a socket nobody reads: nothing can be delivered.
    let sink = net::udp_socket();
    let sender_addr = free_addr();
    let mut command = Command::new(program("reliable-send"));
    command.args([
        "--server",
        &sink.local_addr().unwrap().to_string(),
        "--bind",
        &sender_addr.to_string(),
        "--tries",
        "4",
        "--min-rto-ms",
        "20",
        "--max-rto-ms",
        "40",
    ]);
    let mut sender = ChildGuard::spawn(command);
    sender.write_stdin_bytes(&vec![b'x'; 200 * 1024]);
    sender.close_stdin();
    // The attacker, from the receiver's address, without reading a byte: ACKs of everything
    // (cumulative 2^32 - 1, the largest window) in the old format, and in the new one with
    // guessed sessions. Paced (one round per millisecond) so that the sender's socket
    // buffer holds them; it stops when the sender exits.
    let mut forged = 0u32;
    let deadline = Instant::now() + Duration::from_secs(8);
    let exited = loop {
        if let Some(exited) = sender.exited_within(Duration::from_millis(1)) {
            break exited;
        }
        assert!(
            Instant::now() < deadline,
            "reliable-send neither delivered nor gave up"
        );
        let guess = forged.wrapping_mul(0x9e37_79b9);
        let v2 = Packet::Ack(Ack::new(guess, u32::MAX, 256)).encode();
        let v1 = version1(2, u32::MAX, 256, &[]);
        for bytes in [v1, v2] {
            let _ = sink.send_to(&bytes, sender_addr);
            forged += 1;
        }
    };
    assert_ne!(
        exited.status.code(),
        Some(0),
        "reliable-send believed {forged} forged ACKs and reported a delivery to a socket \
         nobody reads: {exited:?}"
    );
    assert_eq!(exited.status.code(), Some(1), "{exited:?}");
}

/// Sends `bytes` from `socket` until an ACK whose cumulative is `cumulative` comes back.
#[track_caller]
fn send_until_acked(socket: &UdpSocket, to: SocketAddr, bytes: &[u8], cumulative: u32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 128];
    while Instant::now() < deadline {
        socket.send_to(bytes, to).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        while let Ok((len, _)) = socket.recv_from(&mut buf) {
            if let Ok(Packet::Ack(ack)) = Packet::decode(&buf[..len])
                && ack.cumulative == cumulative
            {
                return;
            }
        }
    }
    panic!("reliable-recv did not acknowledge a message (cumulative {cumulative})");
}

#[test]
fn data_and_end_injected_from_the_senders_address_never_reach_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("copy.bin");
    let sender = net::udp_socket();
    let from = sender.local_addr().unwrap().to_string();
    let mut command = Command::new(program("reliable-recv"));
    command.args([
        "--bind",
        "127.0.0.1:0",
        "--from",
        &from,
        "--linger-ms",
        "100",
        "--idle-timeout",
        "5",
    ]);
    let mut receiver =
        ChildGuard::spawn_with_stdout(command, Stdio::from(std::fs::File::create(&out).unwrap()));
    let to = receiver.listening_addr();
    // The real sender's session, two numbers before the wrap.
    let session = Session {
        id: 0x5e55_1011,
        first_seq: u32::MAX - 1,
    };
    let (id, first) = (session.id, session.first_seq);
    let data = |seq, payload: &[u8]| {
        Packet::Data {
            session: id,
            seq,
            payload: payload.to_vec(),
        }
        .encode()
    };
    send_until_acked(&sender, to, &data(first, b"good "), session.seq(1));
    // The attacker, from the sender's very address: it knows everything but the session
    // (the next number, even), in both header versions.
    let wrong = id ^ 0x0000_0001;
    let injected = [
        Packet::Data {
            session: wrong,
            seq: session.seq(1),
            payload: b"INJECTED BY A THIRD PARTY".to_vec(),
        }
        .encode(),
        Packet::End {
            session: wrong,
            seq: session.seq(2),
        }
        .encode(),
        version1(1, 1, 0, b"INJECTED BY A THIRD PARTY"),
        version1(3, 2, 0, &[]),
    ];
    for bytes in &injected {
        sender.send_to(bytes, to).unwrap();
    }
    send_until_acked(&sender, to, &data(session.seq(1), b"tail"), session.seq(2));
    let end = Packet::End {
        session: id,
        seq: session.seq(2),
    };
    send_until_acked(&sender, to, &end.encode(), session.seq(3));
    let exited = receiver.wait_exit(Duration::from_secs(5));
    let written = std::fs::read(&out).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&written),
        "good tail",
        "the stream holds what a third party injected: {exited:?}"
    );
    assert_eq!(exited.status.code(), Some(0), "{exited:?}");
    assert!(
        exited.stderr_text().contains("not the session"),
        "the forgeries are reported once: {exited:?}"
    );
}
