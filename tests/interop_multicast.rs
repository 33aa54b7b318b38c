//! Article B's multicast programs in Python (`tests/python/article_b_multicast_*.py`, written
//! the article's way with the interface set to 127.0.0.1 and TTL 0) and the course's
//! `multicast-send` and `multicast-recv`, in both directions, and a Python and a Rust
//! receiver on one port at once.
//!
//! Without Python 3 these tests print a note and do nothing, except under `CI=true`, where
//! that is a failure. Each test uses its own group (239.255.19.N) and a free port.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use course_harness::ChildGuard;
use course_harness::multicast::{free_port, group};
use course_harness::python::python3;

/// This file's family of groups: 239.255.19.N.
const FAMILY: u8 = 19;

fn script(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name);
    path.to_string_lossy().into_owned()
}

fn group_and_port(n: u8) -> (String, String) {
    (group(FAMILY, n).to_string(), free_port().to_string())
}

/// `multicast-recv` for three datagrams, started and joined (its `listening on` line read).
fn rust_receiver(group: &str, port: &str) -> ChildGuard {
    let mut command = Command::new(course_harness::program!("multicast-recv"));
    command.args(["--group", group, "--port", port, "--count", "3"]);
    let mut receiver = ChildGuard::spawn(command);
    receiver.listening_addr();
    receiver
}

/// Article B's Python receiver for three datagrams, started and joined.
fn python_receiver(mut python: Command, group: &str, port: &str) -> ChildGuard {
    // multicast-send is built first: the receiver waits only 10 s, and a build can take longer.
    course_harness::program!("multicast-send");
    python
        .arg(script("article_b_multicast_recv.py"))
        .args([group, port, "3"]);
    let mut receiver = ChildGuard::spawn(python);
    receiver.listening_addr();
    receiver
}

/// `multicast-send`: three datagrams, 50 ms apart; waits for it to finish.
fn rust_send(group: &str, port: &str) {
    let mut command = Command::new(course_harness::program!("multicast-send"));
    command.args(["--group", group, "--port", port, "--count", "3"]);
    command.args(["--interval", "0.05"]);
    let mut sender = ChildGuard::spawn(command);
    let exited = sender.wait_exit(Duration::from_secs(10));
    assert!(exited.status.success(), "multicast-send failed: {exited:?}");
}

/// The three lines a receiver prints, `from IP:PORT: Hello world : N`, all from 127.0.0.1.
fn assert_got_three(receiver: &mut ChildGuard) {
    for n in 1..=3 {
        let line = receiver.stdout_line();
        assert!(
            line.starts_with("from 127.0.0.1:") && line.ends_with(&format!(": Hello world : {n}")),
            "`{}` printed {line:?}, expected `from 127.0.0.1:PORT: Hello world : {n}`",
            receiver.name()
        );
    }
    let exited = receiver.wait_exit(Duration::from_secs(5));
    assert!(exited.status.success(), "{exited:?}");
}

#[test]
fn article_b_python_sender_reaches_multicast_recv() {
    let Some(mut python) = python3() else { return };
    let (group, port) = group_and_port(1);
    let mut receiver = rust_receiver(&group, &port);
    python.arg(script("article_b_multicast_send.py")).args([
        group.as_str(),
        port.as_str(),
        "3",
        "0.05",
    ]);
    let mut sender = ChildGuard::spawn(python);
    assert_got_three(&mut receiver);
    assert!(sender.wait_exit(Duration::from_secs(5)).status.success());
}

#[test]
fn multicast_send_reaches_article_b_python_receiver() {
    let Some(python) = python3() else { return };
    let (group, port) = group_and_port(2);
    let mut receiver = python_receiver(python, &group, &port);
    rust_send(&group, &port);
    assert_got_three(&mut receiver);
}

#[test]
fn a_python_and_a_rust_receiver_on_one_port_both_get_every_datagram() {
    let Some(python) = python3() else { return };
    let (group, port) = group_and_port(3);
    let mut from_python = python_receiver(python, &group, &port);
    let mut from_rust = rust_receiver(&group, &port);
    rust_send(&group, &port);
    assert_got_three(&mut from_python);
    assert_got_three(&mut from_rust);
}
