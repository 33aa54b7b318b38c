//! Chapter 10's programs (tls-cert, tls-server, tls-client, quic-server, quic-client) run
//! against each other, with certificates that tls-cert writes. They run the switched-in
//! side (the reference under `--features solutions`), so this file is not a chapter test.
//! Run it with `cargo test --features solutions --test programs_tls`.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use course_harness::ChildGuard;
use course_harness::child::{Exited, Stream};
use course_harness::drip::connect_from;
use socket_course::ch10_tls::quic::client_endpoint;
use socket_course::ch10_tls::{connect, tokio};

fn command(name: &str) -> Command {
    Command::new(course_harness::program!(name))
}

/// Runs tls-cert into `dir` (extra flags in `args`); it must succeed.
fn tls_cert(dir: &Path, args: &[&str]) {
    let mut cert = command("tls-cert");
    cert.arg("--out-dir").arg(dir).args(args);
    let exited = ChildGuard::run_to_end(cert, b"", Duration::from_secs(10));
    exited.expect_code("tls-cert", 0);
    for file in ["ca.pem", "server.pem", "server.key"] {
        assert!(
            dir.join(file).is_file(),
            "tls-cert wrote no {file}: {exited:?}"
        );
    }
}

/// Starts a server program with `--bind 127.0.0.1:0` and the files of `dir`.
fn start_server(name: &str, dir: &Path) -> (ChildGuard, SocketAddr) {
    start_server_on(name, dir, "127.0.0.1:0")
}

/// Starts a server program with `--bind BIND` and the files of `dir`.
fn start_server_on(name: &str, dir: &Path, bind: &str) -> (ChildGuard, SocketAddr) {
    start_server_with(name, dir, bind, &[])
}

/// Starts a server program with `--bind BIND`, the files of `dir` and `extra` flags.
fn start_server_with(
    name: &str,
    dir: &Path,
    bind: &str,
    extra: &[&str],
) -> (ChildGuard, SocketAddr) {
    let mut server = command(name);
    server
        .args(["--bind", bind, "--cert"])
        .arg(dir.join("server.pem"))
        .arg("--key")
        .arg(dir.join("server.key"))
        .args(extra);
    let mut server = ChildGuard::spawn(server);
    let addr = server.listening_addr();
    (server, addr)
}

/// Runs a client program against `addr` trusting `ca`, with `extra` flags and `stdin`.
fn client(name: &str, addr: SocketAddr, ca: &Path, extra: &[&str], stdin: &str) -> Exited {
    client_to(name, &addr.to_string(), ca, extra, stdin)
}

/// [`client`] with `--server` as text (`localhost:PORT`).
fn client_to(name: &str, server: &str, ca: &Path, extra: &[&str], stdin: &str) -> Exited {
    let mut client = command(name);
    client
        .args(["--server", server, "--ca"])
        .arg(ca)
        .args(extra);
    ChildGuard::run_to_end(client, stdin.as_bytes(), Duration::from_secs(15))
}

#[test]
fn tls_client_and_tls_server_echo_lines() {
    let dir = tempfile::tempdir().unwrap();
    tls_cert(dir.path(), &[]);
    let (mut server, addr) = start_server("tls-server", dir.path());
    let exited = client(
        "tls-client",
        addr,
        &dir.path().join("ca.pem"),
        &[],
        "hello\nこんにちは\n",
    );
    exited.expect_code("tls-client", 0);
    assert_eq!(exited.stdout, ["hello", "こんにちは"]);
    server.assert_running();
}

