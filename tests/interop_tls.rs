//! Chapter 10's programs against real peers nobody here wrote: Python's standard `ssl`
//! module as a TLS client of `tls-server` and as a TLS server for `tls-client`, and aioquic
//! (from PyPI, pinned in tests/requirements.txt) as a QUIC client of `quic-server`.
//!
//! Without Python 3 (or aioquic) these tests print a note and do nothing, except under
//! `CI=true`, where that is a failure. Run them with
//! `cargo test --features solutions --test interop_tls`.
//!
//! Each runs on both families: the v6 case puts the Rust program or the Python peer on
//! `[::1]` (the Python programs pick AF_INET6 from the address they are given).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use course_harness::ChildGuard;
use course_harness::net::Family;
use course_harness::python::{python3, python3_with};
use rstest::rstest;

fn script(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name);
    path.to_string_lossy().into_owned()
}

/// A test CA and a server certificate, written by tls-cert into a fresh folder.
fn certificates() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut cert = Command::new(course_harness::program!("tls-cert"));
    cert.arg("--out-dir").arg(dir.path());
    ChildGuard::run_to_end(cert, b"", Duration::from_secs(10)).expect_code("tls-cert", 0);
    dir
}

fn start_server(name: &str, dir: &Path, family: Family) -> (ChildGuard, SocketAddr) {
    let mut server = Command::new(course_harness::program!(name));
    server
        .args(["--bind", &family.any_port().to_string(), "--cert"])
        .arg(dir.join("server.pem"))
        .arg("--key")
        .arg(dir.join("server.key"));
    let mut server = ChildGuard::spawn(server);
    let addr = server.listening_addr();
    (server, addr)
}

/// Python's `ssl` as client: it checks tls-server's certificate against the test CA and the
/// name `localhost`, echoes two lines and ends with close_notify.
#[rstest]
#[case::v4(Family::V4)]
#[case::v6(Family::V6)]
fn python_ssl_client_talks_to_tls_server(#[case] family: Family) {
    if !family.usable() {
        return;
    }
    let Some(mut python) = python3() else { return };
    let dir = certificates();
    let (mut server, addr) = start_server("tls-server", dir.path(), family);
    python
        .arg(script("tls_client.py"))
        .args([addr.ip().to_string(), addr.port().to_string()])
        .arg(dir.path().join("ca.pem"))
        .arg("localhost");
    let mut client = ChildGuard::spawn(python);
    client.write_stdin("hello\nこんにちは\n");
    client.close_stdin();
    let exited = client.wait_exit_while_running(&mut server, Duration::from_secs(10));
    exited.expect_code("tls_client.py", 0);
    assert_eq!(exited.stdout, ["hello", "こんにちは"]);
    assert!(exited.stderr_text().contains("TLSv1.3"), "{exited:?}");
}

/// Python's `ssl` as server: tls-client checks its certificate, echoes a line, and both
/// sides end with close_notify ("closed cleanly").
#[rstest]
#[case::v4(Family::V4)]
#[case::v6(Family::V6)]
fn tls_client_talks_to_a_python_ssl_server(#[case] family: Family) {
    if !family.usable() {
        return;
    }
    let Some(mut python) = python3() else { return };
    // Built before the Python server starts: it waits 10 s for its client, and a build of
    // tls-client can take longer than that.
    let tls_client = course_harness::program!("tls-client");
    let dir = certificates();
    python
        .arg(script("tls_server.py"))
        .arg(dir.path().join("server.pem"))
        .arg(dir.path().join("server.key"))
        .arg(family.loopback().to_string());
    let mut server = ChildGuard::spawn(python);
    let addr = server.listening_addr();
    assert_eq!(Family::of(addr), family, "tls_server.py listens on {addr}");
    let mut client = Command::new(tls_client);
    client
        .args(["--server", &addr.to_string(), "--ca"])
        .arg(dir.path().join("ca.pem"));
    let exited = ChildGuard::run_to_end(client, "abc\n".as_bytes(), Duration::from_secs(10));
    exited.expect_code("tls-client", 0);
    assert_eq!(exited.stdout, ["abc"]);
    let server_exit = server.wait_exit(Duration::from_secs(10));
    server_exit.expect_code("tls_server.py", 0);
    assert!(
        server_exit.stderr_text().contains("closed cleanly"),
        "{server_exit:?}"
    );
}

/// aioquic as client: one connection, three streams at once, each echoed by quic-server.
#[rstest]
#[case::v4(Family::V4)]
#[case::v6(Family::V6)]
fn aioquic_client_talks_to_quic_server(#[case] family: Family) {
    if !family.usable() {
        return;
    }
    let Some(mut python) = python3_with("aioquic") else {
        return;
    };
    let dir = certificates();
    let (mut server, addr) = start_server("quic-server", dir.path(), family);
    python
        .arg(script("quic_client.py"))
        .args([addr.ip().to_string(), addr.port().to_string()])
        .arg(dir.path().join("ca.pem"))
        .arg("localhost");
    let mut client = ChildGuard::spawn(python);
    client.write_stdin("one\ntwo\nthree\n");
    client.close_stdin();
    let exited = client.wait_exit_while_running(&mut server, Duration::from_secs(15));
    exited.expect_code("quic_client.py", 0);
    assert_eq!(exited.stdout, ["one", "two", "three"]);
}
