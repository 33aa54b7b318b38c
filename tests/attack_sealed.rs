//! Attacks on chapter 6's programs by someone who can read the traffic (an on-path
//! attacker): the session id and the sequence numbers are no secret to it, so it can
//! acknowledge data it saw but the receiver never got, and inject DATA and END that name
//! the right session from the sender's address. Sealing (exercise 7.5, `--key-file`) is the
//! fix: each test runs its attack once without a key (the attack must work: that proves it
//! is a real attack) and once with one (it must fail). The forgeries are sent bare and
//! sealed with another key.
//! `COURSE_ATTACK_PROGRAMS=DIR` runs the attacks against the programs in DIR.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use course_harness::child::Exited;
use course_harness::{ChildGuard, net};
use solutions::ch06_reliability::{Ack, Packet, Session};
use solutions::ch07_security::{SealKey, TAG_LEN, open_datagram, seal_datagram};

const KEY: &str = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
const OTHER_KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

fn program(name: &str) -> PathBuf {
    match std::env::var_os("COURSE_ATTACK_PROGRAMS") {
        Some(dir) => PathBuf::from(dir).join(name),
        None => course_harness::program!(name),
    }
}

fn key_file(dir: &Path) -> PathBuf {
    let path = dir.join("secret.key");
    std::fs::write(&path, format!("{KEY}\n")).unwrap();
    path
}

/// The forgeries of `packet`: bare, and sealed with a key that is not the programs'.
fn forgeries(packet: &Packet) -> [Vec<u8>; 2] {
    let other = SealKey::from_key_text(OTHER_KEY).unwrap();
    let bytes = packet.encode();
    [bytes.clone(), seal_datagram(&other, &bytes)]
}

/// reliable-send of 20 KiB to a socket the attacker reads (nobody else does); the attacker
/// acknowledges every DATA and END it sees, in the right session. Returns how it ended.
fn forged_acks(sealed: bool) -> Exited {
    let dir = tempfile::tempdir().unwrap();
    let sink = net::udp_socket();
    sink.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut command = Command::new(program("reliable-send"));
    // Without a key the attack must win, so the sender is patient (it must not give up
    // while the attacker is slow to answer on a loaded machine); with one it must lose, and
    // may give up quickly.
    let (tries, min, max) = if sealed {
        ("4", "20", "40")
    } else {
        ("8", "50", "200")
    };
    command.args([
        "--server",
        &sink.local_addr().unwrap().to_string(),
        "--tries",
        tries,
        "--min-rto-ms",
        min,
        "--max-rto-ms",
        max,
    ]);
    if sealed {
        command.arg("--key-file").arg(key_file(dir.path()));
    }
    let mut sender = ChildGuard::spawn(command);
    sender.write_stdin_bytes(&vec![b'x'; 20 * 1024]);
    sender.close_stdin();
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut buf = vec![0u8; 65_536];
    loop {
        if let Some(exited) = sender.exited_within(Duration::from_millis(1)) {
            return exited;
        }
        assert!(
            Instant::now() < deadline,
            "reliable-send neither finished nor gave up"
        );
        let Ok((len, from)) = sink.recv_from(&mut buf) else {
            continue;
        };
        // On the path, the attacker reads the header (a seal hides nothing; its tag is
        // the last 16 bytes).
        let seen = Packet::decode(&buf[..len])
            .or_else(|_| Packet::decode(&buf[..len.saturating_sub(TAG_LEN)]));
        let (session, seq) = match seen {
            Ok(Packet::Data { session, seq, .. }) | Ok(Packet::End { session, seq }) => {
                (session, seq)
            }
            _ => continue,
        };
        for bytes in forgeries(&Packet::Ack(Ack::new(session, seq.wrapping_add(1), 256))) {
            let _ = sink.send_to(&bytes, from);
        }
    }
}

#[test]
fn without_a_key_acks_forged_on_the_path_make_reliable_send_report_a_delivery() {
    let exited = forged_acks(false);
    assert_eq!(
        exited.status.code(),
        Some(0),
        "the attack should work on unsealed programs: {exited:?}"
    );
}

#[test]
fn with_a_key_acks_forged_on_the_path_are_refused() {
    let exited = forged_acks(true);
    eprintln!("{}", exited.stderr_text());
    assert_eq!(
        exited.status.code(),
        Some(1),
        "reliable-send --key-file believed forged ACKs (or does not know the flag): {exited:?}"
    );
    assert!(
        exited.stderr_text().contains("did not open with the key"),
        "{exited:?}"
    );
}

