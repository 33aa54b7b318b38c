//! Fernet between Rust and Python's `cryptography`: the same key file, the same tokens.
//! Without Python 3 and `cryptography` these tests print a note and do nothing, except under
//! `CI=true`, where that is a failure (`.ci/run` installs `tests/requirements.txt`).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use course_harness::ChildGuard;
use course_harness::net::Family;
use course_harness::python::python3_with;
use rstest::rstest;
use socket_course::ch07_security::{load_key, open, seal};

const KEY: &str = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";

fn script(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn key_file(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("secret.key");
    std::fs::write(&path, format!("{KEY}\n")).unwrap();
    path.to_string_lossy().into_owned()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Runs `fernet_tool.py ACTION KEYFILE` with `input`; returns its stdout.
fn fernet_tool(mut python: Command, action: &str, key: &str, input: &[u8]) -> Vec<u8> {
    python.args([script("fernet_tool.py").as_str(), action, key]);
    let mut tool = ChildGuard::spawn_with_stdout(python, std::process::Stdio::piped());
    tool.write_stdin_bytes(input);
    tool.close_stdin();
    let exited = tool.wait_exit(Duration::from_secs(10));
    assert!(
        exited.status.success(),
        "fernet_tool.py {action}: {exited:?}"
    );
    exited.stdout.join("\n").into_bytes()
}

#[test]
fn a_token_made_by_python_opens_in_rust() {
    let Some(python) = python3_with("cryptography") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let token = fernet_tool(
        python,
        "seal",
        &key_file(&dir),
        "こんにちは from Python".as_bytes(),
    );
    let token = String::from_utf8(token).unwrap();
    let key = load_key(KEY).expect("the key");
    let opened = open(&key, &token, Duration::from_secs(60), now());
    assert_eq!(opened, Ok("こんにちは from Python".as_bytes().to_vec()));
}

#[test]
fn a_token_made_by_rust_opens_in_python() {
    let Some(python) = python3_with("cryptography") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let token = seal(
        &load_key(KEY).expect("the key"),
        "こんにちは from Rust".as_bytes(),
        now(),
    );
    let opened = fernet_tool(python, "open", &key_file(&dir), token.as_bytes());
    assert_eq!(String::from_utf8_lossy(&opened), "こんにちは from Rust");
}

// The v6 case: the article's client with AF_INET6, secure-server on [::1].
#[rstest]
#[case::v4(Family::V4)]
#[case::v6(Family::V6)]
fn article_c_python_client_talks_to_secure_server(#[case] family: Family) {
    if !family.usable() {
        return;
    }
    let Some(mut python) = python3_with("cryptography") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(&dir);
    let mut server = Command::new(course_harness::program!("secure-server"));
    server.args(["--bind", &family.any_port().to_string(), "--key-file", &key]);
    let mut server = ChildGuard::spawn(server);
    let addr = server.listening_addr();
    python.args([
        script("article_c_secure_client.py"),
        key,
        addr.ip().to_string(),
        addr.port().to_string(),
    ]);
    let mut client = ChildGuard::spawn(python);
    client.write_stdin("hello, encrypted\nq\n");
    client.close_stdin();
    let exited = client.wait_exit_while_running(&mut server, Duration::from_secs(10));
    assert!(exited.status.success(), "{exited:?}");
    assert_eq!(exited.stdout, ["Success to receive message"]);
    assert!(server.stdout_line().ends_with(": hello, encrypted"));
}
