//! Chapter 10: DTLS 1.3 on real UDP sockets, with dimpl. Run it with
//! `cargo run --features dtls --example ch10_dtls`.
//!
//! A client and a server on 127.0.0.1, driven by one loop on this thread. dimpl does
//! no I/O of its own: the loop hands it each datagram that arrives (`handle_packet`),
//! sends each datagram it asks for (`poll_output`), and wakes it when its timer is
//! due (`handle_timeout`). Because every datagram passes through the loop, the loop
//! can print each record's header, lose one datagram on purpose, and send one twice.
//!
//! What it prints: every datagram of the handshake with its records (content type,
//! epoch, sequence number, the handshake message); the datagram it drops, and the
//! one that replaces it; three messages from client to server; and what became of
//! the second message's datagram, sent a second time.
//!
//! tests/dtls_demo.rs runs [`run`] and checks what it reports.

use std::io::ErrorKind::{TimedOut, WouldBlock};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dimpl::{Config, Dtls, DtlsCertificate, Output};
use socket_course::ch10_tls::certs::{TestCa, Validity};
use socket_course::ch10_tls::rustls::pki_types::pem::PemObject;
use socket_course::ch10_tls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The whole run ends by then, handshake and data.
const DEADLINE: Duration = Duration::from_secs(10);
/// How long one `recv` waits: the loop's pace while nothing arrives, short enough to
/// wake dimpl's timers on time.
const POLL: Duration = Duration::from_millis(5);
/// The handshake's first retransmission timer (dimpl's default is 1 s).
const RTO: Duration = Duration::from_millis(200);
/// Which of the server's datagrams the loop drops (counting from 0): the first one
/// after the cookie exchange, the start of the server's main flight.
const LOST_SERVER_DATAGRAM: usize = 1;
const MESSAGES: [&[u8]; 3] = [b"first", b"second", b"third"];

/// What the run saw, for tests/dtls_demo.rs.
#[derive(Debug, Default)]
pub struct Report {
    /// The lines the example prints.
    pub lines: Vec<String>,
    /// The server answered the first ClientHello with a HelloRetryRequest holding
    /// a cookie, and the second ClientHello carried it back.
    pub cookie_exchange: bool,
    /// The dropped datagram's records were sent again (as new records).
    pub lost_flight_resent: bool,
    /// Both sides reported the handshake complete.
    pub connected: bool,
    /// What the server delivered, in order.
    pub delivered: Vec<Vec<u8>>,
}

/// One side: its socket, its peer's address and its DTLS state machine.
struct Side {
    name: &'static str,
    socket: UdpSocket,
    peer: SocketAddr,
    dtls: Dtls,
    timer: Option<Instant>,
    connected: bool,
    sent: usize,
}

fn certificate(ca: &TestCa, name: &str) -> DtlsCertificate {
    let issued = ca.issue(&[name], Validity::Current).expect("certificate");
    let cert_pem = issued.cert_pem.as_bytes();
    let cert = CertificateDer::from_pem_slice(cert_pem).expect("PEM");
    let key = PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes()).expect("PEM");
    DtlsCertificate {
        certificate: cert.to_vec(),
        private_key: key.secret_der().to_vec(),
    }
}

