//! Self-tests of `ChildGuard`. The child process is this very test binary, started again with
//! `HARNESS_CHILD_ROLE` set, so the tests need no other program and run the same on Linux,
//! macOS and Windows.

use std::io::BufRead;
use std::net::UdpSocket;
use std::process::Command;
use std::time::{Duration, Instant};

use course_harness::child::{NoLine, Stream};
use course_harness::deadline::panic_text;
use course_harness::{ChildGuard, Exchange, Peer};

const ROLE: &str = "HARNESS_CHILD_ROLE";

/// The child's side. Run by `cargo test` without `HARNESS_CHILD_ROLE`, it has nothing to do and
/// returns; the tests below start this binary again with the variable set and only this test
/// selected, and then it plays the program under test:
/// - `server`: binds a UDP socket, prints `listening on ADDR` on stderr, then echoes each stdin
///   line as `echo: LINE` on stdout until stdin ends, and says `bye` on stderr.
/// - `crash`: prints one line on stderr and exits with code 3 at once.
/// - `chatty`: prints `starting up` on stderr instead of a `listening on` line, then waits.
#[test]
fn child_role() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    match role.as_str() {
        "server" => {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            eprintln!("listening on {}", socket.local_addr().unwrap());
            for line in std::io::stdin().lock().lines() {
                println!("echo: {}", line.unwrap());
            }
            eprintln!("bye");
            std::process::exit(0);
        }
        "crash" => {
            eprintln!("about to fail");
            std::process::exit(3);
        }
        "chatty" => {
            eprintln!("starting up");
            std::thread::sleep(Duration::from_secs(60));
        }
        other => panic!("unknown role {other}"),
    }
}

fn spawn(role: &str) -> ChildGuard {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "child_role",
            "--exact",
            "--nocapture",
            "--quiet",
            "--test-threads=1",
        ])
        .env(ROLE, role);
    ChildGuard::spawn(command)
}

/// The next stdout line that the child wrote (the test runner adds lines of its own).
fn next_echo(child: &mut ChildGuard) -> String {
    loop {
        let line = child.stdout_line();
        if line.starts_with("echo: ") {
            return line;
        }
    }
}

#[test]
fn the_listening_line_gives_the_real_address() {
    let mut child = spawn("server");
    let addr = child.listening_addr();
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    // The child really holds that port: binding it again fails.
    assert!(
        UdpSocket::bind(addr).is_err(),
        "{addr} should be in use by the child"
    );
}

#[test]
fn stdin_lines_reach_the_child_and_its_output_comes_back() {
    let mut child = spawn("server");
    child.listening_addr();
    child.write_stdin("hello\n");
    assert_eq!(next_echo(&mut child), "echo: hello");
    child.write_stdin("こんにちは\n");
    assert_eq!(next_echo(&mut child), "echo: こんにちは");
    child.close_stdin();
    let exited = child.wait_exit(Duration::from_secs(5));
    assert!(exited.status.success(), "{exited:?}");
    assert_eq!(exited.stderr, ["bye"]);
}

#[test]
fn a_child_that_exits_early_is_noticed_at_once() {
    let mut child = spawn("crash");
    let started = Instant::now();
    let text = panic_text(|| {
        child.listening_addr();
    });
    // The startup deadline is 5 s; noticing the exit must not wait for it.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        text.contains("should first print `listening on IP:PORT`"),
        "{text}"
    );
    assert!(
        text.contains("about to fail"),
        "the child's stderr should be shown: {text}"
    );
}

#[test]
fn a_closed_stream_reports_the_exit_status() {
    let mut child = spawn("crash");
    assert_eq!(
        child.next_line(Stream::Stderr, Duration::from_secs(5)),
        Ok("about to fail".to_string())
    );
    let text = panic_text(|| {
        child.stderr_line();
    });
    assert!(text.contains("closed its stderr"), "{text}");
    assert!(text.contains('3'), "the exit code should be shown: {text}");
}

#[test]
fn a_wrong_first_line_is_reported_with_what_was_printed() {
    let mut child = spawn("chatty");
    let text = panic_text(|| {
        child.listening_addr();
    });
    assert!(text.contains("\"starting up\""), "{text}");
}

#[test]
fn a_silent_stream_times_out() {
    let mut child = spawn("chatty");
    child.stderr_line();
    let started = Instant::now();
    assert_eq!(
        child.next_line(Stream::Stderr, Duration::from_millis(300)),
        Err(NoLine::TimedOut)
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn dropping_the_guard_kills_and_reaps_the_child() {
    let mut child = spawn("server");
    let addr = child.listening_addr();
    assert!(
        UdpSocket::bind(addr).is_err(),
        "{addr} should be in use by the child"
    );
    drop(child);
    // Killed and reaped: the child's socket is closed, so its port is free again.
    UdpSocket::bind(addr).unwrap_or_else(|e| panic!("{addr} is still in use after drop: {e}"));
}

#[test]
fn waiting_for_a_datagram_notices_a_crashed_program_at_once() {
    let mut child = spawn("crash");
    let peer = Peer::new(&Exchange::new(), "test");
    let started = Instant::now();
    let text = panic_text(|| {
        let _ = peer.recv_while_running(&mut child);
    });
    // The socket's read timeout is 5 s; the crash must be reported long before that.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        text.contains("exited early") && text.contains("about to fail"),
        "{text}"
    );
}

#[test]
fn a_program_still_running_at_its_time_limit_is_reported_in_words() {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["child_role", "--exact", "--nocapture", "--quiet"])
        .env(ROLE, "chatty");
    let started = Instant::now();
    let text = panic_text(|| {
        ChildGuard::run_to_end(command, b"", Duration::from_millis(300));
    });
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        text.contains("was still running after") && text.contains("starting up"),
        "{text}"
    );
    assert!(!text.contains("left:"), "{text}");
}

#[test]
fn an_unexpected_exit_code_is_explained() {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["child_role", "--exact", "--nocapture", "--quiet"])
        .env(ROLE, "crash");
    let exited = ChildGuard::run_to_end(command, b"", Duration::from_secs(10));
    let text = panic_text(|| exited.expect_code("crash", 0));
    assert!(
        text.contains("exit code 0") && text.contains("got:      exit code 3"),
        "{text}"
    );
}