#[test]
fn tls_client_refuses_a_wrong_name_an_unknown_ca_and_an_expired_certificate() {
    let dir = tempfile::tempdir().unwrap();
    tls_cert(dir.path(), &[]);
    let other = tempfile::tempdir().unwrap();
    tls_cert(other.path(), &[]);
    let expired = tempfile::tempdir().unwrap();
    tls_cert(expired.path(), &["--expired"]);
    let (mut server, addr) = start_server("tls-server", dir.path());
    let cases = [
        (
            &["--server-name", "example.com"][..],
            dir.path(),
            "not for this name",
        ),
        (&[][..], other.path(), "CA is not trusted"),
    ];
    for (extra, ca_dir, why) in cases {
        let exited = client("tls-client", addr, &ca_dir.join("ca.pem"), extra, "x\n");
        exited.expect_code("tls-client", 1);
        assert!(exited.stdout.is_empty(), "{exited:?}");
        assert!(exited.stderr_text().contains(why), "{exited:?}");
    }
    server.assert_running();
    let (_old, old_addr) = start_server("tls-server", expired.path());
    let exited = client(
        "tls-client",
        old_addr,
        &expired.path().join("ca.pem"),
        &[],
        "x\n",
    );
    exited.expect_code("tls-client", 1);
    assert!(exited.stderr_text().contains("expired"), "{exited:?}");
}

#[test]
fn a_missing_or_broken_pem_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    tls_cert(dir.path(), &[]);
    let mut server = command("tls-server");
    server
        .args(["--bind", "127.0.0.1:0", "--cert"])
        .arg(dir.path().join("missing.pem"))
        .arg("--key")
        .arg(dir.path().join("server.key"));
    let exited = ChildGuard::run_to_end(server, b"", Duration::from_secs(10));
    exited.expect_code("tls-server --cert missing.pem", 2);
    // A key file given as the certificate: PEM, but no certificate in it.
    let mut server = command("tls-server");
    server
        .args(["--bind", "127.0.0.1:0", "--cert"])
        .arg(dir.path().join("server.key"))
        .arg("--key")
        .arg(dir.path().join("server.key"));
    let exited = ChildGuard::run_to_end(server, b"", Duration::from_secs(10));
    exited.expect_code("tls-server --cert server.key", 2);
}

#[test]
fn quic_client_and_quic_server_echo_each_line_on_a_stream() {
    let dir = tempfile::tempdir().unwrap();
    tls_cert(dir.path(), &[]);
    let (mut server, addr) = start_server("quic-server", dir.path());
    let exited = client(
        "quic-client",
        addr,
        &dir.path().join("ca.pem"),
        &[],
        "one\ntwo\nthree\n",
    );
    exited.expect_code("quic-client", 0);
    assert_eq!(exited.stdout, ["one", "two", "three"]);
    server.assert_running();
    let exited = client(
        "quic-client",
        addr,
        &dir.path().join("ca.pem"),
        &["--server-name", "example.com"],
        "one\n",
    );
    exited.expect_code("quic-client --server-name example.com", 1);
}

#[test]
fn tls_and_quic_programs_echo_over_v6() {
    if !course_harness::net::ipv6_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    tls_cert(dir.path(), &[]);
    let ca = dir.path().join("ca.pem");
    for (server, client_name) in [("tls-server", "tls-client"), ("quic-server", "quic-client")] {
        let (mut server, addr) = start_server_on(server, dir.path(), "[::1]:0");
        assert!(addr.is_ipv6(), "{addr}");
        let exited = client(client_name, addr, &ca, &[], "over v6\n");
        exited.expect_code(&format!("{client_name} --server [::1]:PORT"), 0);
        assert_eq!(exited.stdout, ["over v6"]);
        server.assert_running();
    }
}

#[test]
fn tls_client_given_localhost_finds_a_v6_only_server() {
    if !course_harness::net::ipv6_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    tls_cert(dir.path(), &[]);
    let (_server, addr) = start_server_on("tls-server", dir.path(), "[::1]:0");
    // 127.0.0.1:PORT, the first address of `localhost`, bound but not listening: it refuses.
    let refusing =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let v4: SocketAddr = (std::net::Ipv4Addr::LOCALHOST, addr.port()).into();
    refusing.bind(&v4.into()).unwrap();
    let localhost = format!("localhost:{}", addr.port());
    let exited = client_to(
        "tls-client",
        &localhost,
        &dir.path().join("ca.pem"),
        &[],
        "found\n",
    );
    exited.expect_code("tls-client --server localhost:PORT", 0);
    assert_eq!(exited.stdout, ["found"]);
}

