//! Look-alike names: a chat shows members by name, so a name that looks like another
//! member's (Cyrillic `Аlice`, `BiII` for `Bill`, `タナ力` with the Han 力 for `タナカ`) or
//! that hides characters (zero-width, bidi marks, tags, fillers, stacked combining marks)
//! lets one member pass for another. chat-server must refuse each of them, and still admit
//! Japanese names (`田中さん`, `タナカ`, `Taro田中`).
//! `COURSE_ATTACK_PROGRAMS=DIR` runs the attack against the programs in DIR.

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use course_harness::ChildGuard;

mod support;

fn program(name: &str) -> PathBuf {
    match std::env::var_os("COURSE_ATTACK_PROGRAMS") {
        Some(dir) => PathBuf::from(dir).join(name),
        None => course_harness::program!(name),
    }
}

/// Joins as `name` from a socket of its own (kept open, so the member stays).
fn join_as(addr: SocketAddr, name: &str) -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let join = format!("chat/1 join 1763798400000 {name}\n");
    support::chat_join(&socket, addr, join.as_bytes());
    socket
}

#[test]
fn look_alike_and_invisible_names_are_refused_and_japanese_names_admitted() {
    let mut command = Command::new(program("chat-server"));
    command.args(["--bind", "127.0.0.1:0"]);
    let mut server = ChildGuard::spawn(command);
    let addr = server.listening_addr();
    let mut members = Vec::new();
    for name in ["Bill", "Alice", "田中さん", "タナカ", "Taro田中"] {
        members.push(join_as(addr, name));
        server.stdout_line_ending_with(&format!("* {name} joined"));
    }
    let stacked = format!("x{}", "\u{300}".repeat(31));
    let member_addr = members[0].local_addr().unwrap();
    let fake_address = format!("{member_addr}\u{200b}");
    let bad = [
        "BiII",
        "Аlice",
        "タナ力",
        "Alice\u{200b}",
        "Al\u{200d}ice",
        "\u{feff}Bob",
        "Bo\u{61c}b",
        "Bo\u{2028}b",
        "Bob\u{e0041}",
        "\u{3164}",
        &stacked,
        &fake_address,
    ];
    // Each look-alike joins, then a marker with a plain name. The server handles datagrams
    // in order, so once the marker's cookie is here the look-alike's join was handled: its
    // cookie, if it got one, is waiting, and is sent back before the marker's. The next line
    // the server prints must then be the marker's.
    let mut admitted = Vec::new();
    let mut buf = [0u8; 4096];
    for (i, name) in bad.iter().enumerate() {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let join = format!("chat/1 join 1763798400000 {name}\n");
        socket.send_to(join.as_bytes(), addr).unwrap();
        // From another address: the server takes at most 16 members from one.
        let marker = UdpSocket::bind("127.0.0.2:0").unwrap();
        marker
            .set_read_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        let name_of_marker = format!("marker{i}");
        let marker_join = format!("chat/1 join 1763798400000 {name_of_marker}\n");
        marker.send_to(marker_join.as_bytes(), addr).unwrap();
        let marker_cookie = marker.recv(&mut buf).map(|len| buf[..len].to_vec());
        socket.set_nonblocking(true).unwrap();
        if let Ok(len) = socket.recv(&mut buf)
            && buf[..len].starts_with(b"chat/1 cookie ")
        {
            socket.send_to(&buf[..len], addr).unwrap();
        }
        if let Ok(cookie) = marker_cookie {
            marker.send_to(&cookie, addr).unwrap();
        }
        members.push(socket);
        members.push(marker);
        loop {
            let line = server.stdout_line();
            if line.ends_with(&format!("* {name_of_marker} joined")) {
                break;
            }
            admitted.push(format!("{:?}: {line:?}", name.escape_debug().to_string()));
        }
    }
    eprintln!(
        "{} look-alike or invisible names sent; admitted: {}",
        bad.len(),
        admitted.len()
    );
    for line in &admitted {
        eprintln!("  admitted {line}");
    }
    server.assert_running();
    assert!(
        admitted.is_empty(),
        "look-alike names admitted: {admitted:?}"
    );
}