/// Runs the demonstration; `replay_through_dimpl` is true except in the test that
/// shows what the replay check would miss.
pub fn run(replay_through_dimpl: bool) -> Report {
    let mut report = Report::default();
    let ca = TestCa::new("socket-course DTLS CA").expect("CA");
    let server_cert = certificate(&ca, "localhost");
    let config = Config::builder()
        .flight_start_rto(RTO)
        .use_server_cookie(true) // the default, said aloud
        .build()
        .expect("config");
    let config = Arc::new(config);
    let localhost = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let server_socket = UdpSocket::bind(localhost).expect("bind");
    let client_socket = UdpSocket::bind(localhost).expect("bind");
    for socket in [&server_socket, &client_socket] {
        socket.set_read_timeout(Some(POLL)).expect("timeout");
    }
    let server_addr = server_socket.local_addr().expect("addr");
    let client_addr = client_socket.local_addr().expect("addr");
    let now = Instant::now();
    let client_cert = certificate(&ca, "client");
    let mut client_dtls = Dtls::new_13(config.clone(), client_cert, now);
    client_dtls.set_active(true);
    let mut sides = [
        Side {
            name: "client",
            peer: server_addr,
            socket: client_socket,
            dtls: client_dtls,
            timer: None,
            connected: false,
            sent: 0,
        },
        Side {
            name: "server",
            peer: client_addr,
            socket: server_socket,
            dtls: Dtls::new_13(config, server_cert.clone(), now),
            timer: None,
            connected: false,
            sent: 0,
        },
    ];
    let mut lost: Option<(Vec<String>, Instant)> = None;
    let mut saw_hrr_cookie = false;
    let mut replay: Option<Vec<u8>> = None;
    let mut phase = 0; // 0 handshake, 1 messages, 2 replay sent, 3 replay received
    let mut next_message = 0;
    let mut capture = false; // the next client datagram carries MESSAGES[0]
    let mut server_received = 0;
    let mut received_at_replay = 0;
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        for (i, side) in sides.iter_mut().enumerate() {
            // What dimpl wants sent, and what it has to say.
            let mut buf = vec![0u8; 2048];
            loop {
                match side.dtls.poll_output(&mut buf) {
                    Output::Packet(datagram) => {
                        let records = describe(datagram);
                        let n = side.sent;
                        side.sent += 1;
                        let drop = side.name == "server" && n == LOST_SERVER_DATAGRAM;
                        saw_hrr_cookie |= records.iter().any(|r| r.contains("HRR"));
                        let resent = lost.as_ref().filter(|(k, _)| {
                            side.name == "server"
                                && !drop
                                && !report.lost_flight_resent
                                && *k == kinds(&records)
                        });
                        let resent = resent.map(|(_, at)| at.elapsed());
                        report.lost_flight_resent |= resent.is_some();
                        if let Some(after) = resent {
                            let ms = after.as_millis();
                            let line = format!("server: resent after {ms} ms");
                            report.lines.push(line);
                        }
                        if phase == 0 {
                            let fate = if drop { "  (lost on purpose)" } else { "" };
                            let to = if i == 0 { "server" } else { "client" };
                            report.lines.push(format!(
                                "{} -> {to}, datagram {n}, {} bytes{fate}",
                                side.name,
                                datagram.len()
                            ));
                            for r in &records {
                                report.lines.push(format!("    {r}"));
                            }
                        }
                        if drop {
                            lost = Some((kinds(&records), Instant::now()));
                            continue;
                        }
                        if capture && side.name == "client" {
                            // Keep the first message's datagram to send it again.
                            capture = false;
                            replay = Some(datagram.to_vec());
                            report.lines.push(format!(
                                "client -> server, {:?}, {} bytes",
                                String::from_utf8_lossy(MESSAGES[0]),
                                datagram.len()
                            ));
                            for r in &records {
                                report.lines.push(format!("    {r}"));
                            }
                        }
                        side.socket.send_to(datagram, side.peer).expect("send");
                    }
                    Output::BufferTooSmall { needed } => buf.resize(needed, 0),
                    Output::Timeout(at) => {
                        side.timer = Some(at);
                        break;
                    }
                    Output::Connected => side.connected = true,
                    Output::PeerCert(der) if side.name == "client" => {
                        // dimpl checks the signature made with this certificate's
                        // key; whether to trust the certificate is ours to decide.
                        // Here the client pins the one certificate it expects.
                        let pinned = der == server_cert.certificate.as_slice();
                        report.lines.push(format!(
                            "client: the server's certificate is the pinned one: {}",
                            pinned
                        ));
                        if !pinned {
                            return report;
                        }
                    }
                    Output::ApplicationData(data) => {
                        report.delivered.push(data.to_vec());
                    }
                    _ => {}
                }
            }
        }
        if phase == 0 && sides[0].connected && sides[1].connected {
            report.connected = true;
            report.lines.push("both sides: handshake complete".into());
            phase = 1;
        } else if phase == 1 && next_message < MESSAGES.len() {
            // One message per round, so that each leaves in a datagram of its own.
            let message = MESSAGES[next_message];
            sides[0].dtls.send_application_data(message).expect("send");
            capture = next_message == 0;
            next_message += 1;
        } else if phase == 1 && report.delivered.len() == MESSAGES.len() {
            // The same datagram again, as an attacker on the path could send it.
            let datagram = replay.clone().expect("a datagram to replay");
            let side = &sides[0];
            side.socket.send_to(&datagram, side.peer).expect("send");
            report.lines.push(format!(
                "client -> server, {:?} again: the same {} bytes",
                String::from_utf8_lossy(MESSAGES[0]),
                datagram.len()
            ));
            received_at_replay = server_received;
            if !replay_through_dimpl {
                // The defect tests/dtls_demo.rs checks for: a replay handed on
                // without the replay window.
                report.delivered.push(MESSAGES[0].to_vec());
            }
            phase = 2;
        } else if phase == 2 && server_received > received_at_replay {
            // The server has had the replay: one more round for its output.
            phase = 3;
        } else if phase == 3 {
            break;
        }
        // ANCHOR: feed
        // What arrived, and the timers.
        for side in sides.iter_mut() {
            let mut datagram = [0u8; 65_536];
            match side.socket.recv_from(&mut datagram) {
                Ok((len, from)) if from == side.peer => {
                    let datagram = &datagram[..len];
                    if side.name == "server" {
                        server_received += 1;
                    }
                    // dimpl wants the time before each datagram. Replayed, damaged or
                    // stray records are dropped inside; an error ends the connection.
                    let fed = side.dtls.handle_timeout(Instant::now());
                    let fed = fed.and_then(|()| side.dtls.handle_packet(datagram));
                    if let Err(e) = fed {
                        report.lines.push(format!("{}: {e}", side.name));
                        return report;
                    }
                }
                Ok(_) => {} // not from the peer: ignored
                Err(e) if matches!(e.kind(), WouldBlock | TimedOut) => {}
                Err(e) => panic!("recv: {e}"),
            }
            let now = Instant::now();
            if side.timer.is_some_and(|at| at <= now) {
                side.timer = None;
                side.dtls.handle_timeout(now).expect("timeout");
            }
        }
        // ANCHOR_END: feed
    }
    report.cookie_exchange = saw_hrr_cookie;
    for data in &report.delivered {
        let shown = String::from_utf8_lossy(data).escape_debug().to_string();
        report.lines.push(format!("server delivered: {shown}"));
    }
    report.lines.push(format!(
        "server delivered {} messages for {} sent (the replay was dropped: {})",
        report.delivered.len(),
        MESSAGES.len(),
        report.delivered.len() == MESSAGES.len()
    ));
    report
}