/// The server's next stderr line that contains every one of `wanted`, within `within`; the
/// test fails otherwise.
fn stderr_line_with(server: &mut ChildGuard, wanted: &[&str], within: Duration) -> String {
    let end = Instant::now() + within;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match server.next_line(Stream::Stderr, left) {
            Ok(line) if wanted.iter().all(|w| line.contains(w)) => return line,
            Ok(_) => {}
            Err(e) => server.fail(&format!(
                "no stderr line with {wanted:?} within {within:?} ({e:?})"
            )),
        }
    }
}

/// Whether the server has closed `stream` (EOF or a reset), looking without waiting.
fn closed_by_server(stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 4096];
    let closed = loop {
        match (&*stream).read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break false,
            Err(_) => break true,
        }
    };
    stream.set_nonblocking(false).unwrap();
    closed
}

/// The start of a ClientHello: a handshake record of 512 bytes holding a ClientHello of 508.
const CLIENT_HELLO_START: [u8; 9] = [22, 3, 1, 2, 0, 1, 0, 1, 252];

/// Echoes `line` through a new TLS connection to `addr` that trusts `ca`.
fn tls_echo(addr: SocketAddr, ca: &[u8], line: &[u8]) {
    let mut tls = connect(addr, "localhost", ca, Duration::from_secs(5)).unwrap();
    tls.write_all(line).unwrap();
    let mut back = vec![0u8; line.len()];
    tls.read_exact(&mut back).unwrap();
    assert_eq!(back, line);
}

#[test]
fn tls_server_closes_a_silent_and_a_dribbling_handshake_at_the_deadline_and_serves_others() {
    let dir = tempfile::tempdir().unwrap();
    tls_cert(dir.path(), &[]);
    let ca = std::fs::read(dir.path().join("ca.pem")).unwrap();
    // An idle timeout far longer than the test: only the handshake deadline can act.
    let flags = ["--handshake-deadline", "0.5", "--idle-timeout", "20"];
    let (mut server, addr) = start_server_with("tls-server", dir.path(), "127.0.0.1:0", &flags);
    let silent = TcpStream::connect(addr).unwrap();
    let dribbler = TcpStream::connect(addr).unwrap();
    let started = Instant::now();
    // Another client is served while both hold a connection.
    tls_echo(addr, &ca, b"still served\n");
    // The dribbler sends a ClientHello one byte every 0.2 s (pacing: that is the attack);
    // it never finishes it. Both must be closed at the deadline, well before 3 s.
    let (mut silent_open, mut dribbling) = (true, true);
    let mut next_byte = 0;
    while (silent_open || dribbling) && started.elapsed() < Duration::from_secs(3) {
        if dribbling {
            let byte = CLIENT_HELLO_START.get(next_byte).copied().unwrap_or(0);
            next_byte += 1;
            dribbling = (&dribbler).write_all(&[byte]).is_ok() && !closed_by_server(&dribbler);
        }
        silent_open = silent_open && !closed_by_server(&silent);
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        !silent_open && !dribbling,
        "after {:?}: silent still open: {silent_open}, dribbler still open: {dribbling}",
        started.elapsed()
    );
    stderr_line_with(
        &mut server,
        &["no whole ClientHello by the handshake deadline"],
        Duration::from_secs(1),
    );
    tls_echo(addr, &ca, b"served after\n");
    server.assert_running();
}

#[test]
fn tls_server_refuses_more_connections_than_its_share_from_one_address_but_serves_another() {
    let dir = tempfile::tempdir().unwrap();
    tls_cert(dir.path(), &[]);
    let flags = ["--max-per-address", "2", "--max-clients", "8"];
    let (mut server, addr) = start_server_with("tls-server", dir.path(), "127.0.0.1:0", &flags);
    let local = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let _held = [
        connect_from(local, addr).unwrap(),
        connect_from(local, addr).unwrap(),
    ];
    let third = connect_from(local, addr).unwrap();
    stderr_line_with(
        &mut server,
        &["too many clients from 127.0.0.1 (2)"],
        Duration::from_secs(2),
    );
    let mut buf = [0u8; 16];
    assert!(
        matches!((&third).read(&mut buf), Ok(0) | Err(_)),
        "the third was not closed"
    );
    // Another address (127.0.0.2 is loopback too) still gets a place.
    let other = connect_from(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), addr).unwrap();
    let other_addr = other.local_addr().unwrap().to_string();
    stderr_line_with(
        &mut server,
        &[&other_addr, "connected"],
        Duration::from_secs(2),
    );
    assert!(!closed_by_server(&other));
    server.assert_running();
}

