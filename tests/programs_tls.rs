//! Chapter 10's programs (tls-cert, tls-server, tls-client, quic-server, quic-client) run
//! against each other, with certificates that tls-cert writes. They run the switched-in
//! side (the reference under `--features solutions`), so this file is not a chapter test.
//! Run it with `cargo test --features solutions --test programs_tls`.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use course_harness::ChildGuard;
use course_harness::child::Exited;

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
    let mut server = command(name);
    server
        .args(["--bind", bind, "--cert"])
        .arg(dir.join("server.pem"))
        .arg("--key")
        .arg(dir.join("server.key"));
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
