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
