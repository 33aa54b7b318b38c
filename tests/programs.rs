//! Behaviour of the course's programs that does not depend on learner code (so it cannot live
//! in a chapter's test file, where every test must fail on the untouched stubs).

use std::process::Command;
use std::time::Duration;

use course_harness::{ChildGuard, Exchange, Peer};

/// Runs program `name` with `args` and `stdin` to its end (at most 10 s).
fn run(name: &str, args: &[&str], stdin: &str) -> course_harness::child::Exited {
    let path = course_harness::program!(name);
    let mut command = Command::new(path);
    command.args(args);
    ChildGuard::run_to_end(command, stdin.as_bytes(), Duration::from_secs(10))
}

#[test]
fn udp_client_no_reply_only_sends() {
    let exchange = Exchange::new();
    let receiver = Peer::new(&exchange, "receiver");
    let exited = run(
        "udp-client",
        &["--server", &receiver.addr().to_string(), "--no-reply"],
        "Hello This is UDP connection.\n",
    );
    exited.expect_code("udp-client", 0);
    assert!(exited.stdout.is_empty(), "{exited:?}");
    let (data, _) = receiver.recv().expect("nothing arrived");
    assert_eq!(data, b"Hello This is UDP connection.");
}

#[test]
fn udp_send_sends_numbered_greetings() {
    let exchange = Exchange::new();
    let receiver = Peer::new(&exchange, "receiver");
    let exited = run(
        "udp-send",
        &[
            "--server",
            &receiver.addr().to_string(),
            "--interval",
            "0",
            "--count",
            "2",
        ],
        "",
    );
    exited.expect_code("udp-send", 0);
    for n in 1..=2 {
        let (data, _) = receiver.recv().expect("a datagram is missing");
        assert_eq!(data, format!("Hello world : {n}").as_bytes());
    }
}

#[test]
fn a_zero_timeout_is_a_usage_error() {
    let exited = run("udp-client", &["--timeout", "0"], "");
    exited.expect_code("udp-client --timeout 0", 2);
    assert!(exited.stderr_text().contains("more than 0"), "{exited:?}");
}

#[test]
fn a_bind_address_may_name_localhost() {
    // Chapter 1 teaches that `localhost` names 127.0.0.1 (and ::1): the programs take it.
    let mut command = Command::new(course_harness::program!("udp-server"));
    command.args(["--bind", "localhost:0"]);
    let mut server = ChildGuard::spawn(command);
    assert!(server.listening_addr().ip().is_loopback());
    let mut command = Command::new(course_harness::program!("udp-send"));
    command.args(["--server", "localhost:9", "--count", "1", "--interval", "0"]);
    let exited = ChildGuard::run_to_end(command, b"", Duration::from_secs(10));
    assert!(
        !exited.stderr_text().contains("invalid value"),
        "--server localhost:9 should be accepted: {exited:?}"
    );
}

#[test]
fn a_port_out_of_range_is_named() {
    for (program, flag) in [
        ("udp-server", "--bind"),
        ("tcp-server", "--bind"),
        ("udp-client", "--server"),
        ("lossy-relay", "--bind"),
    ] {
        let exited = run(program, &[flag, "127.0.0.1:99999"], "");
        exited.expect_code(&format!("{program} {flag} 127.0.0.1:99999"), 2);
        assert!(
            exited.stderr_text().contains("port 99999 is out of range"),
            "{program}: {exited:?}"
        );
    }
}

#[test]
fn keygen_writes_a_key_and_refuses_to_overwrite_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.key");
    let keygen = || run("keygen", &["--out", path.to_str().unwrap()], "");
    let first = keygen();
    first.expect_code("keygen", 0);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        fernet::Fernet::new(text.trim()).is_some(),
        "not a Fernet key: {text:?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o600,
            "the key file should be readable by its owner only"
        );
    }
    let second = keygen();
    second.expect_code("keygen (a second time)", 1);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "the key must not change"
    );
}

#[test]
fn a_missing_key_file_is_a_usage_error() {
    let exited = run(
        "secure-client",
        &["--key-file", "/nonexistent/secret.key"],
        "",
    );
    exited.expect_code("secure-client", 2);
    assert!(
        exited.stderr_text().contains("cannot read the key file"),
        "{exited:?}"
    );
}

#[test]
fn udp_vs_tcp_refuses_a_loss_above_one() {
    let exited = run("udp-vs-tcp", &["--loss", "1.5"], "");
    exited.expect_code("udp-vs-tcp", 2);
    assert!(
        exited.stderr_text().contains("a probability from 0 to 1"),
        "{exited:?}"
    );
}

#[test]
fn udp_server_reports_the_receive_buffer_the_kernel_granted() {
    let mut command = std::process::Command::new(course_harness::program!("udp-server"));
    command.args(["--bind", "127.0.0.1:0", "--recv-buffer", "100000"]);
    let mut server = course_harness::ChildGuard::spawn(command);
    server.listening_addr();
    let line = server.stderr_line();
    let granted: Option<usize> = line
        .strip_prefix("receive buffer: asked for 100000 bytes, the kernel granted ")
        .and_then(|n| n.trim().parse().ok());
    assert!(granted.is_some_and(|n| n > 0), "{line:?}");
}

#[test]
fn tcp_multi_server_refuses_bad_limits_and_designs_as_usage_errors() {
    for (args, says) in [
        (&["--design", "fork"][..], "possible values"),
        (&["--max-clients", "0"][..], "--max-clients"),
        (&["--backlog", "0"][..], "--backlog"),
        (&["--idle-timeout", "0"][..], "more than 0"),
    ] {
        let exited = run("tcp-multi-server", args, "");
        exited.expect_code("tcp-multi-server", 2);
        assert!(exited.stderr_text().contains(says), "{args:?}: {exited:?}");
    }
}