#[test]
fn tls_server_closes_a_client_silent_after_its_handshake_at_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    tls_cert(dir.path(), &[]);
    let ca = std::fs::read(dir.path().join("ca.pem")).unwrap();
    let flags = ["--idle-timeout", "0.5"];
    let (mut server, addr) = start_server_with("tls-server", dir.path(), "127.0.0.1:0", &flags);
    let mut quiet = connect(addr, "localhost", &ca, Duration::from_secs(5)).unwrap();
    let quiet_addr = quiet.sock.local_addr().unwrap().to_string();
    stderr_line_with(
        &mut server,
        &[&quiet_addr, "closing the connection"],
        Duration::from_secs(3),
    );
    let mut buf = [0u8; 16];
    assert!(
        matches!(quiet.read(&mut buf), Ok(0) | Err(_)),
        "the quiet client can still read"
    );
    server.assert_running();
}

/// Opens a QUIC connection from `endpoint` to `addr` and echoes `line` on a stream.
async fn quic_echo(
    endpoint: &socket_course::ch10_tls::quinn::Endpoint,
    addr: SocketAddr,
    line: &[u8],
) -> io::Result<socket_course::ch10_tls::quinn::Connection> {
    let conn = endpoint
        .connect(addr, "localhost")
        .map_err(io::Error::other)?
        .await?;
    let (mut send, mut recv) = conn.open_bi().await?;
    send.write_all(line).await?;
    send.finish()?;
    let back = recv.read_to_end(1024).await.map_err(io::Error::other)?;
    assert_eq!(back, line);
    Ok(conn)
}

#[test]
fn quic_server_refuses_more_clients_than_its_share_from_one_address_but_serves_another() {
    let dir = tempfile::tempdir().unwrap();
    tls_cert(dir.path(), &[]);
    let ca = std::fs::read(dir.path().join("ca.pem")).unwrap();
    let flags = ["--max-per-address", "1"];
    let (mut server, addr) = start_server_with("quic-server", dir.path(), "127.0.0.1:0", &flags);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let within = Duration::from_secs(5);
        let first = client_endpoint(addr, &ca).unwrap();
        let held = tokio::time::timeout(within, quic_echo(&first, addr, b"first\n"))
            .await
            .expect("the first client timed out")
            .expect("the first client was not served");
        let second = client_endpoint(addr, &ca).unwrap();
        let refused = tokio::time::timeout(within, quic_echo(&second, addr, b"second\n"))
            .await
            .expect("the second client timed out");
        assert!(
            refused.is_err(),
            "a second client from 127.0.0.1 was served"
        );
        let other = client_endpoint(addr, &ca).unwrap();
        other
            .rebind(UdpSocket::bind("127.0.0.2:0").unwrap())
            .unwrap();
        tokio::time::timeout(within, quic_echo(&other, addr, b"other\n"))
            .await
            .expect("the client from 127.0.0.2 timed out")
            .expect("the client from 127.0.0.2 was not served");
        drop(held);
    });
    stderr_line_with(
        &mut server,
        &["too many clients from 127.0.0.1 (1), refused"],
        Duration::from_secs(1),
    );
    server.assert_running();
}