/// The records of one datagram, one line each, read from their headers the way any
/// router on the path could read them.
// ANCHOR: describe
fn describe(datagram: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest = datagram;
    while let Some(&first) = rest.first() {
        if (20..=25).contains(&first) && rest.len() >= 13 {
            // The whole header in clear: type, version, epoch, sequence, length.
            let epoch = u16::from_be_bytes([rest[3], rest[4]]);
            let mut seq = [0u8; 8];
            seq[2..].copy_from_slice(&rest[5..11]);
            let seq = u64::from_be_bytes(seq);
            let len = usize::from(u16::from_be_bytes([rest[11], rest[12]]));
            let body = rest.get(13..13 + len).unwrap_or(&[]);
            let what = match first {
                22 => handshake(body),
                21 => "alert".to_string(),
                _ => format!("content type {first}"),
            };
            lines.push(format!("epoch {epoch}, seq {seq}: {what}"));
            rest = rest.get(13 + len..).unwrap_or(&[]);
        } else if first & 0xe0 == 0x20 {
            // DTLS 1.3's short header: 001CSLEE. Only the epoch's low two bits show;
            // the sequence number is encrypted.
            let seq_len = if first & 0x08 != 0 { 2 } else { 1 };
            let head = 1 + seq_len + if first & 0x04 != 0 { 2 } else { 0 };
            let len = if first & 0x04 != 0 && rest.len() >= head {
                usize::from(u16::from_be_bytes([rest[head - 2], rest[head - 1]]))
            } else {
                rest.len().saturating_sub(head)
            };
            lines.push(format!(
                "epoch {} (low bits), seq encrypted: {len} bytes sealed",
                first & 0x03
            ));
            rest = rest.get(head + len..).unwrap_or(&[]);
        } else {
            lines.push(format!("unknown record ({} bytes)", rest.len()));
            break;
        }
    }
    lines
}
// ANCHOR_END: describe

/// A handshake message in clear: its name and whether it carries a cookie.
fn handshake(body: &[u8]) -> String {
    // msg_type(1) length(3) message_seq(2) fragment_offset(3) fragment_length(3)
    let Some(&kind) = body.first() else {
        return "handshake (empty)".into();
    };
    let msg = body.get(12..).unwrap_or(&[]);
    const HRR: [u8; 8] = [0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11];
    match kind {
        1 => format!("ClientHello{}", cookie(msg, true)),
        2 if msg.get(2..10) == Some(&HRR[..]) => {
            format!("HelloRetryRequest (HRR){}", cookie(msg, false))
        }
        2 => "ServerHello".into(),
        3 => "HelloVerifyRequest".into(),
        other => format!("handshake message {other}"),
    }
}

/// ", cookie N bytes" when the hello's extensions hold a cookie (type 44).
fn cookie(msg: &[u8], client: bool) -> String {
    // version(2) random(32) session_id; the client adds the legacy cookie and a list
    // of suites, the server names one suite; both end with compression methods.
    let mut at = 34;
    let byte = |at: usize| usize::from(msg.get(at).copied().unwrap_or(0));
    let pair = |at: usize| byte(at) << 8 | byte(at + 1);
    at += 1 + byte(at);
    if client {
        at += 1 + byte(at);
        at += 2 + pair(at);
        at += 1 + byte(at);
    } else {
        at += 3;
    }
    let end = (at + 2 + pair(at)).min(msg.len());
    at += 2;
    while at + 4 <= end {
        let (kind, len) = (pair(at), pair(at + 2));
        if kind == 44 {
            return format!(", cookie {} bytes", len.saturating_sub(2));
        }
        at += 4 + len;
    }
    String::new()
}

/// A datagram's records without their sequence numbers: a resent flight has the same.
fn kinds(records: &[String]) -> Vec<String> {
    let strip = |r: &String| r.split_once(": ").map(|(_, what)| what.to_string());
    records.iter().filter_map(strip).collect()
}

#[allow(dead_code)]
fn main() {
    let report = run(true);
    for line in &report.lines {
        println!("{line}");
    }
    let ok = report.connected && report.delivered.len() == MESSAGES.len();
    if !ok {
        eprintln!("the demonstration did not complete");
        std::process::exit(1);
    }
}
