//! Behaviour of the course's programs that does not depend on learner code (so it cannot live
//! in a chapter's test file, where every test must fail on the untouched stubs).

use std::time::Duration;

use course_harness::{Exchange, Peer};

#[test]
fn udp_client_no_reply_only_sends() {
    let exchange = Exchange::new();
    let receiver = Peer::new(&exchange, "receiver");
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_udp-client"))
        .args(["--server", &receiver.addr().to_string(), "--no-reply"])
        .write_stdin("Hello This is UDP connection.\n")
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    let (data, _) = receiver.recv().expect("nothing arrived");
    assert_eq!(data, b"Hello This is UDP connection.");
}

#[test]
fn udp_send_sends_numbered_greetings() {
    let exchange = Exchange::new();
    let receiver = Peer::new(&exchange, "receiver");
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_udp-send"))
        .args([
            "--server",
            &receiver.addr().to_string(),
            "--interval",
            "0",
            "--count",
            "2",
        ])
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    for n in 1..=2 {
        let (data, _) = receiver.recv().expect("a datagram is missing");
        assert_eq!(data, format!("Hello world : {n}").as_bytes());
    }
}

#[test]
fn a_zero_timeout_is_a_usage_error() {
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_udp-client"))
        .args(["--timeout", "0"])
        .timeout(Duration::from_secs(10))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("more than 0"));
}

#[test]
fn keygen_writes_a_key_and_refuses_to_overwrite_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.key");
    let keygen = || {
        assert_cmd::Command::new(env!("CARGO_BIN_EXE_keygen"))
            .args(["--out", path.to_str().unwrap()])
            .timeout(Duration::from_secs(10))
            .output()
            .unwrap()
    };
    let first = keygen();
    assert!(first.status.success(), "{first:?}");
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
    assert_eq!(second.status.code(), Some(1), "{second:?}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "the key must not change"
    );
}

#[test]
fn a_missing_key_file_is_a_usage_error() {
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_secure-client"))
        .args(["--key-file", "/nonexistent/secret.key"])
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot read the key file"),
        "{output:?}"
    );
}

#[test]
fn tcp_multi_server_refuses_bad_limits_and_designs_as_usage_errors() {
    for (args, says) in [
        (&["--design", "fork"][..], "possible values"),
        (&["--max-clients", "0"][..], "--max-clients"),
        (&["--backlog", "0"][..], "--backlog"),
        (&["--idle-timeout", "0"][..], "more than 0"),
    ] {
        assert_cmd::Command::new(env!("CARGO_BIN_EXE_tcp-multi-server"))
            .args(args)
            .timeout(Duration::from_secs(10))
            .assert()
            .code(2)
            .stderr(predicates::str::contains(says));
    }
}
