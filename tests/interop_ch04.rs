//! Chapter 4 interop: several of article B's Python echo clients at once against
//! `tcp-multi-server`, each design. The Python files in `tests/python/` are written the way
//! the article writes them.
//!
//! Without Python 3 these tests print a note and do nothing, except under `CI=true`, where
//! that is a failure.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use course_harness::ChildGuard;
use course_harness::net::Family;
use course_harness::python::python3;
use rstest::rstest;

fn script(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name);
    path.to_string_lossy().into_owned()
}

/// Against the default design (events). The spec in tests/ch04_many_clients.rs runs every
/// design; starting Python processes is slow enough to do it once here (per family: the v6
/// case is the article's client with AF_INET6, the server on [::1]).
#[rstest]
#[case::v4(Family::V4)]
#[case::v6(Family::V6)]
fn five_article_b_python_clients_at_once_against_tcp_multi_server(#[case] family: Family) {
    if !family.usable() {
        return;
    }
    let Some(python) = python3() else { return };
    let mut server = Command::new(course_harness::program!("tcp-multi-server"));
    server.args(["--bind", &family.any_port().to_string()]);
    let mut server = ChildGuard::spawn(server);
    let addr = server.listening_addr();

    // All five connect first; then each line goes to each client in turn. A server that
    // serves one client at a time would never answer the second client's first line.
    let mut clients: Vec<ChildGuard> = (0..5)
        .map(|_| {
            let mut python_client = Command::new(python.get_program());
            python_client
                .args(python.get_args())
                .arg(script("article_b_echo_client.py"))
                .args([addr.ip().to_string(), addr.port().to_string()]);
            ChildGuard::spawn(python_client)
        })
        .collect();
    for round in 0..3 {
        for (i, client) in clients.iter_mut().enumerate() {
            let line = format!("client {i}, line {round}: こんにちは");
            client.write_stdin(&format!("{line}\n"));
            assert_eq!(client.stdout_line(), line, "the echo to Python client {i}");
        }
    }
    for client in &mut clients {
        client.write_stdin("\n"); // article B's client stops at an empty line
        let exited = client.wait_exit_while_running(&mut server, Duration::from_secs(10));
        assert!(exited.status.success(), "{exited:?}");
    }
    server.assert_running();
}