/// Sends `bytes` from `socket` until an ACK whose cumulative is `cumulative` comes back.
#[track_caller]
fn send_until_acked(
    socket: &UdpSocket,
    to: SocketAddr,
    bytes: &[u8],
    cumulative: u32,
    key: Option<&SealKey>,
) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 256];
    while Instant::now() < deadline {
        socket.send_to(bytes, to).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        while let Ok((len, _)) = socket.recv_from(&mut buf) {
            let opened = match key {
                Some(key) => open_datagram(key, &buf[..len]),
                None => Some(&buf[..len]),
            };
            if let Some(Ok(Packet::Ack(ack))) = opened.map(Packet::decode)
                && ack.cumulative == cumulative
            {
                return;
            }
        }
    }
    panic!("reliable-recv did not acknowledge a message (cumulative {cumulative})");
}

/// reliable-recv --from the sender; the sender sends "good ", then the attacker, from the
/// sender's own address and in its session, injects DATA and END; then the sender sends
/// "tail" and END. Returns what reliable-recv wrote and how it ended.
fn injected(sealed: bool) -> (String, Exited) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("copy.bin");
    let sender = net::udp_socket();
    let mut command = Command::new(program("reliable-recv"));
    command.args([
        "--bind",
        "127.0.0.1:0",
        "--from",
        &sender.local_addr().unwrap().to_string(),
        "--linger-ms",
        "100",
        "--idle-timeout",
        "5",
    ]);
    let key = sealed.then(|| SealKey::from_key_text(KEY).unwrap());
    if sealed {
        command.arg("--key-file").arg(key_file(dir.path()));
    }
    let mut receiver =
        ChildGuard::spawn_with_stdout(command, Stdio::from(std::fs::File::create(&out).unwrap()));
    let to = receiver.listening_addr();
    let session = Session {
        id: 0x5e55_1011,
        first_seq: u32::MAX - 1,
    };
    let seal = |packet: Packet| match &key {
        Some(key) => seal_datagram(key, &packet.encode()),
        None => packet.encode(),
    };
    let data = |seq, payload: &[u8]| Packet::Data {
        session: session.id,
        seq,
        payload: payload.to_vec(),
    };
    send_until_acked(
        &sender,
        to,
        &seal(data(session.seq(0), b"good ")),
        session.seq(1),
        key.as_ref(),
    );
    // Someone who holds the key, but sends from another address than --from: its
    // datagram opens, and is dropped all the same (counted apart from the unopened ones).
    if let Some(key) = &key {
        let other = net::udp_socket();
        let bytes = seal_datagram(key, &data(session.seq(1), b"FROM ANOTHER ADDRESS").encode());
        other.send_to(&bytes, to).unwrap();
    }
    // The attacker knows the session and the next number: it read them on the path.
    let injected = [
        data(session.seq(1), b"INJECTED BY A THIRD PARTY"),
        Packet::End {
            session: session.id,
            seq: session.seq(2),
        },
    ];
    for packet in &injected {
        for bytes in forgeries(packet) {
            sender.send_to(&bytes, to).unwrap();
        }
    }
    // The real sender goes on (in an unsealed run the stream may already be over).
    if !sealed {
        let exited = receiver.wait_exit(Duration::from_secs(5));
        return (
            String::from_utf8_lossy(&std::fs::read(&out).unwrap()).into_owned(),
            exited,
        );
    }
    send_until_acked(
        &sender,
        to,
        &seal(data(session.seq(1), b"tail")),
        session.seq(2),
        key.as_ref(),
    );
    let end = Packet::End {
        session: session.id,
        seq: session.seq(2),
    };
    send_until_acked(&sender, to, &seal(end), session.seq(3), key.as_ref());
    let exited = receiver.wait_exit(Duration::from_secs(5));
    (
        String::from_utf8_lossy(&std::fs::read(&out).unwrap()).into_owned(),
        exited,
    )
}

#[test]
fn without_a_key_data_and_end_injected_on_the_path_reach_the_output() {
    let (written, exited) = injected(false);
    assert!(
        written.contains("INJECTED"),
        "the attack should work on unsealed programs: {written:?} {exited:?}"
    );
}

#[test]
fn with_a_key_data_and_end_injected_on_the_path_never_reach_the_output() {
    let (written, exited) = injected(true);
    eprintln!("{}", exited.stderr_text());
    assert_eq!(
        written, "good tail",
        "the stream holds forgeries: {exited:?}"
    );
    assert_eq!(exited.status.code(), Some(0), "{exited:?}");
    assert!(
        exited
            .stderr_text()
            .contains("refused 4 datagrams that did not open with the key"),
        "{exited:?}"
    );
    assert!(
        exited
            .stderr_text()
            .contains("ignored 1 sealed datagrams from another address than the peer's"),
        "{exited:?}"
    );
}