#[test]
fn quic_server_answers_a_forged_address_with_one_small_retry_and_no_handshake() {
    let dir = tempfile::tempdir().unwrap();
    tls_cert(dir.path(), &[]);
    let ca = std::fs::read(dir.path().join("ca.pem")).unwrap();
    let (mut server, addr) = start_server("quic-server", dir.path());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let within = Duration::from_secs(5);
        // A real client's first datagram (its Initial, with a ClientHello), caught on its way.
        let catcher = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let target = catcher.local_addr().unwrap();
        let client = client_endpoint(target, &ca).unwrap();
        let _connecting = client.connect(target, "localhost").unwrap();
        let mut initial = vec![0u8; 65_536];
        let (len, _) = tokio::time::timeout(within, catcher.recv_from(&mut initial))
            .await
            .expect("the client sent no Initial")
            .unwrap();
        // Sent to the server from 127.0.0.2, as if forged by someone who wants the answer to
        // land there.
        let victim = tokio::net::UdpSocket::bind("127.0.0.2:0").await.unwrap();
        victim.send_to(&initial[..len], addr).await.unwrap();
        let mut answer = vec![0u8; 65_536];
        let (got, from) = tokio::time::timeout(within, victim.recv_from(&mut answer))
            .await
            .expect("the server did not answer")
            .unwrap();
        assert_eq!(from, addr, "an answer from elsewhere");
        // A long header whose type bits say Retry (RFC 9000, 17.2.5): 0b1111_xxxx.
        assert_eq!(
            answer[0] & 0xf0,
            0xf0,
            "not a Retry (first byte {:#04x}, {got} bytes)",
            answer[0]
        );
        assert!(got < len, "a Retry of {got} bytes for an Initial of {len}");
        // Nothing else follows (no handshake flight): absence is shown by a bounded wait.
        let more = tokio::time::timeout(Duration::from_millis(300), victim.recv(&mut answer)).await;
        assert!(
            more.is_err(),
            "the server sent more to an unproved address: {more:?}"
        );
    });
    server.assert_running();
}

#[test]
fn quic_server_forgets_a_client_silent_for_its_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    tls_cert(dir.path(), &[]);
    let ca = std::fs::read(dir.path().join("ca.pem")).unwrap();
    let flags = ["--idle-timeout", "0.5"];
    let (mut server, addr) = start_server_with("quic-server", dir.path(), "127.0.0.1:0", &flags);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client_addr = runtime.block_on(async {
        let endpoint = client_endpoint(addr, &ca).unwrap();
        let conn =
            tokio::time::timeout(Duration::from_secs(5), quic_echo(&endpoint, addr, b"hi\n"))
                .await
                .expect("the client timed out")
                .expect("the client was not served");
        // The client's own idle timeout is quinn's 30 s: only the server's 0.5 s can end it.
        let why = tokio::time::timeout(Duration::from_secs(3), conn.closed())
            .await
            .expect("the quiet connection was still open after 3 s");
        assert!(
            matches!(
                why,
                socket_course::ch10_tls::quinn::ConnectionError::TimedOut
            ),
            "{why:?}"
        );
        endpoint.local_addr().unwrap().to_string()
    });
    stderr_line_with(
        &mut server,
        &[&client_addr, "timed out"],
        Duration::from_secs(1),
    );
    server.assert_running();
}

#[test]
fn quic_client_given_localhost_finds_a_v6_only_server() {
    if !course_harness::net::ipv6_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    tls_cert(dir.path(), &[]);
    // quic-server on ::1 only. 127.0.0.1:PORT, the first address of `localhost`, is a UDP
    // socket that never answers (held, so that no other test's server answers there): a
    // QUIC client has no refusal to go by, only a handshake that does not come. The port
    // is free on ::1, not necessarily on 127.0.0.1: then the server starts again.
    let (_server, addr, _silent) = (0..20)
        .find_map(|_| {
            let (server, addr) = start_server_on("quic-server", dir.path(), "[::1]:0");
            let v4: SocketAddr = (std::net::Ipv4Addr::LOCALHOST, addr.port()).into();
            let silent = std::net::UdpSocket::bind(v4).ok()?;
            Some((server, addr, silent))
        })
        .expect("test setup: 20 ports of ::1 were all taken on 127.0.0.1");
    let localhost = format!("localhost:{}", addr.port());
    let exited = client_to(
        "quic-client",
        &localhost,
        &dir.path().join("ca.pem"),
        &["--timeout", "5"],
        "found\n",
    );
    exited.expect_code("quic-client --server localhost:PORT", 0);
    assert_eq!(exited.stdout, ["found"]);
}
