//! A chat cookie is valid for up to 60 s, and the same cookie datagram sent back again
//! would prove the address again: a member who left could rejoin with it, and a cookie
//! that wrapped a message would send the message again. chat-server takes each cookie
//! once. `COURSE_ATTACK_PROGRAMS=DIR` runs the attack against the programs in DIR.

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use course_harness::ChildGuard;

fn program(name: &str) -> PathBuf {
    match std::env::var_os("COURSE_ATTACK_PROGRAMS") {
        Some(dir) => PathBuf::from(dir).join(name),
        None => course_harness::program!(name),
    }
}

/// What the server answers within `wait`, if anything (its first bytes).
fn answer(socket: &UdpSocket, wait: Duration) -> Option<Vec<u8>> {
    socket.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 4096];
    socket.recv(&mut buf).ok().map(|len| buf[..len].to_vec())
}

#[test]
fn a_cookie_sent_back_again_after_a_leave_does_not_rejoin() {
    let mut command = Command::new(program("chat-server"));
    command.args(["--bind", "127.0.0.1:0"]);
    let mut server = ChildGuard::spawn(command);
    let addr = server.listening_addr();
    let alice = UdpSocket::bind("127.0.8.1:0").unwrap();
    alice.connect(addr).unwrap();
    alice.send(b"chat/1 join 1763798400000 alice\n").unwrap();
    let cookie = answer(&alice, Duration::from_secs(2)).expect("a cookie");
    assert!(cookie.starts_with(b"chat/1 cookie "), "{cookie:?}");
    alice.send(&cookie).unwrap();
    assert_eq!(
        answer(&alice, Duration::from_secs(2)).as_deref(),
        Some(&b"chat/1 welcome"[..])
    );
    server.stdout_line_ending_with("* alice joined");
    alice.send(b"chat/1 leave 1 alice\n").unwrap();
    server.stdout_line_ending_with("* alice left");
    alice.send(&cookie).unwrap(); // the same cookie again
    let again = answer(&alice, Duration::from_millis(700));
    assert!(
        again.is_none(),
        "a cookie already used made alice a member again: {:?}",
        again.map(|a| String::from_utf8_lossy(&a).into_owned())
    );
    server.assert_running();
}
