//! The articles' Python programs talk to the course's Rust programs, and the other way round.
//! The Python files in `tests/python/` are written the way the articles write them.
//!
//! Without Python 3 these tests print a note and do nothing, except under `CI=true`, where
//! that is a failure.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use course_harness::ChildGuard;
use course_harness::child::Exited;
use course_harness::net::{self, Family};
use course_harness::python::python3;
use rstest::rstest;

fn script(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name);
    path.to_string_lossy().into_owned()
}

/// Starts a server program on the loopback address of `family`, port 0.
fn start_on(mut command: Command, family: Family) -> (ChildGuard, SocketAddr) {
    command.args(["--bind", &family.any_port().to_string()]);
    let mut server = ChildGuard::spawn(command);
    let addr = server.listening_addr();
    (server, addr)
}

/// Runs a client with `stdin` to its end while `server` must stay up; at most 10 s.
fn run_client(client: Command, stdin: &str, server: &mut ChildGuard) -> Exited {
    let mut client = ChildGuard::spawn(client);
    client.write_stdin(stdin);
    client.close_stdin();
    let exited = client.wait_exit_while_running(server, Duration::from_secs(10));
    assert!(
        exited.status.success(),
        "{} failed: {exited:?}",
        client.name()
    );
    exited
}

/// Whether the tests of `family` can run here: IPv6 needs `::1` (see `ipv6_or_skip`).
fn family_here(family: Family) -> bool {
    family == Family::V4 || net::ipv6_or_skip()
}

// The Python programs pick AF_INET6 when given an IPv6 address (::1): the articles' programs
// changed in their address family only.
#[rstest]
#[case::v4(Family::V4)]
#[case::v6(Family::V6)]
fn article_a_python_client_talks_to_udp_server(#[case] family: Family) {
    if !family_here(family) {
        return;
    }
    let Some(mut python) = python3() else { return };
    let server = Command::new(course_harness::program!("udp-server"));
    let (mut server, addr) = start_on(server, family);
    python
        .arg(script("article_a_udp_client.py"))
        .args([addr.ip().to_string(), addr.port().to_string()]);
    let exited = run_client(python, "hello\nこんにちは\nend\n", &mut server);
    assert_eq!(
        exited.stdout,
        ["Success to receive message", "Success to receive message"]
    );
    assert!(server.stdout_line().ends_with(": hello"));
    assert!(server.stdout_line().ends_with(": こんにちは"));
}

#[rstest]
#[case::v4(Family::V4)]
#[case::v6(Family::V6)]
fn udp_client_waits_for_a_python_server_that_sleeps_before_replying(#[case] family: Family) {
    if !family_here(family) {
        return;
    }
    let Some(mut python) = python3() else { return };
    python.arg(script("article_a_udp_server.py"));
    let (mut server, addr) = start_python_server(python, family);
    // The Python server sleeps 1 s before each reply; udp-client waits up to 5 s.
    let mut client = Command::new(course_harness::program!("udp-client"));
    client.args(["--server", &addr.to_string()]);
    let exited = run_client(client, "hello from Rust\n", &mut server);
    assert_eq!(exited.stdout, ["Success to receive message"]);
    assert_eq!(server.stdout_line(), "hello from Rust");
}

/// The Python server takes HOST PORT arguments instead of `--bind`.
fn start_python_server(mut python: Command, family: Family) -> (ChildGuard, SocketAddr) {
    python.args([family.loopback().to_string().as_str(), "0"]);
    let mut server = ChildGuard::spawn(python);
    let addr = server.listening_addr();
    (server, addr)
}

// The v6 case is chapter 3's `python3 tests/python/article_d_tcp_client.py ::1 4000` against
// `tcp-server --bind '[::1]:4000'` (no prefix).
#[rstest]
#[case::v4(Family::V4, "Receive: ")]
#[case::v6(Family::V6, "")]
fn article_d_python_client_gets_the_prefixed_reply(#[case] family: Family, #[case] prefix: &str) {
    if !family_here(family) {
        return;
    }
    let Some(mut python) = python3() else { return };
    let mut tcp_server = Command::new(course_harness::program!("tcp-server"));
    tcp_server.args(["--prefix", prefix]);
    let (mut server, addr) = start_on(tcp_server, family);
    python
        .arg(script("article_d_tcp_client.py"))
        .args([addr.ip().to_string(), addr.port().to_string()]);
    let exited = run_client(python, "", &mut server);
    assert_eq!(exited.stdout, [format!("{prefix}Hello TCP")]);
}

#[rstest]
#[case::v4(Family::V4)]
#[case::v6(Family::V6)]
fn article_b_python_echo_client_against_tcp_server(#[case] family: Family) {
    if !family_here(family) {
        return;
    }
    let Some(mut python) = python3() else { return };
    let server = Command::new(course_harness::program!("tcp-server"));
    let (mut server, addr) = start_on(server, family);
    python
        .arg(script("article_b_echo_client.py"))
        .args([addr.ip().to_string(), addr.port().to_string()]);
    let exited = run_client(python, "Hello world\nsecond\n\nnever sent\n", &mut server);
    assert_eq!(exited.stdout, ["Hello world", "second"]);
    let printed = [server.stdout_line(), server.stdout_line()];
    assert!(
        printed[0].contains("Hello world") && printed[1].contains("second"),
        "{printed:?}"
    );
}

#[rstest]
#[case::v4(Family::V4)]
#[case::v6(Family::V6)]
fn tcp_client_talks_to_the_python_select_server(#[case] family: Family) {
    if !family_here(family) {
        return;
    }
    let Some(mut python) = python3() else { return };
    python.arg(script("article_b_select_server.py"));
    let (mut server, addr) = start_python_server(python, family);
    let mut client = Command::new(course_harness::program!("tcp-client"));
    client.args(["--server", &addr.to_string()]);
    let exited = run_client(
        client,
        "hello from Rust
",
        &mut server,
    );
    assert_eq!(exited.stdout.concat(), "hello from Rust");
    assert_eq!(server.stdout_line(), "hello from Rust");
}

// The v6 case: the article's client with AF_INET6, chat-server on [::1].
#[rstest]
#[case::v4(Family::V4, "127.0.0.1:")]
#[case::v6(Family::V6, "[::1]:")]
fn article_c_python_client_chats_with_chat_client(#[case] family: Family, #[case] shown_as: &str) {
    if !family_here(family) {
        return;
    }
    let Some(mut python) = python3() else { return };
    // Article C's client knows no cookie: the server admits its plain text with --plain-ok.
    let mut command = Command::new(course_harness::program!("chat-server"));
    command.arg("--plain-ok");
    let (mut server, addr) = start_on(command, family);
    let mut taro = Command::new(course_harness::program!("chat-client"));
    taro.args(["--server", &addr.to_string(), "--name", "taro"]);
    let mut taro = ChildGuard::spawn(taro);
    server.stdout_line_ending_with("* taro joined");

    python
        .arg(script("article_c_chat_client.py"))
        .args([addr.ip().to_string(), addr.port().to_string()]);
    let mut python = ChildGuard::spawn(python);
    python.write_stdin("hello from python\n");
    // chat-client shows plain text under the sender's address.
    let shown = taro.stdout_line_ending_with(": hello from python");
    assert!(shown.contains(shown_as), "{shown}");
    // And the Python client, which knows no format, gets a plain line back.
    taro.write_stdin("hi python\n");
    assert_eq!(
        python.stdout_line_ending_with("hi python"),
        "taro: hi python"
    );

    python.write_stdin("q\n");
    assert!(python.wait_exit(Duration::from_secs(5)).status.success());
    taro.close_stdin();
    assert!(taro.wait_exit(Duration::from_secs(5)).status.success());
}
